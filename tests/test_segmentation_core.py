"""Segments stored sparsely, edited through one door with Slicer's masking options, undone exactly."""

from __future__ import annotations

import numpy as np
import pytest

from medseg_app.core.box import Box
from medseg_app.core.geometry import ImageGeometry
from medseg_app.core.segmentation import EditOptions, LockedSegmentError, Segmentation
from medseg_app.core.sparse_mask import SparseMask

SHAPE = (40, 60, 50)  # (k, j, i)


def _seg() -> Segmentation:
    return Segmentation(ImageGeometry(size=SHAPE[::-1], spacing=(1, 1, 2), origin=(0, 0, 0)))


def _ball(centre, radius, shape=SHAPE):
    k, j, i = np.ogrid[: shape[0], : shape[1], : shape[2]]
    return (k - centre[0]) ** 2 + (j - centre[1]) ** 2 + (i - centre[2]) ** 2 <= radius ** 2


def test_sparse_mask_round_trip_and_compact():
    dense = _ball((10, 20, 30), 5)
    sparse = SparseMask.from_dense(dense)
    assert sparse.box == Box((5, 15, 25), (16, 26, 36))
    assert sparse.nbytes == 11 ** 3 and sparse.count() == dense.sum()
    np.testing.assert_array_equal(sparse.to_dense(), dense)
    sparse.write(Box((5, 15, 25), (10, 26, 36)), np.zeros((5, 11, 11), bool))
    sparse.compact()
    assert sparse.box.start[0] == 10
    np.testing.assert_array_equal(sparse.to_dense(), dense & (np.arange(SHAPE[0]) >= 10)[:, None, None])


def test_segments_overlap_and_are_stored_cropped():
    seg = _seg()
    body = seg.add_segment("BODY", mask=_ball((20, 30, 25), 15))
    gtv = seg.add_segment("GTV", mask=_ball((20, 30, 25), 4))
    assert (body.mask.to_dense() & gtv.mask.to_dense()).sum() == gtv.mask.count()  # overlap kept
    assert gtv.mask.nbytes == 9 ** 3 < np.prod(SHAPE) // 50
    assert seg.label_map()[20, 30, 25] == 2 and seg.label_map()[20, 30, 12] == 1


def test_undo_redo_restore_exact_arrays_and_one_gesture_is_one_step():
    seg = _seg()
    s = seg.add_segment("A")
    states = [s.mask.to_dense()]
    with seg.gesture("Paint"):
        for c in ((10, 10, 10), (12, 14, 10), (14, 18, 12)):
            ball = _ball(c, 3)
            box = Box.of_mask(ball)
            seg.modify(s.id, box, ball[box.slices], "add")
    states.append(s.mask.to_dense())
    ball = _ball((13, 14, 10), 2)
    seg.modify(s.id, Box.of_mask(ball), ball[Box.of_mask(ball).slices], "remove")
    states.append(s.mask.to_dense())
    assert seg.undo() is not None
    np.testing.assert_array_equal(s.mask.to_dense(), states[1])
    assert seg.undo() == "Paint"
    np.testing.assert_array_equal(s.mask.to_dense(), states[0])
    seg.redo()
    np.testing.assert_array_equal(s.mask.to_dense(), states[1])
    seg.redo()
    np.testing.assert_array_equal(s.mask.to_dense(), states[2])
    assert seg.redo() is None


def test_undo_of_add_and_delete_segment():
    seg = _seg()
    a = seg.add_segment("A", mask=_ball((20, 30, 25), 5))
    seg.remove_segment(a.id)
    assert a.id not in seg.segments
    seg.undo()
    assert seg.segments[a.id].mask.count() == _ball((20, 30, 25), 5).sum()
    seg.undo()
    assert a.id not in seg.segments
    seg.redo()
    assert seg.segments[a.id].mask.count() == _ball((20, 30, 25), 5).sum()


def test_intensity_range_and_overwrite_modes():
    seg = _seg()
    image = np.zeros(SHAPE, np.int16)
    image[:, :, 25:] = 100
    a = seg.add_segment("A", mask=np.ones(SHAPE, bool))
    hidden = seg.add_segment("hidden", mask=np.ones(SHAPE, bool))
    seg.set_properties(hidden.id, visible=False)
    locked = seg.add_segment("locked", mask=np.ones(SHAPE, bool))
    seg.set_properties(locked.id, locked=True)
    b = seg.add_segment("B")
    box = Box((10, 10, 10), (20, 20, 40))
    region = np.ones(box.shape, bool)
    seg.modify(b.id, box, region, "add", image=image, options=EditOptions((50, 150), "visible"))
    painted = b.mask.to_dense()
    assert painted[15, 15, 30] and not painted[15, 15, 20]  # only where intensity is in range
    assert not a.mask.to_dense()[15, 15, 30] and a.mask.to_dense()[15, 15, 20]  # visible A overwritten
    assert hidden.mask.to_dense()[15, 15, 30]  # hidden one kept in "visible" mode
    assert locked.mask.to_dense()[15, 15, 30]  # locked one never touched
    seg.undo()
    assert a.mask.to_dense().all() and b.mask.empty
    with pytest.raises(LockedSegmentError):
        seg.modify(locked.id, box, region, "remove")


def test_undo_history_is_bounded_by_memory_not_steps():
    seg = Segmentation(ImageGeometry(size=SHAPE[::-1], spacing=(1, 1, 1), origin=(0, 0, 0)), undo_budget_bytes=20_000)
    s = seg.add_segment("noise")
    rng = np.random.default_rng(0)
    for _ in range(30):  # random masks compress badly: each step costs ~15 kB
        seg.modify(s.id, Box.whole(SHAPE), rng.random(SHAPE) > 0.5, "set")
    assert seg.undo_stack.nbytes <= 40_000
    undone = 0
    while seg.undo():
        undone += 1
    assert 1 <= undone < 30


def test_segments_added_inside_one_gesture_are_one_undo_step():
    """Loading a file adds several segments as one step: undo takes them all away, redo brings them back."""
    seg = _seg()
    seg.add_segment("kept", mask=_ball((10, 10, 10), 3))
    with seg.gesture("Load file"):
        a = seg.add_segment("A", mask=_ball((20, 30, 25), 5))
        b = seg.add_segment("B", mask=_ball((30, 40, 25), 4))
    assert seg.undo() == "Load file"
    assert list(seg.segments) == [1]
    seg.redo()
    assert [s.name for s in seg.segments.values()] == ["kept", "A", "B"]
    assert seg.segments[a.id].mask.count() == _ball((20, 30, 25), 5).sum()
    assert seg.segments[b.id].mask.count() == _ball((30, 40, 25), 4).sum()
    seg.undo()
    seg.undo()
    assert not seg.segments
