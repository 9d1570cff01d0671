"""Level tracing and live wire on real CT: the traced region equals an independent labelling of the slice, in each
orientation; the live wire stays on the sarcoma GTV's boundary where a straight line does not; both fill one slice
as one undo step. Clicks and seeds are derived from the reference GTV mask, deterministically."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
import SimpleITK as sitk

from conftest import SAMPLE, STS_002, series_dir
from medseg_app.io.load import load_volume
from medseg_app.tools.editor import SegmentEditor
from medseg_app.tools.level_tracing import outer_boundary
from medseg_app.tools.live_wire import LiveWireTrace
from medseg_app.tools.slice_fill import even_odd_fill

BONE_SEED = (155, 69, 30)  # (i, j, k) sample CT: cortical bone (tests/test_region_growing.py)
MUSCLE_SEED = (85, 137, 30)  # sample CT: thigh muscle


@pytest.fixture(scope="module")
def sample_ct():
    return load_volume(series_dir(SAMPLE, "CT"))


@pytest.fixture(scope="module")
def sts_ct():
    volume = load_volume(series_dir(STS_002, "CT"))
    gtv = sitk.GetArrayFromImage(sitk.ReadImage(str(STS_002 / "CT" / "nifti" / "mask" / "mask.nii.gz"))) > 0
    assert gtv.shape == volume.array.shape
    return volume, gtv


def _editor(volume) -> SegmentEditor:
    editor = SegmentEditor(volume)
    editor.add_segment("Traced")
    return editor


def _plane(array, slice_axis, index):
    return np.take(array, index, axis=2 - slice_axis)


def _pixel(voxel, slice_axis):
    rows, cols = [a for a in (2, 1, 0) if a != slice_axis]
    return voxel[rows], voxel[cols]


def _voxel(pixel, slice_axis, index):
    rows, cols = [a for a in (2, 1, 0) if a != slice_axis]
    voxel = [0, 0, 0]
    voxel[rows], voxel[cols], voxel[slice_axis] = int(pixel[0]), int(pixel[1]), int(index)
    return tuple(voxel)


def _reference_component(plane, seed, side):
    """scipy's 8-connected labelling of the pixels on the seed's side of its value, holes filled by scipy."""
    candidates = plane >= plane[seed] if side == "above" else plane <= plane[seed]
    labels, _ = ndi.label(candidates, np.ones((3, 3), bool))
    return ndi.binary_fill_holes(labels == labels[seed])


def _dice(a, b) -> float:
    return 2.0 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))


@pytest.mark.parametrize("slice_axis", [0, 1, 2])
def test_level_trace_through_bone_is_the_filled_component_at_or_above_its_value_on_that_slice(sample_ct, slice_axis):
    editor = _editor(sample_ct)
    tool = editor.tools["level_trace"]
    tool.activate(editor.context(None))
    traced = tool.trace(BONE_SEED, slice_axis)
    index = BONE_SEED[slice_axis]
    plane = _plane(sample_ct.array, slice_axis, index)
    expected = _reference_component(plane, _pixel(BONE_SEED, slice_axis), "above")
    assert traced.level == plane[_pixel(BONE_SEED, slice_axis)] and 50 < expected.sum() < plane.size // 4
    # the outline is the filled region's outer boundary: its pixels with a 4-neighbour outside the region
    boundary = expected & ~ndi.binary_erosion(np.pad(expected, 1))[1:-1, 1:-1]
    outline = {_pixel(v, slice_axis) for v in traced.outline}
    assert outline == set(zip(*np.nonzero(boundary)))
    assert all(v[slice_axis] == index for v in traced.outline)

    preview = editor.run("level_trace", inputs={"index": BONE_SEED, "slice_axis": slice_axis})
    mask = editor.mask()
    np.testing.assert_array_equal(_plane(mask, slice_axis, index), expected)
    assert mask.sum() == expected.sum() == preview.info["voxels"]  # nothing off that slice
    assert editor.undo() == "Level tracing" and not editor.mask().any()  # one undo step


def test_level_trace_below_the_level_of_muscle_and_erase(sample_ct):
    editor = _editor(sample_ct)
    plane = sample_ct.array[MUSCLE_SEED[2]]
    expected = _reference_component(plane, (MUSCLE_SEED[1], MUSCLE_SEED[0]), "below")
    editor.run("level_trace", inputs={"index": MUSCLE_SEED, "slice_axis": 2}, side="below")
    np.testing.assert_array_equal(editor.mask()[MUSCLE_SEED[2]], expected)
    above = _reference_component(plane, (MUSCLE_SEED[1], MUSCLE_SEED[0]), "above")
    editor.run("level_trace", inputs={"index": MUSCLE_SEED, "slice_axis": 2}, side="above", mode="erase")
    np.testing.assert_array_equal(editor.mask()[MUSCLE_SEED[2]], expected & ~above)
    assert editor.undo() == "Level tracing"
    np.testing.assert_array_equal(editor.mask()[MUSCLE_SEED[2]], expected)


def _gtv_slice(gtv):
    k = int(np.argmax(gtv.sum(axis=(1, 2))))
    return k, gtv[k]


def _edge_seed(plane, mask):
    """The GTV's edge pixel whose value is nearest halfway between the GTV's median and that of a 2-pixel ring
    around it (where a reader would point at the tumour's edge)."""
    ring = ndi.binary_dilation(mask, iterations=2) & ~mask
    edge = mask & ~ndi.binary_erosion(mask)
    halfway = 0.5 * (np.median(plane[mask]) + np.median(plane[ring]))
    candidates = np.argwhere(edge)
    return tuple(candidates[np.argmin(np.abs(plane[edge].astype(float) - halfway))])


def test_level_trace_of_the_gtv_edge_matches_the_reference_slice(sts_ct):
    volume, gtv = sts_ct
    k, reference = _gtv_slice(gtv)
    r, c = _edge_seed(volume.array[k], reference)
    editor = _editor(volume)
    editor.run("level_trace", inputs={"index": (c, r, k), "slice_axis": 2}, side="above")
    traced = editor.mask()[k]
    assert _dice(traced, reference) > 0.85  # 0.91 measured


def _clicks(mask, n):
    """``n`` points evenly spaced along the mask's outer boundary, in order."""
    boundary = outer_boundary(mask)
    return boundary[np.linspace(0, len(boundary), n, endpoint=False).astype(int)]


def _distance_to_boundary(mask):
    boundary = mask & ~ndi.binary_erosion(mask)
    return ndi.distance_transform_edt(~boundary)


def _straight_line(a, b):
    steps = int(np.abs(np.subtract(b, a)).max()) + 1
    return np.rint(np.linspace(a, b, steps)).astype(int)


def test_a_live_wire_segment_between_two_gtv_boundary_points_follows_the_boundary(sts_ct):
    volume, gtv = sts_ct
    k, reference = _gtv_slice(gtv)
    distance = _distance_to_boundary(reference)
    boundary = outer_boundary(reference)
    step = len(boundary) // 8  # clicks an eighth of the way round the GTV apart
    pairs = [(boundary[s], boundary[(s + step) % len(boundary)]) for s in range(0, len(boundary), step)]
    # the pair whose straight chord strays farthest from the boundary
    a, b = max(pairs, key=lambda pair: distance[tuple(_straight_line(*pair).T)].mean())
    editor = _editor(volume)
    tool = editor.tools["live_wire"]
    tool.activate(editor.context(None))
    path = tool.path((a[1], a[0], k), (b[1], b[0], k), 2)
    assert tuple(path[0]) == (a[1], a[0], k) and tuple(path[-1]) == (b[1], b[0], k) and (path[:, 2] == k).all()
    assert (np.abs(np.diff(path, axis=0)).max(axis=1) == 1).all()  # 8-connected, no repeats
    on_path = distance[path[:, 1], path[:, 0]].mean()
    on_line = distance[tuple(_straight_line(a, b).T)].mean()
    assert on_path < 1.6 < on_line  # mean pixels from the GTV's boundary: 1.3 against 2.2 measured


def test_live_wire_closes_into_a_filled_contour_closer_to_the_gtv_than_the_straight_polygon(sts_ct):
    volume, gtv = sts_ct
    k, reference = _gtv_slice(gtv)
    clicks = _clicks(reference, 10)
    editor = _editor(volume)
    preview = editor.run("live_wire", inputs={"points": [(c, r, k) for r, c in clicks], "slice_axis": 2})
    mask = editor.mask()
    assert mask.sum() == mask[k].sum() == preview.info["voxels"]  # one slice
    assert (ndi.binary_fill_holes(mask[k]) == mask[k]).all()
    straight = even_odd_fill(*reference.shape, clicks.astype(float))
    assert _dice(mask[k], reference) > max(0.93, _dice(straight, reference))  # 0.98 against 0.95 measured
    assert editor.undo() == "Live wire" and not editor.mask().any()


@pytest.mark.parametrize("slice_axis", [0, 1])
def test_live_wire_on_sagittal_and_coronal_slices_of_the_gtv(sts_ct, slice_axis):
    volume, gtv = sts_ct
    areas = gtv.sum(axis=tuple(a for a in range(3) if a != 2 - slice_axis))
    index = int(np.argmax(areas))
    reference = _plane(gtv, slice_axis, index)
    clicks = _clicks(reference, 12)
    editor = _editor(volume)
    editor.run("live_wire", inputs={"points": [_voxel(p, slice_axis, index) for p in clicks],
                                    "slice_axis": slice_axis})
    mask = editor.mask()
    written = _plane(mask, slice_axis, index)
    assert mask.sum() == written.sum() > 0  # on that slice only
    assert _dice(written, reference) > 0.85


def test_live_wire_trace_adds_removes_and_closes_on_the_first_point(sts_ct):
    volume, gtv = sts_ct
    k, reference = _gtv_slice(gtv)
    clicks = [(c, r, k) for r, c in _clicks(reference, 6)]
    editor = _editor(volume)
    tool = editor.tools["live_wire"]
    tool.activate(editor.context(None))
    trace = LiveWireTrace(tool, 2, k)
    for point in clicks[:4]:
        trace.add(point)
    assert len(trace.points) == 4 and len(trace.segments) == 3
    trace.remove_last()
    assert len(trace.points) == 3 and len(trace.segments) == 2
    assert tuple(trace.drawn()[-1]) == clicks[2] and tuple(trace.drawn()[0]) == clicks[0]
    preview = trace.preview_to(clicks[3])
    assert tuple(preview[0]) == clicks[2] and tuple(preview[-1]) == clicks[3]
    near_first = (clicks[0][0] + 2, clicks[0][1] - 1, k)
    assert trace.closes_at(near_first) and not trace.closes_at(clicks[1])
    inputs = trace.closing_inputs()
    closed = tool.compute(**inputs)
    _sid, box, region, _mode = closed.changes[0]
    path = inputs["path"]
    assert region[0][path[:, 1] - box.start[1], path[:, 0] - box.start[2]].all()  # the contour is filled
    again = tool.compute(points=inputs["points"], slice_axis=2)  # the same contour, from its points alone
    np.testing.assert_array_equal(again.changes[0][2], region)


def test_edge_tools_read_a_pet_layer_on_the_ct_grid(sample_ct):
    """The sample PET over its CT: the level is an SUV read on the CT grid (the PET resampled by SimpleITK here,
    independently), and the live wire runs on the PET's edges; both write CT-grid voxels."""
    pet = load_volume(series_dir(SAMPLE, "PET"))
    gtv = sitk.GetArrayFromImage(sitk.ReadImage(str(SAMPLE / "CT" / "nifti" / "mask" / "mask.nii.gz"))) > 0
    reference = sitk.GetImageFromArray(np.zeros(sample_ct.array.shape, np.float32))
    moving = sitk.GetImageFromArray(pet.array.astype(np.float32))
    for image, volume in ((reference, sample_ct), (moving, pet)):
        g = volume.geometry
        image.SetOrigin([float(v) for v in g.origin])
        image.SetSpacing([float(v) for v in g.spacing])
        image.SetDirection([float(v) for v in np.asarray(g.direction).reshape(9)])
    pet_on_ct = sitk.GetArrayFromImage(sitk.Resample(moving, reference, sitk.Transform(), sitk.sitkLinear, -1.0))
    k, reference_slice = _gtv_slice(gtv)
    r, c = _edge_seed(pet_on_ct[k], reference_slice)
    editor = _editor(sample_ct)
    editor.add_layer(pet)
    editor.run("level_trace", inputs={"index": (c, r, k), "slice_axis": 2}, source="PT", side="above")
    expected = _reference_component(pet_on_ct[k], (r, c), "above")
    traced = editor.mask()[k]
    assert expected.sum() > 100 and np.count_nonzero(traced ^ expected) <= 0.01 * expected.sum()  # float32 rounding
    editor.undo()
    clicks = [(cc, rr, k) for rr, cc in _clicks(reference_slice, 10)]
    editor.run("live_wire", inputs={"points": clicks, "slice_axis": 2}, source="PT")
    assert _dice(editor.mask()[k], reference_slice) > 0.85  # 0.93 measured
