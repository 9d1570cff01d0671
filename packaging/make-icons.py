"""Render MedSeg's icon (resources/icons/medseg.svg) to the PNGs beside it (48, 128 and 256 pixels), with Qt's own
SVG renderer, so no ImageMagick or Inkscape is needed; with --ico / --icns also the Windows and macOS icon files
(Pillow). The PNGs are committed; run this again after editing the SVG:

    .venv/bin/python packaging/make-icons.py [--ico OUT.ico] [--icns OUT.icns]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZES = (48, 128, 256)


def render_png(svg: Path, size: int, out: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make-icons: {svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    if not image.save(str(out)):
        raise SystemExit(f"make-icons: {out} could not be written")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ico", type=Path, help="also write a Windows .ico (16-256 px) here")
    parser.add_argument("--icns", type=Path, help="also write a macOS .icns here")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    svg = ICONS / "medseg.svg"
    for size in SIZES:
        render_png(svg, size, ICONS / f"medseg-{size}.png")
        print(ICONS / f"medseg-{size}.png")
    if args.ico or args.icns:
        from PIL import Image

        large = ICONS / "medseg-1024.png"  # a temporary large rendering for the multi-size containers
        render_png(svg, 1024, large)
        try:
            image = Image.open(large)
            if args.ico:
                image.save(args.ico, sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
                print(args.ico)
            if args.icns:
                image.save(args.icns)
                print(args.icns)
        finally:
            large.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
