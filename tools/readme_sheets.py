"""Write the README's contact sheets and evaluation plot into docs/.

docs/contact_sheet_photo.png (the bundled NASA portrait), docs/contact_sheet_painting.png
(tests/data/portraits/art_1.png, SadTalker's examples, Apache-2.0) and
docs/evaluate_painting.png (``evaluate --sweep`` on the painting).
"""

import shutil
import tempfile
from pathlib import Path

from core.quality.contact_sheet import write_contact_sheet
from core.quality.evaluate import evaluate_take, render_sweep

ROOT = Path(__file__).resolve().parents[1]
PAINTING = ROOT / "tests" / "data" / "portraits" / "art_1.png"


def main() -> None:
    docs = ROOT / "docs"
    write_contact_sheet(
        ROOT / "samples" / "astronaut.png", docs / "contact_sheet_photo.png", tile=144
    )
    if not PAINTING.exists():
        raise SystemExit(f"{PAINTING} is missing: restore it from git")
    write_contact_sheet(PAINTING, docs / "contact_sheet_painting.png", tile=144)
    with tempfile.TemporaryDirectory() as tmp:
        take = render_sweep(PAINTING, Path(tmp) / "sweep")
        evaluate_take(take)
        shutil.copy(take / "evaluate.png", docs / "evaluate_painting.png")


if __name__ == "__main__":
    main()
