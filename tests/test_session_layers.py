"""Sessions keep a study's image layers: each overlay's image (by reference or as a copy), its display settings,
transform and registration state, in drawing order; sessions from before layers still open (headless, io)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from medseg_app.core.layer_transform import LayerTransform
from medseg_app.core.study import Study
from medseg_app.core.viewer_state import ViewerState
from medseg_app.core.volume import SourceIdentity, Volume
from medseg_app.core.window_level import WindowLevel
from medseg_app.io.load import load_volume
from medseg_app.io.session_file import load_session, save_session
from medseg_app.io.session_layers import SessionError, load_layer_volume, restore_layer

SAMPLE = "resources/sample/STS_001"


@pytest.fixture(scope="module")
def ct_pet():
    return load_volume(f"{SAMPLE}/CT/dicom/image"), load_volume(f"{SAMPLE}/PET/dicom/image")


def _other_frame(pet: Volume) -> Volume:
    """The PET as if from another scanner: same voxels and files, another Frame of Reference."""
    identity = SourceIdentity(**{**pet.identity.__dict__, "frame_of_reference_uid": "1.2.826.0.1.99"})
    return Volume(pet.array, pet.geometry, modality="PT", units=pet.units, identity=identity,
                  source_path=pet.source_path)


def _fused_state(ct, pet) -> ViewerState:
    state = ViewerState(ct)
    study = state.study
    pet_layer = study.add_layer(pet)
    study.set_display(pet_layer.id, window=WindowLevel(5.0, 2.5), colour_map="rainbow", opacity=0.35,
                      fusion_mode="checkerboard")
    shifted = study.add_layer(_other_frame(pet), "PET moved")
    assert not shifted.registered
    study.set_display(shifted.id, visible=False, colour_map="inverted")
    study.set_transform(pet_layer.id, LayerTransform.rigid((4.0, -2.5, 1.0), (1.5, 0.0, -2.0), ct.geometry.origin),
                        note="rigid MI")
    study.move_layer(shifted.id, 1)  # drawn under the PET
    return state


def _reopened(path, ct) -> Study:
    session = load_session(path)
    study = Study(ct)
    for entry in session.layers:
        restore_layer(study, load_layer_volume(path, entry), entry)
    return study


def _assert_same_layers(a: Study, b: Study) -> None:
    assert [l.name for l in a.layers] == [l.name for l in b.layers]
    for x, y in zip(a.overlays, b.overlays):
        for key in ("colour_map", "opacity", "visible", "fusion_mode", "registered", "registration_note"):
            assert getattr(x, key) == getattr(y, key), key
        assert (x.window.window, x.window.level) == (y.window.window, y.window.level)
        np.testing.assert_array_equal(x.transform.reference_to_layer, y.transform.reference_to_layer)
        assert y.volume.geometry.same_grid(x.volume.geometry, tol_mm=1e-9)
        np.testing.assert_array_equal(x.volume.array, y.volume.array)
        assert (y.volume.modality, y.volume.units) == (x.volume.modality, x.volume.units)


def test_layers_round_trip_by_reference(tmp_path, ct_pet):
    ct, pet = ct_pet
    state = _fused_state(ct, pet)
    path = tmp_path / "fused.medseg"
    save_session(path, state, f"{SAMPLE}/CT/dicom/image")
    manifest = json.loads(zipfile.ZipFile(path).read("manifest.json"))
    assert manifest["format_version"] == 1  # no copy: a version-1 reader still opens the reference
    assert [e["name"] for e in manifest["layers"]] == ["PET moved", state.study.layers[2].name]
    assert manifest["layers"][1]["registration_note"] == "rigid MI" and not manifest["layers"][0]["registered"]
    reopened = _reopened(path, ct)
    _assert_same_layers(state.study, reopened)
    assert reopened.layers[1].name == "PET moved" and not reopened.layers[1].registered
    assert reopened.unregistered() == [reopened.layers[1]]
    # the resampled PET on the CT grid is the same: the transform came back exactly
    np.testing.assert_array_equal(state.study.on_reference(state.study.layers[2].id).array,
                                  reopened.on_reference(reopened.layers[2].id).array)


def test_layers_round_trip_as_copies_without_the_original_files(tmp_path, ct_pet):
    ct, pet = ct_pet
    state = _fused_state(ct, pet)
    path = tmp_path / "fused-copy.medseg"
    save_session(path, state, include_image=True)
    with zipfile.ZipFile(path) as archive:
        assert {"image/image.nrrd", "layers/1.nrrd", "layers/2.nrrd"} <= set(archive.namelist())
    session = load_session(path)
    for entry in session.layers:
        entry["path"] = str(tmp_path / "gone")  # the copies are read, not the original series
    study = Study(ct)
    for entry in session.layers:
        restore_layer(study, load_layer_volume(path, entry), entry)
    _assert_same_layers(state.study, study)
    assert study.layers[2].volume.identity.series_instance_uid == pet.identity.series_instance_uid


def test_session_without_layers_opens_as_before_and_a_moved_layer_is_refused(tmp_path, ct_pet):
    ct, pet = ct_pet
    plain = tmp_path / "plain.medseg"
    save_session(plain, ViewerState(ct))
    assert load_session(plain).layers == []
    old = tmp_path / "old.medseg"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(old, "w") as dst:
        manifest = json.loads(src.read("manifest.json"))
        del manifest["layers"]
        dst.writestr("manifest.json", json.dumps(manifest))
    assert load_session(old).layers is None
    state = _fused_state(ct, pet)
    path = tmp_path / "fused.medseg"
    save_session(path, state)
    entry = load_session(path).layers[1]
    entry["size"] = [entry["size"][0] + 1, *entry["size"][1:]]
    with pytest.raises(SessionError, match="geometry differs"):
        load_layer_volume(path, entry)


def test_a_computed_layer_without_a_file_needs_a_copy(tmp_path, ct_pet):
    ct, pet = ct_pet
    state = ViewerState(ct)
    computed = Volume(pet.array * 2, pet.geometry, modality="PT", units=pet.units, identity=pet.identity)
    state.study.add_layer(computed, "PET doubled")
    by_reference, with_copy = tmp_path / "ref.medseg", tmp_path / "copy.medseg"
    save_session(by_reference, state)
    save_session(with_copy, state, include_image=True)
    with pytest.raises(SessionError, match="has no file"):
        load_layer_volume(by_reference, load_session(by_reference).layers[0])
    restored = _reopened(with_copy, ct)
    np.testing.assert_array_equal(restored.layers[1].volume.array, computed.array)
