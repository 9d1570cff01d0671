"""The multi-series study model (core, no Qt): layers, transforms, resampling onto the reference grid."""

from dataclasses import replace

import numpy as np
import pytest

from medseg_app.core.geometry import ImageGeometry
from medseg_app.core.layer_resampling import resample_plane
from medseg_app.core.layer_transform import LayerTransform
from medseg_app.core.study import LayerError, OtherPatientError, Study
from medseg_app.core.volume import SourceIdentity, Volume
from medseg_app.io.load import load_volume

SAMPLE = "resources/sample/STS_001"


@pytest.fixture(scope="module")
def ct_pet():
    return load_volume(f"{SAMPLE}/CT/dicom/image"), load_volume(f"{SAMPLE}/PET/dicom/image")


def test_pet_joins_the_ct_study_registered_in_its_frame_of_reference(ct_pet):
    ct, pet = ct_pet
    study = Study(ct)
    layer = study.add_layer(pet)
    assert study.reference.volume is ct and study.overlays == [layer]
    assert layer.registered and layer.transform.is_identity and layer.colour_map == "hot"
    resampled = study.on_reference(layer.id)
    assert resampled.geometry.same_grid(ct.geometry) and resampled.units == "SUV"
    assert study.on_reference(layer.id) is resampled  # kept
    # the hottest CT-grid voxel lies where the PET is hottest (linear interpolation never overshoots)
    assert np.nanmax(resampled.array) <= pet.array.max() + 1e-4
    k, j, i = np.unravel_index(np.nanargmax(resampled.array), resampled.array.shape)
    pk = pet.geometry.patient_to_nearest_index(ct.geometry.index_to_patient((i, j, k)))
    hot = np.unravel_index(np.argmax(pet.array), pet.array.shape)
    assert np.abs(np.asarray(pk[::-1]) - np.asarray(hot)).max() <= 1


def test_a_plane_resampled_on_the_fly_equals_the_whole_volume_resample(ct_pet):
    ct, pet = ct_pet
    study = Study(ct)
    layer = study.add_layer(pet)
    study.set_transform(layer.id, LayerTransform.rigid((3.0, -2.0, 1.5), (2.0, 0.0, -3.0), ct.geometry.origin))
    k = ct.size[2] // 2
    ii, jj = np.meshgrid(np.arange(ct.size[0]), np.arange(ct.size[1]))
    plane = resample_plane(pet, layer.transform, ct.geometry, np.stack([ii, jj, np.full_like(ii, k)], -1))
    whole = study.on_reference(layer.id).array[k]
    both = ~np.isnan(whole)
    assert both.mean() > 0.5
    np.testing.assert_allclose(plane[both], whole[both], atol=1e-3)


def test_transform_round_trips_and_dicom_direction():
    t = LayerTransform.rigid((10, -5, 2), (5, -3, 8), (1, 2, 3))
    p = np.array([[12.0, -40.0, 7.5], [0, 0, 0]])
    np.testing.assert_allclose(t.map_to_reference(t.map_to_layer(p)), p, atol=1e-9)
    back = LayerTransform.from_layer_to_reference(t.layer_to_reference)
    np.testing.assert_allclose(back.reference_to_layer, t.reference_to_layer, atol=1e-12)
    np.testing.assert_allclose(LayerTransform.from_list(t.to_list()).reference_to_layer, t.reference_to_layer)
    # a pure translation: the reference point p shows the layer's anatomy at p + t
    np.testing.assert_allclose(LayerTransform.rigid((1, 2, 3)).map_to_layer([0, 0, 0]), [1, 2, 3])


def _volume(patient="P1", frame="1.2.3", origin=(0, 0, 0)):
    geometry = ImageGeometry((8, 8, 8), (2, 2, 2), origin)
    return Volume(np.arange(512, dtype=np.float32).reshape(8, 8, 8), geometry, modality="MR",
                  identity=SourceIdentity(patient_id=patient, frame_of_reference_uid=frame))


def test_bad_layers_leave_the_study_unchanged():
    study = Study(_volume())
    with pytest.raises(OtherPatientError, match="another patient"):
        study.add_layer(_volume(patient="P2"))
    with pytest.raises(LayerError, match="does not overlap"):
        study.add_layer(_volume(origin=(500, 0, 0)))
    assert len(study.layers) == 1
    other = study.add_layer(_volume(patient="P2"), allow_other_patient=True)
    unregistered = study.add_layer(_volume(frame="9.9"))
    assert other.registered and not unregistered.registered
    assert study.unregistered() == [unregistered]
    study.confirm_alignment(unregistered.id)
    assert study.unregistered() == []
    with pytest.raises(LayerError):
        study.remove_layer(study.reference.id)


def test_order_display_and_listeners():
    study = Study(_volume())
    heard = []
    study.subscribe(lambda what, lid: heard.append((what, lid)))
    a = study.add_layer(_volume(), name="a")
    b = study.add_layer(_volume(), name="b")
    study.move_layer(b.id, 1)
    assert [l.name for l in study.overlays] == ["b", "a"]
    study.set_display(a.id, opacity=2.0, colour_map="rainbow", visible=False)
    assert a.opacity == 1.0 and a.colour_map == "rainbow" and not a.visible
    assert [l.name for l, _ in study.values_at((1, 1, 1))] == [study.reference.name, "b"]
    assert study.find("b") is b and study.find("MR") is study.reference
    assert ("order", b.id) in heard and ("display", a.id) in heard
    study.remove_layer(a.id)
    assert heard[-1] == ("removed", a.id)
