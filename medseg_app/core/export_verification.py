"""Check an exported structure set against what was exported: read the file back, rasterise, compare.

One row per original structure (matched by name) with Dice, volume change (re-read − original, in % of the
original), centroid shift (mm, LPS) and the original volume (mL). A structure passes when

- it was read back at all (a missing or empty structure fails with Dice 0);
- the centroid moved at most half a voxel, taken as half the *largest* voxel spacing (``max(spacing) / 2``: on
  a 1 × 1 × 3 mm CT that is 1.5 mm; stricter than half the voxel diagonal, looser than half the in-plane pixel);
- for structures over 10 mL (``LARGE_ML``): Dice ≥ 0.98 and |volume change| ≤ 2 %. Smaller structures are held
  to the centroid criterion only, because one voxel ring of a contour round trip is a large fraction of them.
"""

from __future__ import annotations

import numpy as np

from .geometry import ImageGeometry
from .overlap_metrics import MaskLike, dice_and_jaccard, mask_box_and_crop

MIN_DICE = 0.98
MAX_VOLUME_CHANGE_PERCENT = 2.0
LARGE_ML = 10.0


def centroid_mm(mask: MaskLike, geometry: ImageGeometry) -> np.ndarray | None:
    """Centroid of the voxel centres in LPS mm; None for an empty mask."""
    box, crop = mask_box_and_crop(mask)
    kji = np.argwhere(crop)
    if len(kji) == 0:
        return None
    mean_kji = kji.mean(axis=0) + np.asarray(box.start, float)
    return geometry.index_to_patient(mean_kji[::-1])


def _count(mask: MaskLike) -> int:
    return int(np.count_nonzero(mask_box_and_crop(mask)[1]))


def verify_one(name: str, original: MaskLike, reread: MaskLike | None, geometry: ImageGeometry) -> dict:
    voxel_ml = geometry.voxel_volume_mm3 / 1000.0
    n_original = _count(original)
    row = {"name": name, "volume_ml": n_original * voxel_ml, "dice": 0.0, "volume_change_percent": None,
           "centroid_shift_mm": None, "passed": False, "reason": ""}
    if reread is None or _count(reread) == 0:
        row["reason"] = "missing from the file" if reread is None else "empty when read back"
        return row
    n_reread = _count(reread)
    dice, _ = dice_and_jaccard(original, reread)
    row["dice"] = float(dice or 0.0)
    row["volume_change_percent"] = 100.0 * (n_reread - n_original) / n_original if n_original else None
    a, b = centroid_mm(original, geometry), centroid_mm(reread, geometry)
    row["centroid_shift_mm"] = None if a is None else float(np.linalg.norm(b - a))
    tolerance = float(geometry.spacing.max()) / 2.0
    problems = []
    if n_original == 0:
        problems.append("the original is empty")
    if row["centroid_shift_mm"] is not None and row["centroid_shift_mm"] > tolerance:
        problems.append(f"centroid moved more than {tolerance:.2f} mm")
    if row["volume_ml"] > LARGE_ML:
        if row["dice"] < MIN_DICE:
            problems.append(f"Dice below {MIN_DICE}")
        if abs(row["volume_change_percent"]) > MAX_VOLUME_CHANGE_PERCENT:
            problems.append(f"volume changed more than {MAX_VOLUME_CHANGE_PERCENT:g} %")
    row["passed"] = not problems
    row["reason"] = "; ".join(problems)
    return row


def verify(original: dict[str, MaskLike], reread: dict[str, MaskLike], geometry: ImageGeometry) -> list[dict]:
    """One row per original structure, matched to the re-read one by name; see the module docstring."""
    return [verify_one(name, mask, reread.get(name), geometry) for name, mask in original.items()]


def format_verification(rows: list[dict]) -> str:
    """A plain-text table: name, volume, Dice, volume change, centroid shift, PASS / FAIL (and why)."""
    header = ["name", "volume_ml", "dice", "volume_change_%", "centroid_shift_mm", "result"]
    cells = [header]
    for r in rows:
        change, shift = r["volume_change_percent"], r["centroid_shift_mm"]
        cells.append([r["name"], f"{r['volume_ml']:.3f}", f"{r['dice']:.4f}",
                      "-" if change is None else f"{change:+.2f}", "-" if shift is None else f"{shift:.3f}",
                      "PASS" if r["passed"] else f"FAIL ({r['reason']})"])
    widths = [max(len(line[c]) for line in cells) for c in range(len(header))]
    return "\n".join("  ".join(t.ljust(w) if c in (0, 5) else t.rjust(w) for c, (t, w) in
                               enumerate(zip(line, widths))).rstrip() for line in cells)
