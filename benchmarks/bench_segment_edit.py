"""Segment editing benchmarks on a synthetic 512×512×300 CT-like volume (0.8 × 0.8 × 1.0 mm voxels).

``brush_dab_apply``: seconds to apply one 10 mm sphere dab (PaintTool.dab: footprint, Segmentation.modify, undo patch,
change notification) at the edge of a 40 mm lesion, a new place each time; the target is 16 ms for the dab
*including the redraw*: this measures the apply only, and the UI adds the redraw of the three slice views.
``undo_memory_mb``: the undo history size (Segmentation.undo_stack.nbytes, MB = 10⁶ bytes) after 100 brush
strokes (5 mm discs along an organ's edge, 20 mouse moves each, every fourth one erasing) and 10 region grows
on the same volume; target < 50 MB. The region grows are RegionGrowingTool's connected threshold (mean ± 40 HU)
from a seed in each of ten noisy ellipsoidal "organs" (≈ 190 000 voxels each), each into a new segment.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.registry import Case, benchmark

SHAPE = (300, 512, 512)  # (k, j, i)
SPACING_IJK = (0.8, 0.8, 1.0)
ORGAN_RADII_MM = (40, 30, 25)  # (i, j, k) semi-axes


def _context(image: np.ndarray):
    from medseg_app.core.geometry import ImageGeometry
    from medseg_app.core.segmentation import Segmentation
    from medseg_app.core.volume import Volume
    from medseg_app.tools.base import EditContext

    geometry = ImageGeometry(size=SHAPE[::-1], spacing=SPACING_IJK, origin=(0, 0, 0))
    return EditContext(Volume(image, geometry), Segmentation(geometry))


def _organ_centres() -> list[tuple[int, int, int]]:
    """Ten organ centres (k, j, i), apart from each other."""
    return [(60 + 180 * (n % 2), 110 + 100 * ((n // 2) % 3), 130 + 250 * (n // 6) + 40 * (n % 2)) for n in range(10)]


def _organ_box(centre):
    from medseg_app.core.box import Box

    reach = np.ceil(np.asarray(ORGAN_RADII_MM)[::-1] / np.asarray(SPACING_IJK)[::-1]).astype(int) + 8
    return Box(tuple(int(c - r) for c, r in zip(centre, reach)),
               tuple(int(c + r + 1) for c, r in zip(centre, reach))).intersection(Box.whole(SHAPE))


def _synthetic_ct() -> np.ndarray:
    """Water (0 HU) with ten noisy ellipsoidal organs at 60 + 15 n HU (σ = 20 HU)."""
    rng = np.random.default_rng(0)
    image = np.zeros(SHAPE, np.int16)
    for n, centre in enumerate(_organ_centres()):
        box = _organ_box(centre)
        grids = np.ogrid[box.slices]
        inside = sum(((g - c) * s / r) ** 2 for g, c, s, r in
                     zip(grids, centre, SPACING_IJK[::-1], ORGAN_RADII_MM[::-1])) <= 1
        noise = rng.normal(0, 20, box.shape)
        image[box.slices] = np.where(inside, 60 + 15 * n, 0) + noise.astype(np.int16)
    return image


def _region_grow(context, seed_kji, lower: float, upper: float, name: str) -> None:
    """RegionGrowingTool (connected threshold) from one seed into a new segment: two undo steps (add, grow)."""
    from medseg_app.tools.region_growing import RegionGrowingTool

    context.segment_id = context.segmentation.add_segment(name).id
    tool = RegionGrowingTool(lower=lower, upper=upper)
    tool.activate(context)
    tool.preview(seeds=[tuple(int(v) for v in seed_kji[::-1])])
    tool.apply()


def _brush_strokes(context, strokes: int = 100, moves: int = 20) -> None:
    """Corrections along the organs' edges, each on its organ's segment: add outside, erase inside."""
    from medseg_app.tools.paint import PaintTool

    rng = np.random.default_rng(1)
    radii_vox = np.asarray(ORGAN_RADII_MM) / np.asarray(SPACING_IJK)  # (i, j, k)
    for n in range(strokes):
        context.segment_id = n % 10 + 1
        tool = PaintTool(mode="erase" if n % 4 == 3 else "add", diameter_mm=5.0, shape="disc")
        tool.activate(context)
        k, j, i = _organ_centres()[n % 10]
        angle = rng.uniform(0, 2 * np.pi)
        position = np.array([i + radii_vox[0] * np.cos(angle), j + radii_vox[1] * np.sin(angle),
                             k + rng.integers(-10, 10)])
        tool.begin_stroke(position, slice_axis=2)
        for _ in range(moves):
            angle += 0.05
            position[:2] = i + radii_vox[0] * np.cos(angle), j + radii_vox[1] * np.sin(angle)
            tool.stroke_to(position)
        tool.end_stroke()


@benchmark("brush_dab_apply")
def brush_dab(data: Path):
    """One 10 mm sphere brush dab applied on 512×512×300 (apply only; the UI adds the redraw); target ≤ 16 ms."""
    from medseg_app.core.box import Box
    from medseg_app.tools.paint import PaintTool

    context = _context(np.zeros(SHAPE, np.int16))
    seg = context.segmentation
    lesion = seg.add_segment("Lesion")
    centre = np.array([256, 256, 150])  # (i, j, k)
    reach = np.array([26, 26, 21])
    box = Box(tuple(int(v) for v in (centre - reach)[::-1]), tuple(int(v) for v in (centre + reach + 1)[::-1]))
    grids = np.ogrid[box.slices]
    ball = sum(((g - c) * s) ** 2 for g, c, s in zip(grids, centre[::-1], SPACING_IJK[::-1])) <= 20.0 ** 2
    seg.modify(lesion.id, box, ball, "add")
    tool = PaintTool(mode="add", diameter_mm=10.0, shape="sphere")
    tool.activate(context)
    angles = iter(np.linspace(0, 2 * np.pi, 1000, endpoint=False) * 7.3)

    def dab():
        angle = next(angles)  # a new place on the lesion's edge each time: every dab changes voxels
        offset = 20.0 * np.array([np.cos(angle), np.sin(angle), 0.3 * np.sin(3 * angle)])
        return tool.dab(centre + offset / np.asarray(SPACING_IJK), slice_axis=2)

    yield Case(ours=dab)


@benchmark("undo_memory_mb")
def undo_memory_mb(data: Path):
    """Undo history after 100 brush strokes and 10 region grows on 512×512×300, MB; target < 50 MB."""
    image = _synthetic_ct()

    def history_mb() -> float:
        context = _context(image)
        for n, centre in enumerate(_organ_centres()):
            mean = 60 + 15 * n
            _region_grow(context, centre, mean - 40, mean + 40, f"Organ_{n + 1}")
        _brush_strokes(context)
        steps = len(context.segmentation.undo_stack._undo)
        if steps != 120:
            raise AssertionError(f"expected 120 undo steps (10 segments added, 10 grows, 100 strokes), got {steps}")
        return context.segmentation.undo_stack.nbytes / 1e6

    yield Case(ours=history_mb, unit="MB", timed=False)
