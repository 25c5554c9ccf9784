"""Write docs/demo_frames.png: a strip of frames from the demo take (run `make demo` first)."""

from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    frames = sorted((ROOT / "out" / "demo" / "frames").glob("frame_*.png"))
    if not frames:
        raise SystemExit("no demo frames: run `make demo` first")
    picks = np.linspace(0, len(frames) - 1, 6).round().astype(int)
    tiles = []
    for i in picks:
        image = cv2.imread(str(frames[i]))[10:330, 70:390]
        cv2.putText(
            image,
            f"frame {i + 1}",
            (8, 22),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.6,
            (255, 255, 255),
            2,
            cv2.LINE_AA,
        )
        tiles.append(image)
    sheet = np.hstack(tiles)
    sheet = cv2.resize(
        sheet, (sheet.shape[1] * 3 // 4, sheet.shape[0] * 3 // 4), interpolation=cv2.INTER_AREA
    )
    (ROOT / "docs").mkdir(exist_ok=True)
    cv2.imwrite(str(ROOT / "docs" / "demo_frames.png"), sheet)


if __name__ == "__main__":
    main()
