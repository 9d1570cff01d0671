"""Masks and label maps between grids (core/mask_transfer.py), whole segmentations and re-referenced studies.

Real data: STS_002's PET and CT masks of one GTV, each rasterised on its own grid from the same contours.
"""

import numpy as np
import pytest

from medseg_app.core.geometry import ImageGeometry
from medseg_app.core.layer_transform import LayerTransform
from medseg_app.core.mask_transfer import (MARGIN_VOXELS, smoothing_sigma_voxels, transfer_labels, transfer_mask,
                                            transfer_mask_dense)
from medseg_app.core.overlap_metrics import dice_and_jaccard
from medseg_app.core.segmentation import Segmentation
from medseg_app.core.segmentation_transfer import TransferCancelled, carry_segmentation, rereferenced
from medseg_app.core.study import LayerError, Study
from medseg_app.core.volume import SourceIdentity, Volume
from medseg_app.io.image_files import read_image_file
from medseg_app.io.load import load_volume

STS_002 = "tests/data/sts_mirp/STS_002"
SAMPLE = "resources/sample/STS_001"


@pytest.fixture(scope="module")
def masks():
    return {m: read_image_file(f"{STS_002}/{m}/nifti/mask/mask.nii.gz") for m in ("CT", "PET")}


def test_pet_mask_onto_the_ct_grid_beats_nearest_neighbour_and_keeps_the_volume(masks):
    ct, pet = masks["CT"], masks["PET"]
    truth = ct.array > 0
    dice = {}
    for method in ("distance", "fraction", "nearest"):
        moved = transfer_mask_dense(pet.array > 0, pet.geometry, ct.geometry, method=method)
        dice[method] = dice_and_jaccard(moved, truth)[0]
        if method == "distance":
            assert abs(moved.sum() / truth.sum() - 1) < 0.03
    assert dice["distance"] >= 0.95 > dice["nearest"]
    assert dice["distance"] > dice["fraction"] > dice["nearest"]


def test_only_a_coarse_source_axis_is_smoothed(masks):
    ct, pet = masks["CT"], masks["PET"]
    identity = LayerTransform.identity()
    # PET 5.5 × 5.5 × 3.3 mm onto CT 1 × 1 × 3.3 mm: in-plane only; the other way round: nothing
    assert smoothing_sigma_voxels(pet.geometry, ct.geometry, identity).tolist() == [0.0, 0.75, 0.75]
    assert not smoothing_sigma_voxels(ct.geometry, pet.geometry, identity).any()
    quarter_turn = LayerTransform.rigid(rotation_deg=(0.0, 0.0, 90.0))  # the PET's i axis along the CT's j
    assert smoothing_sigma_voxels(pet.geometry, ct.geometry, quarter_turn).tolist() == [0.0, 0.75, 0.75]


def test_a_partly_outside_mask_keeps_the_volume_of_what_lands_inside():
    coarse = ImageGeometry((20, 20, 10), (4.0, 4.0, 2.0), (0.0, 0.0, 0.0))
    fine = ImageGeometry((40, 80, 20), (1.0, 1.0, 2.0), (20.0, 0.0, 0.0))  # covers x in [19.5, 59.5] only
    mask = np.zeros(coarse.shape, bool)
    mask[2:8, 5:15, 2:12] = True  # x from 6 to 46 mm: half of it beyond the fine grid's first voxel
    moved = transfer_mask_dense(mask, coarse, fine)
    inside_mm3 = moved.sum() * fine.voxel_volume_mm3
    expected = (46.0 - 19.5) * 40.0 * 12.0  # the block's part over the fine grid (x × y × z in mm)
    assert abs(inside_mm3 / expected - 1) < 0.08


def test_ct_mask_onto_the_pet_grid_agrees_with_the_pet_mask(masks):
    ct, pet = masks["CT"], masks["PET"]
    moved = transfer_mask_dense(ct.array > 0, ct.geometry, pet.geometry)
    assert dice_and_jaccard(moved, pet.array > 0)[0] > 0.99


def test_same_grid_gives_the_mask_back_exactly_even_at_the_grid_edge():
    geometry = ImageGeometry((20, 16, 12), (1.0, 1.5, 2.5), (-3.0, 4.0, 10.0))
    rng = np.random.default_rng(3)
    mask = rng.random(geometry.shape) > 0.6
    mask[0, :, :] = True  # touches the grid's first slice
    np.testing.assert_array_equal(transfer_mask_dense(mask, geometry, geometry), mask)


def test_a_shifted_grid_moves_the_mask_by_the_transform():
    geometry = ImageGeometry((40, 40, 40), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0))
    mask = np.zeros(geometry.shape, bool)
    mask[10:20, 12:22, 14:24] = True
    # target point + (2, 3, 4) mm = source point: the mask appears 2, 3, 4 voxels lower in i, j, k
    box, crop = transfer_mask(mask, geometry, geometry, LayerTransform.rigid((2.0, 3.0, 4.0)))
    moved = np.zeros(geometry.shape, bool)
    moved[box.slices] = crop
    expected = np.zeros(geometry.shape, bool)
    expected[6:16, 9:19, 12:22] = True
    np.testing.assert_array_equal(moved, expected)
    assert max(box.shape) <= 10 + 2 * (MARGIN_VOXELS + 1)  # the work stays in the mask's neighbourhood


def test_an_empty_mask_or_one_outside_the_target_transfers_to_nothing():
    geometry = ImageGeometry((10, 10, 10), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0))
    assert transfer_mask(np.zeros(geometry.shape, bool), geometry, geometry)[0].empty
    far = ImageGeometry((10, 10, 10), (1.0, 1.0, 1.0), (500.0, 0.0, 0.0))
    mask = np.zeros(geometry.shape, bool)
    mask[3:6, 3:6, 3:6] = True
    assert not transfer_mask_dense(mask, geometry, far).any()


def test_label_map_transfer_keeps_each_label_and_gives_a_contested_voxel_to_the_deeper_label():
    fine = ImageGeometry((60, 60, 30), (1.0, 1.0, 2.0), (0.0, 0.0, 0.0))
    coarse = ImageGeometry((15, 15, 15), (4.0, 4.0, 4.0), (1.5, 1.5, 1.0))
    labels = np.zeros(coarse.shape, np.int16)
    labels[3:8, 3:8, 2:6] = 1
    labels[3:8, 3:8, 6:11] = 2  # touching label 1 along one face
    labels[10:13, 10:13, 10:13] = 7
    out = transfer_labels(labels, coarse, fine)
    assert set(np.unique(out)) == {0, 1, 2, 7}
    for value in (1, 2, 7):
        alone = transfer_mask_dense(labels == value, coarse, fine)
        assert dice_and_jaccard(out == value, alone)[0] > 0.97
        coarse_mm3 = (labels == value).sum() * 64.0
        # a cube of 3 × 4 mm voxels loses its corners (the zero level of a Euclidean distance is rounded there)
        assert abs((out == value).sum() * 2.0 / coarse_mm3 - 1) < (0.15 if value == 7 else 0.06)
    # the two touching labels' transfers overlap by at most a voxel's rounding; each contested voxel got one label
    both = transfer_mask_dense(labels == 1, coarse, fine) & transfer_mask_dense(labels == 2, coarse, fine)
    assert np.all(np.isin(out[both], (1, 2)))


@pytest.fixture(scope="module")
def ct_pet():
    return load_volume(f"{SAMPLE}/CT/dicom/image"), load_volume(f"{SAMPLE}/PET/dicom/image")


def test_rereference_makes_the_layer_the_reference_and_inverts_the_transforms(ct_pet):
    ct, pet = ct_pet
    study = Study(ct)
    pet_layer = study.add_layer(pet)
    mr_like = study.add_layer(ct, name="CT copy", transform=LayerTransform.rigid((1.0, 2.0, 3.0)))
    shift = LayerTransform.rigid((4.0, -2.0, 1.0), (0.0, 0.0, 5.0), ct.geometry.origin)
    study.set_transform(pet_layer.id, shift)
    study.set_display(pet_layer.id, colour_map="hot")
    new = study.rereference(pet_layer.id)
    assert new.reference.volume is pet and new.reference.id == pet_layer.id and new.reference.colour_map == "hot"
    old_ref = new.layer(study.reference.id)
    assert old_ref.volume is ct and old_ref.registered
    np.testing.assert_allclose(old_ref.transform.reference_to_layer, shift.layer_to_reference, atol=1e-12)
    # a point of the new reference reaches the same anatomy in the third layer either way round
    p = np.array([[10.0, -20.0, 30.0]])
    via_old = mr_like.transform.map_to_layer(shift.map_to_reference(p))
    np.testing.assert_allclose(new.layer(mr_like.id).transform.map_to_layer(p), via_old, atol=1e-9)
    assert study.reference.volume is ct  # the old study is untouched
    with pytest.raises(LayerError):
        study.rereference(study.reference.id)
    assert new.add_layer(ct, name="again").id not in {layer.id for layer in study.layers}


def test_segments_carried_to_the_pet_grid_keep_their_names_colours_and_sources(ct_pet):
    ct, pet = ct_pet
    study = Study(ct)
    pet_layer = study.add_layer(pet)
    gtv = read_image_file(f"{SAMPLE}/CT/nifti/mask/mask.nii.gz").array > 0
    segmentation = Segmentation(ct.geometry)
    first = segmentation.add_segment("GTV", colour=(10, 20, 30), source="rtstruct", mask=gtv)
    first.source_detail = "RTSTRUCT ROI GTV_Mass_CT from RS.dcm"
    segmentation.add_segment("empty")
    segmentation.set_active(first.id)
    seen = []
    new_study, carried = rereferenced(study, segmentation, pet_layer.id, progress=seen.append)
    assert carried.geometry.same_grid(pet.geometry) and new_study.reference.volume is pet
    names = [(s.name, s.colour, s.source, s.source_detail) for s in carried.segments.values()]
    assert names == [("GTV", (10, 20, 30), "rtstruct", "RTSTRUCT ROI GTV_Mass_CT from RS.dcm"),
                     ("empty", segmentation.segments[2].colour, "manual", "")]
    assert carried.segments[carried.active_id].name == "GTV" and not carried.undo_stack.can_undo()
    pet_truth = read_image_file(f"{SAMPLE}/PET/nifti/mask/mask.nii.gz").array > 0
    assert dice_and_jaccard(carried.segments[carried.active_id].mask, pet_truth)[0] > 0.99
    assert seen == [0.5, 1.0]
    with pytest.raises(TransferCancelled):
        carry_segmentation(segmentation, pet.geometry, LayerTransform.identity(), cancelled=lambda: True)


def test_viewer_state_adopts_the_rereferenced_study_and_keeps_the_crosshair_point(ct_pet):
    from medseg_app.core.viewer_state import ViewerState

    ct, pet = ct_pet
    state = ViewerState(ct)
    pet_layer = state.study.add_layer(pet)
    state.set_crosshair((100, 90, 30))
    point = ct.geometry.index_to_patient(state.crosshair)
    heard = []
    state.subscribe(heard.append)
    new_study, carried = rereferenced(state.study, state.segmentation, pet_layer.id)
    state.set_study(new_study, carried)
    assert heard[:2] == ["volume", "segmentation"]
    assert state.volume is pet and state.segmentation is carried and state.study is new_study
    assert np.abs(pet.geometry.index_to_patient(state.crosshair) - point).max() <= pet.spacing.max() / 2 + 1e-6
    with pytest.raises(ValueError):
        state.set_study(new_study, Segmentation(ct.geometry))


def test_a_quarter_turn_carries_the_mask_voxel_for_voxel():
    geometry = ImageGeometry((30, 30, 10), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0))
    mask = np.zeros(geometry.shape, bool)
    mask[2:6, 10:14, 18:25] = True  # k, j, i
    centre = (15.0, 15.0, 0.0)
    turn = LayerTransform.rigid(rotation_deg=(0.0, 0.0, 90.0), centre_mm=centre)  # target point → source point
    moved = transfer_mask_dense(mask, geometry, geometry, turn)
    # a target voxel (i, j) is inside when its rotated point (30 - j, i) is: (x, y) → (15 - (y - 15), 15 + (x - 15))
    k, j, i = np.indices(geometry.shape)
    source_i, source_j = 30 - j, i
    expected = (source_i >= 18) & (source_i < 25) & (source_j >= 10) & (source_j < 14) & (k >= 2) & (k < 6)
    np.testing.assert_array_equal(moved, expected)


def test_an_unregistered_layer_leaves_the_old_reference_unregistered_after_rereference(ct_pet):
    ct, pet = ct_pet
    other = Volume(pet.array, pet.geometry, modality="PT", units="SUV",
                   identity=SourceIdentity(frame_of_reference_uid="9.9.9"))
    study = Study(Volume(ct.array, ct.geometry, modality="CT", units="HU",
                         identity=SourceIdentity(frame_of_reference_uid="1.1.1")))
    layer = study.add_layer(other)
    assert not layer.registered
    assert not study.rereference(layer.id).layer(study.reference.id).registered
