"""Paint / erase brushes, slice flood fill, polygon fill and fill between slices: millimetre-true footprints,
strokes without gaps, one undo step per stroke, and the segmentation's edit options honoured."""

from __future__ import annotations

import numpy as np
import pytest

from medseg_app.core.box import Box
from medseg_app.core.geometry import ImageGeometry
from medseg_app.core.segmentation import EditOptions, Segmentation
from medseg_app.core.volume import Volume
from medseg_app.tools.base import EditContext
from medseg_app.tools.paint import EraseTool, PaintTool
from medseg_app.tools.slice_fill import PolygonFillTool, SliceFloodFillTool, even_odd_fill
from medseg_app.tools.slice_interpolation import SliceInterpolationTool

SHAPE = (30, 64, 80)  # (k, j, i)


def _context(spacing=(1.0, 1.0, 1.0), image=None) -> EditContext:
    geometry = ImageGeometry(size=SHAPE[::-1], spacing=spacing, origin=(0, 0, 0))
    image = np.zeros(SHAPE, np.int16) if image is None else image
    seg = Segmentation(geometry)
    seg.add_segment("A")
    seg.undo_stack.clear()
    return EditContext(Volume(image, geometry), seg, segment_id=1)


def _tool(cls, context, **values):
    tool = cls(**values)
    tool.activate(context)
    return tool


def _dense(context, segment_id=1):
    return context.segmentation.segments[segment_id].mask.to_dense()


@pytest.mark.parametrize("shape,slice_axis,expected", [
    ("sphere", 2, (5, 11, 21)), ("disc", 2, (1, 11, 21)), ("disc", 0, (5, 11, 1)), ("disc", 1, (5, 1, 21))])
def test_brush_footprint_is_a_ball_in_mm_on_anisotropic_voxels(shape, slice_axis, expected):
    spacing_ijk = np.array([0.5, 1.0, 2.0])
    tool = _tool(PaintTool, _context(spacing_ijk), diameter_mm=10.0, shape=shape)
    footprint = tool.footprint(slice_axis)
    assert footprint.shape == expected
    centre = np.array(footprint.shape) // 2
    offsets_mm = (np.argwhere(np.ones_like(footprint)) - centre) * spacing_ijk[::-1]
    distance = np.linalg.norm(offsets_mm, axis=1).reshape(footprint.shape)
    np.testing.assert_array_equal(footprint, distance <= 5.0 + 1e-9)


def test_dab_paints_the_footprint_at_the_index_as_one_undo_step():
    context = _context((0.5, 1.0, 2.0))
    tool = _tool(PaintTool, context, diameter_mm=6.0, shape="sphere")
    tool.dab((40, 30, 15))
    painted = _dense(context)
    k, j, i = np.ogrid[: SHAPE[0], : SHAPE[1], : SHAPE[2]]
    expected = ((i - 40) * 0.5) ** 2 + ((j - 30) * 1.0) ** 2 + ((k - 15) * 2.0) ** 2 <= 9.0
    np.testing.assert_array_equal(painted, expected)
    assert context.segmentation.undo() is not None
    assert not _dense(context).any() and not context.segmentation.undo_stack.can_undo()
    context.segmentation.redo()
    np.testing.assert_array_equal(_dense(context), expected)


def test_fast_stroke_leaves_no_gaps_and_is_one_undo_step():
    context = _context()
    tool = _tool(PaintTool, context, diameter_mm=1.0, shape="disc")  # one voxel: any gap would show
    tool.begin_stroke((2.0, 10.0, 5.0), slice_axis=2)
    tool.stroke_to((70.4, 10.0, 5.0))  # 68 voxels in one mouse move
    tool.stroke_to((70.0, 50.0, 5.0))
    tool.stroke_to((20.0, 60.0, 5.0))  # diagonal
    tool.end_stroke()
    painted = _dense(context)
    assert painted[5, 10, 2:71].all() and painted[5, 10:51, 70].all()
    diagonal = painted[5, 50:61, 20:71]
    assert all(diagonal[:, c].any() for c in range(diagonal.shape[1]))  # a column per step: no gap
    assert painted[[k for k in range(SHAPE[0]) if k != 5]].sum() == 0  # a disc stays in its slice
    assert context.segmentation.undo_stack.undo_title() == "Paint"
    assert context.segmentation.undo() == "Paint"
    assert not _dense(context).any() and not context.segmentation.undo_stack.can_undo()
    context.segmentation.redo()
    np.testing.assert_array_equal(_dense(context), painted)


def test_erase_stroke_removes_and_undo_restores_exactly():
    context = _context((0.8, 0.8, 2.5))
    _tool(PaintTool, context, diameter_mm=20.0, shape="sphere").dab((40, 32, 15))
    before = _dense(context)
    eraser = _tool(EraseTool, context, diameter_mm=4.0, shape="disc")
    eraser.begin_stroke((30, 32, 15))
    eraser.stroke_to((50, 32, 15))
    eraser.end_stroke()
    after = _dense(context)
    assert not after[15, 32, 30:51].any() and after.sum() < before.sum()
    assert (after <= before).all()
    context.segmentation.undo()
    np.testing.assert_array_equal(_dense(context), before)
    context.segmentation.redo()
    np.testing.assert_array_equal(_dense(context), after)


def test_paint_honours_intensity_range_and_overwrite_modes():
    image = np.zeros(SHAPE, np.int16)
    image[:, :, 40:] = 100
    context = _context(image=image)
    seg = context.segmentation
    seg.options = EditOptions(intensity_range=(50, 150))
    _tool(PaintTool, context, diameter_mm=11.0, shape="disc").dab((40, 30, 10))
    painted = _dense(context)
    assert painted[10, 30, 40:46].all() and not painted[:, :, :40].any()

    seg.options = EditOptions()
    other = seg.add_segment("B", mask=np.ones(SHAPE, bool)).id
    for overwrite, hidden, keeps in (("none", False, True), ("visible", True, True), ("visible", False, False),
                                     ("all", True, False)):
        seg.set_properties(other, visible=not hidden)
        seg.options = EditOptions(overwrite=overwrite)
        before = _dense(context, other).copy()
        _tool(PaintTool, context, diameter_mm=5.0, shape="disc").dab((20, 20, 20))
        assert _dense(context, other)[20, 20, 20] == keeps, (overwrite, hidden)
        seg.undo()
        np.testing.assert_array_equal(_dense(context, other), before)


def test_polygon_fill_uses_the_even_odd_rule():
    star = np.array([[np.sin(a) * 20 + 32, np.cos(a) * 20 + 40] for a in np.arange(5) * 4 * np.pi / 5])
    inside = even_odd_fill(64, 80, star)
    assert not inside[32, 40]  # the pentagon in the middle is wound twice: outside by even-odd
    tip = np.round(0.6 * star[0] + 0.4 * np.array([32, 40])).astype(int)
    assert inside[tuple(tip)]
    square = even_odd_fill(10, 10, np.array([[2.0, 2.0], [2.0, 6.0], [6.0, 6.0], [6.0, 2.0]]))
    assert square.sum() == 16 and square[2:6, 2:6].all()  # centres on the top / left edges count once

    context = _context((0.7, 0.7, 3.0))
    tool = _tool(PolygonFillTool, context)
    # Sagittal slice i = 12: points are (i, j, k); rows are k, columns j.
    tool.preview(points=[(12, 10, 5), (12, 30, 5), (12, 30, 15), (12, 10, 15)], slice_axis=0)
    tool.apply()
    painted = _dense(context)
    assert painted[5:15, 10:30, 12].all() and painted.sum() == 10 * 20
    context.segmentation.undo()
    assert not _dense(context).any()


def test_slice_flood_fill_intensity_is_four_connected_within_one_slice():
    image = np.zeros(SHAPE, np.int16)
    image[:, 10:20, 10:20] = 300
    image[:, 20:25, 20:25] = 310  # touches the first square only at a corner
    context = _context(image=image)
    tool = _tool(SliceFloodFillTool, context, fill="intensity", tolerance=20.0)
    tool.preview(index=(15, 15, 7), slice_axis=2)
    tool.apply()
    expected = np.zeros(SHAPE, bool)
    expected[7, 10:20, 10:20] = True
    np.testing.assert_array_equal(_dense(context), expected)


def test_slice_flood_fill_hole_fills_only_an_enclosed_hole():
    context = _context()
    ring = np.zeros(SHAPE, bool)
    ring[7, 10:30, 10:30] = True
    ring[7, 13:27, 13:27] = False
    ring[8, 10:30, 10:30] = True
    context.segmentation.modify(1, Box.whole(SHAPE), ring, "set")
    tool = _tool(SliceFloodFillTool, context, fill="hole")
    assert not tool.preview(index=(5, 5, 7), slice_axis=2).changes  # outside the ring: open
    assert not tool.preview(index=(11, 11, 7), slice_axis=2).changes  # on the segment
    tool.preview(index=(20, 20, 7), slice_axis=2)
    tool.apply()
    expected = ring.copy()
    expected[7, 13:27, 13:27] = True
    np.testing.assert_array_equal(_dense(context), expected)


def test_fill_between_slices_follows_a_shape_that_moves():
    """Two drawn squares that do not overlap (a vessel running obliquely) still join up, half-way in between."""
    context = _context((0.8, 0.8, 3.0))
    polygon = _tool(PolygonFillTool, context)
    for k, x in ((4, 12), (14, 52)):
        polygon.preview(points=[(x - 5, 27, k), (x + 5, 27, k), (x + 5, 37, k), (x - 5, 37, k)], slice_axis=2)
        polygon.apply()
    tool = _tool(SliceInterpolationTool, context, slice_axis=2)
    tool.preview()
    tool.apply()
    filled = _dense(context)
    for k in range(4, 15):
        columns = np.flatnonzero(filled[k].any(axis=0))
        assert columns.size >= 9, f"slice {k} lost the shape"
        expected_centre = 12 + (52 - 12) * (k - 4) / 10
        assert abs(columns.mean() - expected_centre) <= 1.0


def test_fill_between_slices_fills_the_slices_between_two_drawn_ones():
    context = _context((0.8, 0.8, 3.0))
    polygon = _tool(PolygonFillTool, context)
    for k, half in ((5, 6), (15, 16)):
        polygon.preview(points=[(40 - half, 32 - half, k), (40 + half, 32 - half, k), (40 + half, 32 + half, k),
                                (40 - half, 32 + half, k)], slice_axis=2)
        polygon.apply()
    drawn = _dense(context)
    tool = _tool(SliceInterpolationTool, context, slice_axis=2)
    tool.preview()
    tool.apply()
    filled = _dense(context)
    np.testing.assert_array_equal(filled[[5, 15]], drawn[[5, 15]])
    assert not filled[:5].any() and not filled[16:].any()
    areas = filled.sum(axis=(1, 2))[5:16]
    assert all(a > 0 for a in areas) and all(np.diff(areas) > 0)  # grows from the small to the large square
    middle = np.flatnonzero(filled[10].any(axis=0))
    small, large = np.flatnonzero(drawn[5].any(axis=0)), np.flatnonzero(drawn[15].any(axis=0))
    assert abs(len(middle) - (len(small) + len(large)) / 2) <= 1  # half-way between: half-way in size
    assert (filled[5] <= filled[10]).all() and (filled[10] <= filled[15]).all()
    assert context.segmentation.undo() == "Fill between slices"
    np.testing.assert_array_equal(_dense(context), drawn)
