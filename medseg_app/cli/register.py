"""``medseg register FIXED MOVING --out REG.dcm|transform.tfm [--affine] [--box x0,y0,z0,x1,y1,z1] [--init ...]``:
registers MOVING to FIXED (rigid, or affine with --affine) by Mattes mutual information (core/registration.py),
prints the transform (translation in mm and rotation in degrees of MOVING as seen in FIXED, about FIXED's centre,
and the 4×4 matrix MOVING → FIXED, as the DICOM REG stores it) and the metric at the start and at the end, and
writes a DICOM Spatial Registration object (.dcm; both must be DICOM series) or an ITK transform file (.tfm).

--box restricts the metric to a box on FIXED, two opposite corners in LPS mm (negative numbers as they are).
--init: header (the scanners' coordinates, default), centres (image centres aligned) or moments.
Exit status: 0 written; 1 the registration ended worse than it started (nothing written, the sentence says so);
2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .common import MedSegParser

INITIALISATIONS = {"header": "current", "centres": "geometry", "moments": "moments"}
EXIT_DIVERGED = 1


def format_transform(transform, centre) -> str:
    from ..core.rigid_parameters import rigid_parameters

    params = rigid_parameters(transform, centre)
    rows = "\n".join("  " + " ".join(f"{v:12.6f}" for v in row) for row in transform.layer_to_reference)
    return (f"translation: {', '.join(f'{v:.2f}' for v in params.translation_mm)} mm (x, y, z; LPS)\n"
            f"rotation:    {', '.join(f'{v:.2f}' for v in params.rotation_deg)} degrees (about x, y, z, at "
            f"{', '.join(f'{v:.1f}' for v in centre)} mm)\n"
            f"matrix (moving → fixed):\n{rows}")


def cmd_register(args: argparse.Namespace) -> int:
    from ..core.errors import CommandError
    from ..core.prompt_box import parse_box
    from ..core.registration import RegistrationSettings, register
    from ..core.rigid_parameters import reference_centre
    from ..io import load_volume
    from ..io.spatial_registration import write_registration

    out = Path(args.out)
    if out.suffix.lower() not in (".dcm", ".tfm"):
        raise CommandError(f"--out {out.name}: write a DICOM registration (.dcm) or an ITK transform (.tfm).")
    if out.exists() and not args.force:
        raise CommandError(f"{out} exists; choose another name or add --force.")
    box = np.asarray(parse_box(args.box)) if args.box else None
    fixed = load_volume(args.fixed, series=args.fixed_series)
    moving = load_volume(args.moving, series=args.moving_series)
    settings = RegistrationSettings(kind="affine" if args.affine else "rigid",
                                    initialisation=INITIALISATIONS[args.init])
    result = register(fixed, moving, settings, box_lps=box)
    centre = reference_centre(fixed.geometry)
    print(format_transform(result.transform, centre))
    print(f"metric (Mattes MI, lower is better): start {result.metric_start:.5f}, final {result.metric_final:.5f}")
    if result.kept_start:
        print(f"medseg: {result.message} Nothing was written.", file=sys.stderr)
        return EXIT_DIVERGED
    write_registration(out, fixed, moving, result.transform)
    print(f"{result.message} Written: {out}")
    return 0


def register_parser() -> argparse.ArgumentParser:
    p = MedSegParser(prog="medseg register", description="Register MOVING to FIXED by mutual information and write "
                                                         "the transform as a DICOM REG (.dcm) or ITK (.tfm) file.")
    p.add_argument("fixed", metavar="FIXED", help="the reference image (DICOM folder or image file)")
    p.add_argument("moving", metavar="MOVING", help="the image to register to it")
    p.add_argument("--out", required=True, metavar="REG.dcm|transform.tfm", help="file to write")
    p.add_argument("--affine", action="store_true", help="12 degrees of freedom (default: rigid, 6)")
    p.add_argument("--box", metavar="x0,y0,z0,x1,y1,z1", help="register on this box of FIXED only (LPS mm)")
    p.add_argument("--init", choices=tuple(INITIALISATIONS), default="header",
                   help="starting alignment: header (scanner coordinates), centres or moments")
    p.add_argument("--fixed-series", help="SeriesInstanceUID in FIXED when it holds several")
    p.add_argument("--moving-series", help="SeriesInstanceUID in MOVING when it holds several")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    return p


COMMANDS = {"register": (register_parser, cmd_register)}
