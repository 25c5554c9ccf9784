"""Print the README's quality table: ``evaluate --sweep`` on each test portrait.

Each portrait's sweep (every tested channel moved alone) is rendered with the built-in pack
and read back with the landmark model; a row holds the correlation of each measurement with
its channel (eyes: of closure). Run: ``.venv/bin/python tools/quality_table.py``.
"""

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # a tool run from anywhere; the engine is imported as `core`

from core.quality.evaluate import FOLLOWS, evaluate_take, render_sweep  # noqa: E402

PORTRAITS = {
    "astronaut (photo, 512)": ROOT / "samples" / "astronaut.png",
    "sad (photo, 256)": ROOT / "tests" / "data" / "portraits" / "sad.png",
    "happy (photo, 256)": ROOT / "tests" / "data" / "portraits" / "happy.png",
    "people_0 (photo, 474)": ROOT / "tests" / "data" / "portraits" / "people_0.png",
    "full_body_1 (photo, 1200x800)": ROOT / "tests" / "data" / "portraits" / "full_body_1.png",
    "art_1 (painting, 512)": ROOT / "tests" / "data" / "portraits" / "art_1.png",
    "art_16 (painting, 1440)": ROOT / "tests" / "data" / "portraits" / "art_16.png",
}


def main() -> None:
    keys = list(FOLLOWS)
    print("| portrait | " + " | ".join(keys) + " | detected | background | jitter |")
    print("| --- " * (len(keys) + 4) + "|")
    with tempfile.TemporaryDirectory() as tmp:
        for k, (label, path) in enumerate(PORTRAITS.items()):
            report = evaluate_take(render_sweep(path, Path(tmp) / f"sweep{k}"))
            cells = [
                f"{report['follows'].get(key, {}).get('correlation', float('nan')):.3f}"
                for key in keys
            ]
            print(
                f"| {label} | "
                + " | ".join(cells)
                + f" | {report['detected']}/{report['frames']}"
                + f" | {report['background_change_grey_levels']}"
                + f" | {report['jitter_face_widths']} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
