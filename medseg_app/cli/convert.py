"""``medseg convert --image IMAGE --seg INPUT --out OUTPUT [--format F] [--force]``: structures from one format to
another on IMAGE's grid, with a read-back check of DICOM output.

INPUT is a label map (NIfTI / NRRD / MetaImage, names and colours from its JSON sidecar; when on another grid, as a
PET-grid AI result going onto the planning CT, carried onto IMAGE's grid by the shape-keeping transfer of
core/mask_transfer.py — each label's signed distance interpolated linearly, its volume kept — or, with ``--resample
nearest``, by the old nearest-neighbour resample), an RTSTRUCT or a SEG (recognised by reading the file's SOP
Class / Modality, not its name). OUTPUT's format is taken from its extension (.nii, .nii.gz, .nrrd, .stl, .obj, .ply) unless --format
says otherwise; DICOM output (rtstruct, seg) needs --format and IMAGE a DICOM series. After writing an RTSTRUCT
or SEG the file is read back, rasterised and compared with what was written (core/export_verification.py); the
table is printed. Exit status: 0 done; 1 written but the verification failed (the file is kept, the sentence
says which structure); 2 bad input (one sentence, nothing written).

``--anonymise`` (label maps and meshes meant to leave the hospital): structure names lose any patient
identifier, a mesh sidecar's Frame of Reference UID is replaced by a fresh one, and an OUTPUT whose file name holds
the patient's name or ID is refused. RTSTRUCT and SEG cannot be anonymised: they must reference the source study.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.errors import LoadError, MedSegError  # noqa: F401 - LoadError: what read_structures raises
from ..core.mask_transfer import METHODS
from ..core.privacy import contains_identifiers
from .common import MedSegParser
from ..io.structure_files import RTSTRUCT_SOP_CLASS, SEG_SOP_CLASS, input_kind, read_structures  # noqa: F401

FORMATS = ("nifti", "nrrd", "rtstruct", "seg", "stl", "obj", "ply")
EXTENSIONS = {".nii.gz": "nifti", ".nii": "nifti", ".nrrd": "nrrd", ".nhdr": "nrrd", ".stl": "stl", ".obj": "obj",
              ".ply": "ply"}
EXIT_VERIFICATION_FAILED = 1


class ConvertError(MedSegError):
    """A conversion that cannot be done as asked (another Frame of Reference, an empty structure, ...)."""


def output_format(out: Path, requested: str | None) -> str:
    if requested:
        return requested
    for suffix, fmt in EXTENSIONS.items():
        if out.name.lower().endswith(suffix):
            return fmt
    raise ConvertError(f"{out}: the output format cannot be told from the extension; say --format "
                       "(nifti, nrrd, rtstruct, seg, stl, obj or ply).")


def _verify_dicom(out: Path, fmt: str, segmentation, volume) -> int:
    from ..core.export_verification import format_verification
    from ..io.structure_files import verify_written

    rows = verify_written(out, fmt, segmentation, volume)
    print(format_verification(rows))
    failed = [r for r in rows if not r["passed"]]
    if failed:
        print(f"medseg: {out}: verification failed for {failed[0]['name']!r} ({failed[0]['reason']}); "
              "the file was written but does not match the structures.", file=sys.stderr)
        return EXIT_VERIFICATION_FAILED
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from ..core.segmentation import Segmentation
    from ..io import load_volume

    out = Path(args.out)
    fmt = output_format(out, args.format)
    anonymise = getattr(args, "anonymise", False)
    if anonymise and fmt in ("rtstruct", "seg"):
        raise ConvertError(f"--anonymise cannot be used with {fmt.upper()} output, which must reference the "
                           "source study's patient and UIDs; write a label map or meshes instead.")
    volume = load_volume(args.image, series=args.series)
    if anonymise and contains_identifiers(out.name):
        raise ConvertError("the output file name holds the patient's name or ID; choose another name for an "
                           "anonymised export.")
    if fmt in ("rtstruct", "seg") and not volume.identity.sop_instance_uids:
        raise ConvertError(f"{args.image}: {fmt.upper()} output needs IMAGE to be a DICOM series, not an image file.")
    structures = read_structures(Path(args.seg), volume, method=args.resample)
    from ..render.mesh_export import export_targets

    existing = [p for p in export_targets(out, fmt, [n for n, _, _ in structures], anonymise) if p.exists()]
    if existing and not args.force:
        raise ConvertError(f"{existing[0]} already exists; use --force to overwrite it.")
    if not out.parent.is_dir():
        raise ConvertError(f"{out.parent} is not a folder.")
    segmentation = Segmentation(volume.geometry, undo_budget_bytes=0)
    for name, colour, mask in structures:
        dense = mask if hasattr(mask, "any") else mask.read(_whole(mask))
        segmentation.add_segment(name, colour=colour, mask=dense)
    if fmt in ("nifti", "nrrd"):
        from ..io.label_map import save_label_map

        save_label_map(segmentation, out, anonymise=anonymise)
    elif fmt == "seg":
        from ..io.seg_io import write_seg

        write_seg(segmentation, volume, out)
    elif fmt == "rtstruct":
        try:
            from ..io.rtstruct_export import write_rtstruct
        except ImportError:
            raise ConvertError("RTSTRUCT output is not available in this build.") from None
        write_rtstruct(segmentation, volume, out)
    else:
        from ..render.mesh_export import write_mesh

        written = write_mesh(segmentation, volume, out, fmt=fmt, anonymise=anonymise)
        print("\n".join(str(p) for p in written))
        return 0
    print(f"wrote {out}")
    if fmt in ("rtstruct", "seg"):
        return _verify_dicom(out, fmt, segmentation, volume)
    return 0


def _whole(mask):
    from ..core.box import Box

    return Box.whole(mask.shape)


def convert_parser() -> argparse.ArgumentParser:
    p = MedSegParser(prog="medseg convert", description="Convert structures between label maps, "
                                "RTSTRUCT, SEG and meshes on IMAGE's grid; DICOM output is read back and verified.")
    p.add_argument("--image", required=True, help="DICOM folder (needed for rtstruct / seg output) or image file")
    p.add_argument("--seg", required=True, metavar="INPUT", help="label map (NIfTI / NRRD), RTSTRUCT or SEG file")
    p.add_argument("--out", required=True, metavar="OUTPUT", help="file to write")
    p.add_argument("--format", choices=FORMATS, help="output format (default: from OUTPUT's extension)")
    p.add_argument("--series", help="SeriesInstanceUID to load when IMAGE holds several")
    p.add_argument("--resample", choices=METHODS, default="distance",
                   help="how a label map on another grid reaches IMAGE's: distance (default; signed distance, "
                        "linear, keeps volume and shape), fraction (linear of the mask, >= 0.5) or nearest "
                        "(nearest neighbour, blocky; for comparison)")
    p.add_argument("--force", action="store_true", help="overwrite OUTPUT (and its sidecar) if it exists")
    p.add_argument("--anonymise", "--anonymize", action="store_true",
                   help="for files meant to leave the hospital (label maps and meshes): take the patient's name, "
                        "ID and birth date out of structure names and replace UIDs with fresh ones; not supported "
                        "for rtstruct / seg, which must reference the source study")
    return p


COMMANDS = {"convert": (convert_parser, cmd_convert)}
