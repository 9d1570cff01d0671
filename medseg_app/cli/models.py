"""``medseg models``, ``medseg segment`` and ``medseg train``: AI auto-segmentation from the command line.

``medseg segment IMAGE --model NAME [--box x0,y0,z0,x1,y1,z1] --out OUT.nii.gz [--device auto|cpu|cuda]
[--trust] [--force] [--on REFERENCE [--transform REG.dcm|transform.tfm]]`` writes the label map on IMAGE's grid (with its JSON sidecar) and prints a
JSON summary. The box corners are patient coordinates in mm (LPS), as the viewer's status bar shows them.
With ``--on REFERENCE`` (another series of the patient in IMAGE's Frame of Reference, e.g. the planning CT under a
PET model's PET) the model still runs on IMAGE, but its probabilities are resampled linearly onto REFERENCE's grid
before the arg-max and the label map is written on that grid, ready for planning; ``--transform`` gives the
registration of IMAGE to REFERENCE for series in different Frames of Reference.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..core.errors import CommandError
from ..core.prompt_box import parse_box
from .common import MedSegParser, add_model_run_options, trusted_bundle


def _models_table(rows: list[dict]) -> str:
    lines = []
    for r in rows:
        acc = r["accuracy"]
        dice = acc.get("mean_dice_jittered_box", acc.get("mean_dice"))
        spacing = "×".join(f"{v:g}" for v in r["input_spacing_mm"]) + " mm" if r["input_spacing_mm"] else "from box"
        lines.append(f"{r['name']}\n  network: {r['network']}   modality: {r['modality'] or '-'}   "
                     f"labels: {', '.join(r['labels'])}\n  input spacing: {spacing}   box needed: "
                     f"{'yes' if r['needs_box'] else 'no'}   needs trust: {'yes' if r['needs_trust'] else 'no'}"
                     + (f"\n  reported mean Dice: {dice}" if dice is not None else ""))
    return "\n".join(lines) if lines else "no models found"


def cmd_models(args: argparse.Namespace) -> int:
    from ..ai.bundle import discover_bundles, model_dirs

    bundles, problems = discover_bundles()
    rows = [b.summary() for b in bundles]
    if args.json:
        print(json.dumps({"models": rows, "problems": problems, "searched": [str(d) for d in model_dirs()]}))
    else:
        print(_models_table(rows))
        for problem in problems:
            print(f"skipped: {problem}", file=sys.stderr)
    return 0


def cmd_segment(args: argparse.Namespace) -> int:
    from ..ai.inference import Predictor
    from ..core.segmentation import Segmentation
    from ..io import load_volume
    from ..io.label_map import save_label_map, sidecar_path

    out = Path(args.out)
    existing = [p for p in (out, sidecar_path(out)) if p.exists()]
    if existing and not args.force:
        raise CommandError(f"{existing[0]} already exists; use --force to overwrite it.")
    bundle = trusted_bundle(args)
    box = parse_box(args.box) if args.box else None
    if bundle.needs_box and box is None:
        raise CommandError(f"model {bundle.name} needs --box x0,y0,z0,x1,y1,z1 (mm, LPS) around the lesion.")
    predictor = Predictor(bundle, device=args.device, trusted=True if args.trust else None)
    volume = load_volume(args.image, series=args.series)
    grid_volume, onto = volume, {}
    if args.on:
        grid_volume = load_volume(args.on, series=args.on_series)
        onto = {"reference": grid_volume.geometry, "transform": _layer_transform(grid_volume, volume, args)}
    result = predictor.segment(volume.array, volume.geometry, box, **onto)
    segmentation = Segmentation(grid_volume.geometry, undo_budget_bytes=0)
    for label in result.labels:
        segment = segmentation.add_segment(label.name, source="AI model")
        segmentation.set_properties(segment.id, source_detail=bundle.name)
        segmentation.modify(segment.id, label.box, label.mask, "set")
    out.parent.mkdir(parents=True, exist_ok=True)
    save_label_map(segmentation, out)
    summary = result.summary(grid_volume.geometry)
    summary["out"] = str(out)
    summary["grid"] = str(args.on or args.image)
    print(json.dumps(summary))
    return 0


def _layer_transform(reference, volume, args):
    """The transform reference → IMAGE: identity for one Frame of Reference; the study refuses another patient or
    no overlap, and another Frame of Reference needs a registration first (an image file, which names no Frame of
    Reference, is taken to share the reference's scanner coordinates, as the user asked)."""
    from ..core.study import Study

    if args.transform:  # a registration result: it says where IMAGE lies, whatever the Frames of Reference
        from ..io.spatial_registration import read_registration

        transform = read_registration(args.transform, reference, volume)
        return Study(reference).add_layer(volume, transform=transform).transform
    layer = Study(reference).add_layer(volume)
    frames = (reference.identity.frame_of_reference_uid, volume.identity.frame_of_reference_uid)
    if not layer.registered and all(frames):
        raise CommandError(f"{args.image} and {args.on} are in different Frames of Reference: register them first "
                           "and give the result with --transform (the label map would land in the wrong place).")
    return layer.transform


def cmd_train(args: argparse.Namespace) -> int:
    from ..ai.model_card import train_and_publish
    from ..ai.training import TrainingSettings

    settings = TrainingSettings(network=args.network, steps=args.steps, batch_size=args.batch_size, seed=args.seed,
                                held_out=args.held_out, threads=args.threads)
    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise CommandError(f"{out} already exists; use --force to replace the model there.")
    metrics = train_and_publish(Path(args.data), out, settings, jitters=args.jitters)
    print(json.dumps({k: v for k, v in metrics.items() if k != "per_case_dice_jittered_box"}))
    return 0


def models_parser() -> argparse.ArgumentParser:
    p = MedSegParser(prog="medseg models", description="List the AI models (MONAI bundles) MedSeg finds.")
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


def segment_parser() -> argparse.ArgumentParser:
    p = MedSegParser(prog="medseg segment", description="Segment IMAGE with an AI model; writes a label "
                                "map on IMAGE's grid (or REFERENCE's, with --on) and prints a JSON summary.")
    p.add_argument("image", help="DICOM folder or image file")
    p.add_argument("--box", metavar="x0,y0,z0,x1,y1,z1", help="the box a box-prompted model segments in: two opposite "
                   "corners in patient mm (LPS, as the viewer's status bar shows them), comma-separated, no spaces; "
                   "negative values may come first (--box -120.5,34,-800,-60,90,-740)")
    p.add_argument("--out", required=True, help="label map to write (.nii.gz, .nii, .nrrd, .mha)")
    add_model_run_options(p)
    p.add_argument("--series", help="SeriesInstanceUID to load when IMAGE holds several")
    p.add_argument("--on", metavar="REFERENCE", help="write the label map on REFERENCE's grid (a series of the same "
                   "patient in IMAGE's Frame of Reference, e.g. the planning CT): the model runs on IMAGE and its "
                   "probabilities are resampled linearly onto REFERENCE before the arg-max")
    p.add_argument("--on-series", help="SeriesInstanceUID to load when REFERENCE holds several")
    p.add_argument("--transform", metavar="REG.dcm|transform.tfm", help="with --on: the registration of IMAGE to "
                   "REFERENCE (a DICOM Spatial Registration or an ITK transform file, fixed = REFERENCE, as "
                   "'medseg register' writes them), for series in different Frames of Reference")
    p.add_argument("--force", action="store_true", help="overwrite OUT (and its sidecar) if it exists")
    return p


def train_parser() -> argparse.ArgumentParser:
    p = MedSegParser(prog="medseg train", description="Train a box-prompted lesion model on labelled "
                                "cases (<DATA>/<case>/PET_image.nii.gz + PET_mask.nii.gz) and write it as a MONAI "
                                "bundle with its model card.")
    p.add_argument("--network", choices=["unet", "vnet"], required=True)
    p.add_argument("--data", required=True, help="folder of cases")
    p.add_argument("--out", required=True, help="bundle folder to write, e.g. models/pet_gtv_box_unet")
    p.add_argument("--steps", type=int, default=1200)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--seed", type=int, default=20261122)
    p.add_argument("--held-out", type=int, default=10, help="cases kept out of training for the model card")
    p.add_argument("--jitters", type=int, default=10, help="jittered boxes per held-out case")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--force", action="store_true")
    return p


COMMANDS = {"models": (models_parser, cmd_models), "segment": (segment_parser, cmd_segment),
            "train": (train_parser, cmd_train)}
