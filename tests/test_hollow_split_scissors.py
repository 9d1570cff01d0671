"""Hollow, Split islands and Scissors on the real STS_001 GTV (0.98 × 0.98 × 3.27 mm voxels), each against an
independent construction: scipy's exact distance maps, cc3d's components, a half-plane test of a convex prism."""

from __future__ import annotations

import cc3d
import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage

from conftest import SAMPLE
from medseg_app.core.box import Box
from medseg_app.core.sitk_bridge import geometry_from_sitk
from medseg_app.core.volume import Volume
from medseg_app.tools.editor import SegmentEditor
from medseg_app.tools.scissors import slab_slices


@pytest.fixture(scope="module")
def gtv():
    image = sitk.ReadImage(str(SAMPLE / "CT" / "nifti" / "mask" / "mask.nii.gz"))
    return sitk.GetArrayFromImage(image) > 0, geometry_from_sitk(image)


def _editor(gtv, mask=None) -> SegmentEditor:
    reference, geometry = gtv
    editor = SegmentEditor(Volume(np.zeros(reference.shape, np.int16), geometry))
    editor.add_segment("GTV", mask=reference if mask is None else mask)
    return editor


# --- hollow ------------------------------------------------------------------------------------
@pytest.mark.parametrize("placement", ["inside", "outside", "centred"])
def test_hollow_shell_is_as_thick_as_asked_measured_by_distance(gtv, placement):
    mask, geometry = gtv
    spacing = geometry.spacing[::-1]
    thickness = 6.0
    editor = _editor(gtv)
    steps = len(editor.segmentation.undo_stack._undo)
    editor.run("hollow", thickness_mm=thickness, placement=placement)
    shell = editor.mask()
    to_outside = ndimage.distance_transform_edt(mask, sampling=spacing)  # inside voxels: mm to the background
    to_inside = ndimage.distance_transform_edt(~mask, sampling=spacing)  # background voxels: mm to the segment
    inward = {"inside": thickness, "outside": 0.0, "centred": thickness / 2}[placement]
    outward = thickness - inward
    reference = (mask & (to_outside <= inward)) | (~mask & (to_inside <= outward))
    differs = shell != reference
    # Off only where a voxel's distance is within a rounding of the shell's faces
    edge = np.minimum(np.abs(np.where(mask, to_outside - inward, to_inside - outward)), 1.0)
    assert np.all(edge[differs] < 1e-3) and differs.sum() <= 1e-4 * mask.sum()
    assert (shell & mask).any() == (placement != "outside") and (shell & ~mask).any() == (placement != "inside")
    # A 6 mm shell of this 115 cm³ tumour: the inside one is far smaller than the tumour, the hole is what is left
    voxel_ml = geometry.voxel_volume_mm3 / 1000
    if placement == "inside":
        hole = mask & ~shell
        assert shell.sum() * voxel_ml < 0.8 * mask.sum() * voxel_ml and ndimage.label(hole)[1] >= 1
        assert to_outside[hole].min() > thickness  # every voxel left inside lies deeper than the shell
    assert len(editor.segmentation.undo_stack._undo) == steps + 1
    editor.undo()
    np.testing.assert_array_equal(editor.mask(), mask)


# --- split islands ----------------------------------------------------------------------------
def _islands(mask):
    """The GTV cut in three by two gaps of slices, and two small blobs far from it."""
    pieces = mask.copy()
    occupied = np.flatnonzero(mask.any(axis=(1, 2)))
    third = len(occupied) // 3
    pieces[occupied[third]:occupied[third] + 2] = False
    pieces[occupied[2 * third]:occupied[2 * third] + 1] = False
    pieces[2:4, 5:8, 5:8] = True  # 18 voxels
    pieces[2, 190:192, 190:193] = True  # 6 voxels
    return pieces


def test_split_islands_gives_each_cc3d_component_its_segment_largest_first(gtv):
    pieces = _islands(gtv[0])
    editor = _editor(gtv, pieces)
    seg = editor.segmentation
    steps = len(seg.undo_stack._undo)
    preview = editor.run("split_islands")
    labels, count = cc3d.connected_components(pieces, connectivity=6, return_N=True)
    sizes = np.bincount(labels.ravel())[1:]
    order = np.argsort(-sizes, kind="stable") + 1
    assert count == 5 and preview.info["islands"] == 5
    assert [s.name for s in seg.segments.values()] == [f"GTV {n}" for n in range(1, 6)]
    for segment, label in zip(seg.segments.values(), order):
        np.testing.assert_array_equal(segment.mask.to_dense(), labels == label)
    assert len(seg.undo_stack._undo) == steps + 1  # the split, its four new segments and the rename: one step
    assert editor.undo() == "Split islands"
    assert [s.name for s in seg.segments.values()] == ["GTV"]
    np.testing.assert_array_equal(editor.mask("GTV"), pieces)
    editor.redo()
    assert [s.mask.count() for s in seg.segments.values()] == sorted(sizes.tolist(), reverse=True)


@pytest.mark.parametrize("unit, minimum", [("voxels", 10), ("mm³", 10 * 0.9765620231628418 ** 2 * 3.27)])
def test_split_islands_minimum_size_drops_the_small_ones(gtv, unit, minimum):
    pieces = _islands(gtv[0])
    editor = _editor(gtv, pieces)
    editor.run("split_islands", min_size=minimum, size_unit=unit, fully_connected=True)
    labels = cc3d.connected_components(pieces, connectivity=26)
    sizes = np.sort(np.bincount(labels.ravel())[1:])[::-1]
    kept = sizes[sizes >= 10]
    assert len(kept) == 4  # the 6-voxel blob is dropped
    assert [s.mask.count() for s in editor.segmentation.segments.values()] == kept.tolist()
    everything = np.zeros(pieces.shape, bool)
    for segment in editor.segmentation.segments.values():
        everything |= segment.mask.to_dense()
    assert everything.sum() == pieces.sum() - 6 and not (everything & ~pieces).any()


# --- scissors ---------------------------------------------------------------------------------
HEXAGON = np.array([[-1.0, -0.5], [-1.0, 0.5], [0.0, 1.0], [1.0, 0.5], [1.0, -0.5], [0.0, -1.0]])


def _prism_reference(shape, slice_axis, centre_rc, radius, slices):
    """Voxels whose centre is strictly inside the hexagon (a convex shape: left of every edge), in ``slices``."""
    rows, cols = [a for a in (2, 1, 0) if a != slice_axis]
    polygon = centre_rc + radius * HEXAGON
    r = np.arange(shape[2 - rows])[:, None]
    c = np.arange(shape[2 - cols])[None, :]
    inside = np.ones((len(r), c.shape[1]), bool)
    for (r0, c0), (r1, c1) in zip(polygon, np.roll(polygon, -1, axis=0)):
        cross = (r1 - r0) * (c - c0) - (c1 - c0) * (r - r0)
        (a0, b0), (a1, b1) = polygon[1] - polygon[0], polygon[2] - polygon[1]
        inside &= cross * np.sign(a0 * b1 - b0 * a1) > 0
    prism = np.zeros(shape, bool)
    through = 2 - slice_axis
    index = [slice(None)] * 3
    index[through] = slice(*slices)
    prism[tuple(index)] = np.expand_dims(inside, through)
    return prism, polygon


@pytest.mark.parametrize("slice_axis", [2, 1, 0])  # axial, coronal, sagittal slices of this grid
@pytest.mark.parametrize("operation", ["erase inside", "erase outside", "fill inside"])
def test_scissors_cut_a_prism_in_every_slice_of_the_slab_and_nothing_else(gtv, slice_axis, operation):
    mask, geometry = gtv
    shape = mask.shape
    centre = np.round(np.argwhere(mask).mean(axis=0)).astype(int)[::-1]  # (i, j, k)
    rows, cols = [a for a in (2, 1, 0) if a != slice_axis]
    spacing = geometry.spacing[slice_axis]
    slab = slab_slices(int(centre[slice_axis]), 12.0, spacing, shape[2 - slice_axis])
    assert slab[1] - slab[0] == (3 if slice_axis == 2 else 13)  # 12 mm: 3 slices of 3.27 mm, 13 of 0.98 mm
    # On the tumour's edge along the slice's rows: part of the prism inside the GTV, part outside
    on_rows = np.flatnonzero(np.moveaxis(mask, 2 - rows, 0).any(axis=(1, 2)))
    edge = np.array([on_rows[-1], centre[cols]], float)
    prism, polygon = _prism_reference(shape, slice_axis, edge + 0.3, 18.0, slab)
    points = np.zeros((len(polygon), 3))
    points[:, [rows, cols]] = polygon
    points[:, slice_axis] = centre[slice_axis]
    editor = _editor(gtv)
    steps = len(editor.segmentation.undo_stack._undo)
    editor.run("scissors", inputs={"points": points, "slice_axis": slice_axis}, operation=operation,
               extent="slab", slab_mm=12.0)
    result = editor.mask()
    expected = {"erase inside": mask & ~prism, "fill inside": mask | prism,
                "erase outside": mask & (prism | ~_slab(shape, slice_axis, slab))}[operation]
    np.testing.assert_array_equal(result, expected)
    changed = result != mask
    assert changed.any() and (prism & mask).any() and (prism & ~mask).any()
    if operation != "erase outside":  # the cut reaches every slice of the slab and no other
        touched = np.flatnonzero(np.moveaxis(changed, 2 - slice_axis, 0).any(axis=(1, 2)))
        assert touched.tolist() == list(range(*slab))
    assert len(editor.segmentation.undo_stack._undo) == steps + 1
    editor.undo()
    np.testing.assert_array_equal(editor.mask(), mask)


def _slab(shape, slice_axis, slab):
    out = np.zeros(shape, bool)
    index = [slice(None)] * 3
    index[2 - slice_axis] = slice(*slab)
    out[tuple(index)] = True
    return out


def test_scissors_rectangle_through_the_whole_volume_and_fill_outside(gtv):
    mask, _ = gtv
    editor = _editor(gtv)
    k = int(np.flatnonzero(mask.any(axis=(1, 2))).mean())
    corners = [(60.5, 80.5, k), (120.5, 140.5, k)]  # (i, j, k): voxels i 61..120, j 81..140 inside
    editor.run("scissors", inputs={"points": corners, "slice_axis": 2}, operation="erase inside",
               shape="rectangle", extent="whole volume")
    box = np.zeros(mask.shape, bool)
    box[:, 81:141, 61:121] = True
    np.testing.assert_array_equal(editor.mask(), mask & ~box)
    editor.undo()
    small = np.zeros(mask.shape, bool)
    small[k, 100:103, 100:103] = True
    editor.add_segment("Small", mask=small)
    editor.run("scissors", segment="Small", inputs={"points": corners, "slice_axis": 2}, operation="fill outside",
               shape="rectangle", extent="whole volume")
    np.testing.assert_array_equal(editor.mask("Small"), ~box | small)
    np.testing.assert_array_equal(editor.mask("GTV"), mask)  # another segment is never touched


def test_scissors_shape_off_the_segment_changes_nothing(gtv):
    editor = _editor(gtv)
    preview = editor.run("scissors", inputs={"points": [(1.5, 1.5, 2), (4.5, 1.5, 2), (3, 5.5, 2)], "slice_axis": 2})
    assert preview.empty and "does not reach" in preview.info["reason"]
    assert Box.of_mask(editor.mask()) == Box.of_mask(gtv[0])
