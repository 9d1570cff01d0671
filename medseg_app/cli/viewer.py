"""``medseg [PATH] [--series UID] [--screenshot OUT.png]``: open PATH (default: the bundled sample) in the viewer."""

from __future__ import annotations

import argparse

from ..resources import sample_ct_dir
from .common import MedSegParser


def cmd_open(args: argparse.Namespace) -> int:
    from ..ui.app import run  # Qt loads only here, so `medseg info` starts without it

    return run(args.path or str(sample_ct_dir()), series=args.series, screenshot=args.screenshot)


def open_parser() -> argparse.ArgumentParser:
    p = MedSegParser(prog="medseg", description="MedSeg: segment CT, MR and PET studies. "
                                "Commands: 'medseg [PATH]' opens PATH (or the bundled sample); "
                                "'medseg info PATH' describes a volume; "
                                "'medseg stats IMAGE --seg LABELS' measures segments.")
    p.add_argument("path", nargs="?", help="image to open (default: the bundled sample study)")
    p.add_argument("--series", help="SeriesInstanceUID to open when PATH holds several")
    p.add_argument("--screenshot", metavar="OUT.png",
                   help="open, wait until every view is drawn, save the window to OUT.png and quit")
    return p
