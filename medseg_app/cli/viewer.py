"""``medseg [PATH] [--series UID] [--layer PATH2 ...] [--allow-other-patient] [--screenshot OUT.png]``: open PATH
(default: the bundled sample) in the viewer, with each ``--layer`` fused over it."""

from __future__ import annotations

import argparse

from ..resources import sample_ct_dir
from .common import MedSegParser


def cmd_open(args: argparse.Namespace) -> int:
    from ..ui.app import run  # Qt loads only here, so `medseg info` starts without it

    return run(args.path or str(sample_ct_dir()), series=args.series, screenshot=args.screenshot,
               layers=args.layer or (), allow_other_patient=args.allow_other_patient)


def open_parser() -> argparse.ArgumentParser:
    p = MedSegParser(prog="medseg", description="MedSeg: segment CT, MR and PET studies. "
                                "Commands: 'medseg [PATH]' opens PATH (or the bundled sample); "
                                "'medseg info PATH' describes a volume; "
                                "'medseg stats IMAGE --seg LABELS' measures segments.")
    p.add_argument("path", nargs="?", help="image to open (default: the bundled sample study)")
    p.add_argument("--series", help="SeriesInstanceUID to open when PATH holds several")
    p.add_argument("--screenshot", metavar="OUT.png",
                   help="open, wait until every view is drawn, save the window to OUT.png and quit")
    p.add_argument("--layer", action="append", metavar="PATH2",
                   help="another series (folder or DICOM file) or image file of the same patient, fused over PATH "
                        "as an image layer (repeat for more)")
    p.add_argument("--allow-other-patient", action="store_true",
                   help="open a --layer whose Patient ID differs from PATH's (refused otherwise)")
    return p
