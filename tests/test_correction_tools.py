"""Correction tools (islands, fill holes, margin, smoothing, logical operators) on sparse masks: millimetre-true
on anisotropic voxels, one undo step per apply that restores the exact arrays, edit options honoured."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage

from conftest import SAMPLE
from medseg_app.core.geometry import ImageGeometry
from medseg_app.core.segmentation import EditOptions, Segmentation
from medseg_app.core.sitk_bridge import geometry_from_sitk
from medseg_app.core.volume import Volume
from medseg_app.tools.base import EditContext
from medseg_app.tools.fill_holes import FillHolesTool
from medseg_app.tools.islands import IslandsTool
from medseg_app.tools.logical import LogicalTool
from medseg_app.tools.margin import MarginTool
from medseg_app.tools.mask_crops import kernel_radius_voxels
from medseg_app.tools.smoothing import SmoothingTool

SHAPE = (24, 60, 70)  # (k, j, i)
SPACING_IJK = (0.8, 0.8, 2.5)


def _context(mask=None, spacing=SPACING_IJK, image=None, shape=SHAPE) -> EditContext:
    geometry = ImageGeometry(size=shape[::-1], spacing=spacing, origin=(0, 0, 0))
    seg = Segmentation(geometry)
    seg.add_segment("A", mask=mask)
    seg.undo_stack.clear()
    image = np.zeros(shape, np.int16) if image is None else image
    return EditContext(Volume(image, geometry), seg, segment_id=1)


def _ellipsoid_mm(centre_kji, radius_mm, spacing_ijk=SPACING_IJK, shape=SHAPE):
    grids = np.ogrid[tuple(slice(0, n) for n in shape)]
    spacing = np.asarray(spacing_ijk)[::-1]
    return sum(((g - c) * s) ** 2 for g, c, s in zip(grids, centre_kji, spacing)) <= radius_mm ** 2


def _apply(cls, context, **inputs):
    values = {k: v for k, v in inputs.items() if k != "index"}
    tool = cls(**values)
    tool.activate(context)
    tool.preview(**({"index": inputs["index"]} if "index" in inputs else {}))
    tool.apply()
    return context.segmentation.segments[context.segment_id].mask.to_dense()


@pytest.fixture(scope="module")
def gtv():
    image = sitk.ReadImage(str(SAMPLE / "CT" / "nifti" / "mask" / "mask.nii.gz"))
    return sitk.GetArrayFromImage(image) > 0, geometry_from_sitk(image)


@pytest.mark.parametrize("margin_mm", [5.0, -3.0])
def test_margin_matches_euclidean_distance_map_on_the_real_anisotropic_gtv(gtv, margin_mm):
    mask, geometry = gtv
    spacing = geometry.spacing[::-1]
    assert spacing[0] > 3 * spacing[1]  # 3.27 mm slices, 0.98 mm pixels
    seg = Segmentation(geometry)
    seg.add_segment("GTV", mask=mask)
    context = EditContext(Volume(np.zeros(mask.shape, np.int16), geometry), seg, segment_id=1)
    result = _apply(MarginTool, context, margin_mm=margin_mm)
    if margin_mm > 0:
        distance = ndimage.distance_transform_edt(~mask, sampling=spacing)
        reference = distance <= margin_mm
    else:
        distance = ndimage.distance_transform_edt(mask, sampling=spacing)
        reference = distance > -margin_mm
    differs = result != reference
    # Within one voxel: any voxel that differs lies within one (largest) voxel size of the margin's surface.
    assert np.all(np.abs(distance[differs] - abs(margin_mm)) <= spacing.max())
    assert differs.sum() <= 1e-3 * reference.sum()
    assert abs(result.sum() - mask.sum()) > 0.1 * mask.sum()  # it did grow / shrink
    seg.undo()
    np.testing.assert_array_equal(seg.segments[1].mask.to_dense(), mask)


def test_margin_grows_further_along_fine_axes_in_voxels():
    mask = np.zeros(SHAPE, bool)
    mask[12, 30, 35] = True
    grown = _apply(MarginTool, _context(mask), margin_mm=5.0)
    assert grown[12, 30, 35 - 6: 35 + 7].all() and not grown[12, 30, 35 + 7]  # 6 × 0.8 mm ≤ 5 < 7 × 0.8
    assert grown[10:15, 30, 35].all() and not grown[9, 30, 35]  # 2 × 2.5 mm = 5


def test_islands_remove_small_by_volume_in_mm3_keep_largest_and_keep_selected():
    voxel_mm3 = np.prod(SPACING_IJK)  # 1.6 mm³
    big = np.zeros(SHAPE, bool)
    big[2:12, 5:25, 5:25] = True  # 4000 voxels = 6400 mm³
    medium = np.zeros(SHAPE, bool)
    medium[15:20, 40:50, 40:50] = True  # 500 voxels = 800 mm³
    small = np.zeros(SHAPE, bool)
    small[20:22, 50:55, 5:10] = True  # 50 voxels = 80 mm³
    mask = big | medium | small
    assert (50 * voxel_mm3, 500 * voxel_mm3) == pytest.approx((80, 800))

    context = _context(mask)
    result = _apply(IslandsTool, context, operation="remove small", min_size_mm3=100.0)
    np.testing.assert_array_equal(result, big | medium)  # 80 mm³ < 100 mm³ ≤ 800 mm³ (62 voxels would be 100)
    context.segmentation.undo()
    np.testing.assert_array_equal(context.segmentation.segments[1].mask.to_dense(), mask)
    # Sizes count in mm³, not voxels: 50 voxels = 80 mm³ ≥ 60 mm³, 500 voxels = 800 mm³ ≥ 700 mm³.
    np.testing.assert_array_equal(_apply(IslandsTool, _context(mask), operation="remove small",
                                         min_size_mm3=60.0), mask)
    np.testing.assert_array_equal(_apply(IslandsTool, _context(mask), operation="remove small",
                                         min_size_mm3=700.0), big | medium)
    np.testing.assert_array_equal(_apply(IslandsTool, _context(mask), operation="remove small",
                                         min_size_mm3=801.0), big)
    tool = IslandsTool(operation="remove small", min_size_mm3=100.0)
    tool.activate(_context(mask))
    box, removed = tool.preview().mask_for(1)
    np.testing.assert_array_equal(removed, small[box.slices])  # the preview shows what goes
    np.testing.assert_array_equal(_apply(IslandsTool, _context(mask), operation="keep largest"), big)
    np.testing.assert_array_equal(_apply(IslandsTool, _context(mask), operation="keep selected",
                                         index=(45, 45, 17)), medium)


def test_islands_diagonal_neighbours_connect_only_when_fully_connected():
    mask = np.zeros(SHAPE, bool)
    mask[5:10, 5:10, 5:10] = True
    mask[10, 10, 10] = True  # touches only at a corner
    assert _apply(IslandsTool, _context(mask), operation="keep largest").sum() == 125
    assert _apply(IslandsTool, _context(mask), operation="keep largest", fully_connected=True).sum() == 126


def test_fill_holes_3d_and_per_slice():
    shell = _ellipsoid_mm((12, 30, 35), 15.0) & ~_ellipsoid_mm((12, 30, 35), 8.0)
    np.testing.assert_array_equal(_apply(FillHolesTool, _context(shell)), _ellipsoid_mm((12, 30, 35), 15.0))
    cup = shell.copy()
    cup[12:, 25:36, 30:41] = False  # opened to the outside: no 3-D hole left
    np.testing.assert_array_equal(_apply(FillHolesTool, _context(cup)), cup)

    tube = np.zeros(SHAPE, bool)
    tube[4:20, 20:40, 20:40] = True
    tube[4:20, 24:36, 24:36] = False  # open at both ends along k: no 3-D hole, a hole in every axial slice
    np.testing.assert_array_equal(_apply(FillHolesTool, _context(tube)), tube)
    filled = _apply(FillHolesTool, _context(tube), dimension="per slice", slice_axis=2)
    expected = tube.copy()
    expected[4:20, 24:36, 24:36] = True
    np.testing.assert_array_equal(filled, expected)
    # Across sagittal slices (i) the same tube has no holes.
    np.testing.assert_array_equal(_apply(FillHolesTool, _context(tube), dimension="per slice", slice_axis=0), tube)


def test_smoothing_kernels_in_mm_and_their_effects():
    spacing = np.asarray(SPACING_IJK)[::-1]
    np.testing.assert_array_equal(kernel_radius_voxels(3.0, spacing), [0, 2, 2])  # 3 mm: 1 × 5 × 5 voxels
    np.testing.assert_array_equal(kernel_radius_voxels(5.0, spacing), [1, 3, 3])
    blob = _ellipsoid_mm((12, 30, 35), 10.0)
    spiky = blob.copy()
    spiky[12, 30, 35 + 14] = True  # a lone voxel 1.2 mm beyond the surface
    spiky[12, 30, 35] = False  # a pinhole
    for method in ("median", "opening", "gaussian"):
        result = _apply(SmoothingTool, _context(spiky), method=method, kernel_mm=3.0, sigma_mm=1.0)
        assert not result[12, 30, 49], method
    for method in ("median", "closing", "gaussian"):
        result = _apply(SmoothingTool, _context(spiky), method=method, kernel_mm=3.0, sigma_mm=1.0)
        assert result[12, 30, 35], method
    bridged = _ellipsoid_mm((12, 30, 15), 8.0) | _ellipsoid_mm((12, 30, 55), 8.0)
    bridged[12, 30, 15:56] = True  # a one-voxel bridge
    opened = _apply(SmoothingTool, _context(bridged), method="opening", kernel_mm=3.0)
    assert not opened[12, 30, 35] and opened[12, 30, 15] and opened[12, 30, 55]


def test_logical_operators_match_set_operations():
    a = _ellipsoid_mm((12, 30, 25), 12.0)
    b = _ellipsoid_mm((12, 30, 40), 12.0)
    expected = {"copy": b, "union": a | b, "intersect": a & b, "subtract": a & ~b, "invert": ~a}
    for operation, want in expected.items():
        context = _context(a)
        other = context.segmentation.add_segment("B", mask=b).id
        context.segmentation.undo_stack.clear()
        result = _apply(LogicalTool, context, operation=operation, other_segment_id=other)
        np.testing.assert_array_equal(result, want, err_msg=operation)
        np.testing.assert_array_equal(context.segmentation.segments[other].mask.to_dense(), b)
        assert context.segmentation.undo() == "Logical operators"
        np.testing.assert_array_equal(context.segmentation.segments[1].mask.to_dense(), a)
        context.segmentation.redo()
        np.testing.assert_array_equal(context.segmentation.segments[1].mask.to_dense(), want)


@pytest.mark.parametrize("tool,values", [
    (MarginTool, {"margin_mm": 4.0}), (MarginTool, {"margin_mm": -2.0}), (IslandsTool, {}),
    (FillHolesTool, {}), (SmoothingTool, {"method": "closing", "kernel_mm": 5.0}),
    (SmoothingTool, {"method": "gaussian", "sigma_mm": 2.0})])
def test_each_apply_is_one_undo_step_restoring_exact_arrays(tool, values):
    mask = (_ellipsoid_mm((12, 30, 35), 12.0) & ~_ellipsoid_mm((12, 30, 35), 4.0)) | _ellipsoid_mm((4, 8, 8), 2.0)
    mask[12, 30, 47:50] = True
    context = _context(mask)
    seg = context.segmentation
    result = _apply(tool, context, **values)
    assert (result != mask).any()
    assert seg.undo() is not None and not seg.undo_stack.can_undo()
    np.testing.assert_array_equal(seg.segments[1].mask.to_dense(), mask)
    seg.redo()
    np.testing.assert_array_equal(seg.segments[1].mask.to_dense(), result)


def test_corrections_honour_intensity_range_and_overwrite():
    image = np.zeros(SHAPE, np.int16)
    image[:, :, 35:] = 200
    mask = _ellipsoid_mm((12, 30, 35), 6.0)
    context = _context(mask, image=image)
    context.segmentation.options = EditOptions(intensity_range=(100, 300))
    grown = _apply(MarginTool, context, margin_mm=5.0)
    added = grown & ~mask
    assert added.any() and not added[:, :, :35].any()

    context = _context(mask)
    seg = context.segmentation
    b = seg.add_segment("B", mask=_ellipsoid_mm((12, 30, 45), 6.0)).id
    c = seg.add_segment("C", mask=np.ones(SHAPE, bool)).id
    seg.set_properties(c, visible=False)
    seg.options = EditOptions(overwrite="visible")
    b_before = seg.segments[b].mask.to_dense()
    union = _apply(LogicalTool, context, operation="union", other_segment_id=b)
    np.testing.assert_array_equal(union, mask | b_before)
    assert seg.segments[c].mask.to_dense().all()  # hidden: kept
    np.testing.assert_array_equal(seg.segments[b].mask.to_dense(), b_before & mask)  # visible: overwritten
    seg.options = EditOptions(overwrite="all")
    grown = _apply(MarginTool, context, margin_mm=3.0)
    added = grown & ~union
    assert added.any()
    np.testing.assert_array_equal(seg.segments[c].mask.to_dense(), ~added)
