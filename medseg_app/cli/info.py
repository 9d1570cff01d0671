"""``medseg info PATH [--series UID] [--volume N] [--json]`` describes a volume (or lists a folder's series);
``medseg stats IMAGE --seg SEGMENTATION [--ref REFERENCE] [--layer PET ...] [--json]`` measures each label (and its
overlap with a reference) as the Statistics dock does; each ``--layer`` image joins IMAGE's study as an overlay and
adds its columns per label (``PET_suv_max``, ``PET_suv_peak``, ``PET_suv_mean``, ``PET_mtv_ml``, ``PET_tlg`` for a
PET in SUV; ``MR_mean`` … for others), read on the layer's grid as core/layer_statistics.py explains.
"""

from __future__ import annotations

import argparse
import json

from .common import MedSegParser


def _format_volume(info: dict) -> str:
    def vec(values, fmt="{:.6g}"):
        return "[" + ", ".join(fmt.format(v) for v in values) + "]"

    lines = [
        f"source:     {info['source']}",
        f"modality:   {info['modality'] or '-'}    units: {info['units'] or 'none'}    dtype: {info['dtype']}",
        f"size:       {vec(info['size'], '{}')}  (i, j, k)",
        f"spacing:    {vec(info['spacing'])} mm",
        f"origin:     {vec(info['origin'])} mm (LPS)",
        f"direction:  {vec(info['direction'], '{:.6f}')}",
        f"range:      {vec(info['range'])}",
        f"series uid: {info['series_uid'] or '-'}",
    ]
    lines += [f"warning:    {w}" for w in info["warnings"]]
    return "\n".join(lines)


def _format_listing(listing: dict) -> str:
    lines = [f"{len(listing['series'])} image series (choose one with --series UID):"]
    for s in listing["series"]:
        size = "×".join(str(v) for v in s["size"]) if s.get("size") else "?"
        lines.append(f"  {s['uid']}  {s['modality']:<3} {size:<14} {s['slices']:>4} slices  {s['description']}")
    if listing["objects"]:
        lines.append("other DICOM objects:")
        for o in listing["objects"]:
            lines.append(f"  {o['uid']}  {o['kind']:<8} {o['files']} file(s)  {o['description']}")
    return "\n".join(lines)


def cmd_info(args: argparse.Namespace) -> int:
    from ..io import load_volume
    from ..io.load import list_series

    if args.series is None:
        listing = list_series(args.path)
        if len(listing["series"]) > 1:
            print(json.dumps(listing) if args.json else _format_listing(listing))
            return 0
    volume = load_volume(args.path, series=args.series, volume_index=args.volume)
    info = volume.info()
    if args.json:
        print(json.dumps(info))
    else:
        print(_format_volume(info))
    return 0


STATS_TABLE_COLUMNS = [("label", "{}"), ("name", "{}"), ("voxels", "{}"), ("volume_ml", "{:.3f}"),
                       ("mesh_volume_ml", "{:.3f}"), ("surface_mm2", "{:.1f}"), ("mean", "{:.4g}"), ("std", "{:.4g}"),
                       ("min", "{:.4g}"), ("max", "{:.4g}"), ("median", "{:.4g}"), ("suv_max", "{:.3f}"),
                       ("suv_peak", "{:.3f}"), ("dice", "{:.4f}"), ("jaccard", "{:.4f}"), ("hd_mm", "{:.2f}"),
                       ("hd95_mm", "{:.2f}"), ("assd_mm", "{:.2f}"), ("volume_diff_ml", "{:.3f}")]


def _layer_columns(rows: list[dict]) -> list[tuple[str, str]]:
    from ..core.layer_statistics import INTENSITY_KEYS, PET_KEYS

    known = {key for key, _ in STATS_TABLE_COLUMNS}
    found = dict.fromkeys(key for row in rows for key in row if key not in known and "_" in key
                          and any(key.endswith("_" + k) for k in PET_KEYS + INTENSITY_KEYS))
    return [(key, "{:.4g}") for key in found]


def _format_stats_table(rows: list[dict]) -> str:
    columns = [(key, fmt) for key, fmt in STATS_TABLE_COLUMNS if any(key in row for row in rows)]
    columns += _layer_columns(rows)
    cells = [[key for key, _ in columns]]
    for row in rows:
        cells.append(["-" if row.get(key) is None else fmt.format(row[key]) for key, fmt in columns])
    widths = [max(len(line[c]) for line in cells) for c in range(len(columns))]
    return "\n".join("  ".join(text.rjust(w) if c != 1 else text.ljust(w) for c, (text, w) in
                                enumerate(zip(line, widths))) for line in cells)


def cmd_stats(args: argparse.Namespace) -> int:
    from ..core.overlap_metrics import compare_masks
    from ..core.segmentation import Segmentation
    from ..io import load_volume
    from ..io.label_resampling import label_masks_on_grid
    from ..render.statistics_report import segment_rows  # VTK loads only here

    volume = load_volume(args.image, series=args.series)
    labels = label_masks_on_grid(args.seg, volume.geometry)
    segmentation = Segmentation(volume.geometry, undo_budget_bytes=0)
    ids = [segmentation.add_segment(name, mask=mask).id for _, name, mask in labels]
    rows = segment_rows(segmentation, volume, ids)
    for row, (value, _, _) in zip(rows, labels):
        row["label"] = value
    if args.ref:
        references = {value: mask for value, _, mask in label_masks_on_grid(args.ref, volume.geometry)}
        spacing_kji = volume.geometry.spacing[::-1]
        for row, segment_id in zip(rows, ids):
            if row["label"] in references:
                metrics = compare_masks(segmentation.segments[segment_id].mask, references[row["label"]], spacing_kji)
                row.update({k: metrics[k] for k in ("dice", "jaccard", "hd_mm", "hd95_mm", "assd_mm",
                                                     "volume_diff_ml")})
    if args.layer:
        _add_layer_columns(args, volume, segmentation, ids, rows)
    print(json.dumps(rows) if args.json else _format_stats_table(rows))
    return 0


def _add_layer_columns(args, volume, segmentation, ids, rows) -> None:
    import sys

    from ..core.layer_statistics import study_layer_row
    from ..core.study import Study
    from ..io import load_volume

    study = Study(volume)
    layers = [study.add_layer(load_volume(path)) for path in args.layer]
    for layer, path in zip(layers, args.layer):
        if not layer.registered:
            print(f"medseg stats: {path} is in another Frame of Reference and not registered; its values are "
                  "read as if both scanners shared coordinates.", file=sys.stderr)
    for row, segment_id in zip(rows, ids):
        row.update(study_layer_row(segmentation.segments[segment_id].mask, study, [layer.id for layer in layers]))


def stats_parser() -> argparse.ArgumentParser:
    p = MedSegParser(prog="medseg stats", description="Statistics of each label of SEGMENTATION on IMAGE "
                                "(and its overlap with REFERENCE); label maps on other grids are resampled "
                                "onto IMAGE's by the shape-keeping transfer (core/mask_transfer.py).")
    p.add_argument("image", help="DICOM folder or image file the statistics are measured on")
    p.add_argument("--seg", required=True, metavar="SEGMENTATION", help="label map (NIfTI, NRRD, MetaImage)")
    p.add_argument("--ref", metavar="REFERENCE", help="reference label map: adds Dice, Jaccard, HD, HD95, ASSD")
    p.add_argument("--series", help="SeriesInstanceUID to load when IMAGE holds several")
    p.add_argument("--layer", action="append", metavar="LAYER",
                   help="another image of the patient (a PET, an MR; DICOM folder or file), repeatable: adds its "
                        "statistics per label (SUVmax, SUVpeak, SUVmean, MTV, TLG for a PET in SUV)")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per label")
    return p


def info_parser() -> argparse.ArgumentParser:
    p = MedSegParser(prog="medseg info", description="Describe the volume (or list the series) at PATH.")
    p.add_argument("path", help="DICOM folder, DICOM file, DICOMDIR, NIfTI, NRRD or MetaImage file")
    p.add_argument("--series", help="SeriesInstanceUID (or stack key) to load when PATH holds several")
    p.add_argument("--volume", type=int, default=0, help="volume of a 4-D file (0-based)")
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


COMMANDS = {"info": (info_parser, cmd_info), "stats": (stats_parser, cmd_stats)}
