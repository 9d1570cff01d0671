"""Session files: an exact round trip, image verification, atomic writes that survive a crash mid-save, and
sessions that hold a copy of the image (geometry and voxels exactly as loaded; version-1 files still open)."""

from __future__ import annotations

import json
import shutil
import zipfile

import numpy as np
import pytest

from medseg_app.core.box import Box
from medseg_app.core.geometry import ImageGeometry
from medseg_app.core.sparse_mask import SparseMask
from medseg_app.core.viewer_state import ViewerState
from medseg_app.core.volume import SourceIdentity, Volume
from medseg_app.core.window_level import WindowLevel
from medseg_app.io import session_file
from medseg_app.io.session_file import SessionError, apply_session, load_session, save_session


def _volume(origin=(-10.0, 20.0, -300.0), uid="1.2.3") -> Volume:
    geometry = ImageGeometry(size=(40, 30, 20), spacing=(0.8, 1.0, 2.5), origin=origin)
    array = np.arange(40 * 30 * 20, dtype=np.int16).reshape(20, 30, 40)
    return Volume(array, geometry, modality="CT", units="HU", source_path="/data/ct.nii.gz",
                  identity=SourceIdentity(series_instance_uid=uid, frame_of_reference_uid="9.9"))


def _edited_state() -> ViewerState:
    state = ViewerState(_volume())
    seg = state.segmentation
    rng = np.random.default_rng(1)
    a = seg.add_segment("GTV", (230, 60, 50), "AI model")
    seg.modify(a.id, Box((2, 3, 4), (9, 14, 21)), rng.random((7, 11, 17)) > 0.5)
    seg.set_properties(a.id, source_detail="nnU-Net v2 fold 0", opacity=0.3)
    proposal = SparseMask(seg.shape)
    proposal.write(Box((3, 3, 3), (6, 8, 10)), rng.random((3, 5, 7)) > 0.3)
    a.proposal = proposal
    b = seg.add_segment("Cord", (80, 200, 90), "region growing")
    seg.modify(b.id, Box((0, 0, 0), (20, 2, 2)), np.ones((20, 2, 2), bool))
    seg.set_properties(b.id, visible=False, locked=True)
    seg.add_segment("Empty")
    state.set_crosshair((5, 6, 7))
    state.set_window(WindowLevel(350, 45))
    state.set_colour_map("hot")
    return state


def test_round_trip_restores_segments_and_view_exactly(tmp_path):
    state = _edited_state()
    path = tmp_path / "case.medseg"
    save_session(path, state, "/data/ct.nii.gz")
    loaded = load_session(path)
    assert loaded.image["series_uid"] == "1.2.3" and loaded.image["path"] == "/data/ct.nii.gz"
    other = ViewerState(_volume())
    apply_session(other, loaded)
    before, after = list(state.segmentation.segments.values()), list(other.segmentation.segments.values())
    assert len(before) == len(after) == 3
    for a, b in zip(before, after):
        for key in ("name", "colour", "visible", "opacity", "locked", "source", "source_detail"):
            assert getattr(a, key) == getattr(b, key), key
        assert np.array_equal(a.mask.to_dense(), b.mask.to_dense())
        assert (a.proposal is None) == (b.proposal is None)
        if a.proposal is not None:
            assert np.array_equal(a.proposal.to_dense(), b.proposal.to_dense())
    assert other.crosshair.tolist() == [5, 6, 7] and other.colour_map == "hot"
    assert (other.window.window, other.window.level) == (350, 45)
    assert not other.segmentation.undo_stack.can_undo()


def test_payload_is_packed_bits(tmp_path):
    state = _edited_state()
    path = tmp_path / "case.medseg"
    save_session(path, state)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    assert {"manifest.json", "masks/1.bin", "masks/1.proposal.bin", "masks/2.bin", "masks/3.bin"} <= names


def test_other_image_is_refused_in_one_sentence(tmp_path):
    path = tmp_path / "case.medseg"
    save_session(path, _edited_state())
    moved = ViewerState(_volume(origin=(0.0, 0.0, 0.0)))
    with pytest.raises(SessionError, match="geometry differs"):
        apply_session(moved, load_session(path))
    other_series = ViewerState(_volume(uid="4.5.6"))
    with pytest.raises(SessionError, match="series"):
        apply_session(other_series, load_session(path))


def test_not_a_session_is_refused(tmp_path):
    bad = tmp_path / "bad.medseg"
    bad.write_bytes(b"not a zip")
    with pytest.raises(SessionError, match="could not be read"):
        load_session(bad)


def test_interrupted_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    state = _edited_state()
    path = tmp_path / "case.medseg"
    save_session(path, state)
    good = path.read_bytes()
    seg = state.segmentation
    seg.modify(seg.by_name("GTV").id, Box((0, 0, 0), (20, 30, 40)), np.ones((20, 30, 40), bool))
    real = session_file._write_archive

    def crash_half_way(stream, manifest, payloads):
        real(stream, manifest, payloads)
        stream.flush()
        stream.truncate(stream.tell() // 2)  # partial output on disk, then the "power cut"
        raise OSError("simulated crash during the write")

    monkeypatch.setattr(session_file, "_write_archive", crash_half_way)
    with pytest.raises(OSError, match="simulated crash"):
        save_session(path, state)
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["case.medseg"]  # no temp file left behind
    restored = ViewerState(_volume())
    apply_session(restored, load_session(path))
    assert restored.segmentation.by_name("GTV").mask.count() < 20 * 30 * 40
    monkeypatch.setattr(session_file, "_write_archive", real)
    save_session(path, state)
    assert load_session(path).segments[0]["mask"].count() == 20 * 30 * 40


# --- sessions holding a copy of the image ------------------------------------------------------
def _oblique_float_volume() -> Volume:
    a, b = np.deg2rad(25), np.deg2rad(15)
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    geometry = ImageGeometry(size=(40, 30, 20), spacing=(0.7031249, 0.7031249, 2.4999),
                             origin=(-123.456789, 87.1, -3.3), direction=rz @ rx)
    array = np.random.default_rng(3).normal(size=(20, 30, 40)).astype(np.float32)
    return Volume(array, geometry, modality="MR", units="", source_path="/nowhere/t1.nii.gz",
                  identity=SourceIdentity(series_instance_uid="1.2.9", frame_of_reference_uid="8.8",
                                          sop_instance_uids=tuple(f"1.2.9.{n}" for n in range(20))))


def _assert_same_image(copy: Volume, original: Volume) -> None:
    assert copy.geometry.size == original.geometry.size
    for what in ("spacing", "origin", "direction"):  # exactly, not within a tolerance
        assert np.array_equal(getattr(copy.geometry, what), getattr(original.geometry, what)), what
    assert copy.array.dtype == original.array.dtype and np.array_equal(copy.array, original.array)
    assert (copy.modality, copy.units, copy.identity) == (original.modality, original.units, original.identity)


def test_copy_round_trip_opens_with_the_original_files_deleted(tmp_path, copy_series, sample_ct):
    from medseg_app.io import load_volume

    folder = copy_series(sample_ct, "ct")
    original = load_volume(folder)
    state = ViewerState(original)
    seg = state.segmentation
    gtv = seg.add_segment("GTV", (230, 60, 50))
    seg.modify(gtv.id, Box((20, 80, 70), (35, 130, 120)), np.random.default_rng(2).random((15, 50, 50)) > 0.4)
    path = tmp_path / "case.medseg"
    save_session(path, state, str(folder), include_image=True)
    shutil.rmtree(folder)

    session = load_session(path)
    assert session.has_image_copy and session.image["path"] == str(folder)
    with zipfile.ZipFile(path) as archive:
        assert json.loads(archive.read("manifest.json"))["format_version"] == 2
        assert session_file.IMAGE_COPY_FILE in archive.namelist()
    assert session_file.image_copy_source(session) == path
    copy = session_file.load_image_copy(path)
    _assert_same_image(copy, original)
    assert copy.source_path == str(folder)  # saving again goes on referencing the original
    restored = ViewerState(copy)
    apply_session(restored, session)
    assert np.array_equal(restored.segmentation.by_name("GTV").mask.to_dense(), gtv.mask.to_dense())


def test_copy_keeps_an_oblique_float_grid_exactly_and_is_an_lps_nrrd(tmp_path):
    from medseg_app.io.image_files import read_image_file

    volume = _oblique_float_volume()
    path = tmp_path / "oblique.medseg"
    save_session(path, ViewerState(volume), include_image=True)
    _assert_same_image(session_file.load_image_copy(path), volume)
    with zipfile.ZipFile(path) as archive:  # the copy is an ordinary NRRD: SimpleITK puts it where it lies
        archive.extract(session_file.IMAGE_COPY_FILE, tmp_path)
    theirs = read_image_file(tmp_path / session_file.IMAGE_COPY_FILE)
    assert theirs.geometry.same_grid(volume.geometry, tol_mm=1e-9)
    assert np.allclose(theirs.geometry.index_to_patient([39, 29, 19]), volume.geometry.index_to_patient([39, 29, 19]),
                       atol=1e-9)
    assert np.array_equal(theirs.array, volume.array)


def test_reference_only_session_stays_version_1_and_refuses_another_image(tmp_path):
    path = tmp_path / "case.medseg"
    save_session(path, _edited_state())
    session = load_session(path)
    with zipfile.ZipFile(path) as archive:
        assert json.loads(archive.read("manifest.json"))["format_version"] == 1
        assert not any(name.startswith("image/") for name in archive.namelist())
    assert not session.has_image_copy and session_file.image_copy_source(session) is None
    with pytest.raises(SessionError, match="geometry differs"):
        apply_session(ViewerState(_volume(origin=(0.0, 0.0, 0.0))), session)
    with pytest.raises(SessionError, match="holds no copy"):
        session_file.load_image_copy(path)


def test_reference_to_a_missing_image_falls_back_to_the_session_copy_it_came_from(tmp_path):
    volume = _oblique_float_volume()
    with_copy = tmp_path / "with_copy.medseg"
    save_session(with_copy, ViewerState(volume), include_image=True)
    later = tmp_path / "later.medseg"  # e.g. a recovery file written after opening with_copy
    save_session(later, ViewerState(volume), "/gone/t1.nii.gz", copy_in=str(with_copy))
    session = load_session(later)
    assert not session.has_image_copy and session.image["copy_in"] == str(with_copy)
    assert session_file.image_copy_source(session) == with_copy
    existing = tmp_path / "t1.nii.gz"
    existing.write_bytes(b"")
    save_session(later, ViewerState(volume), str(existing), copy_in=str(with_copy))
    assert session_file.image_copy_source(load_session(later)) is None  # the referenced image is there: open it


def test_a_version_1_file_still_opens(tmp_path):
    """A manifest as the first MedSeg wrote it (no modality, units or copy keys)."""
    state = _edited_state()
    v = state.volume
    seg = state.segmentation.by_name("GTV")
    manifest = {"format": "medseg-session", "format_version": 1,
                "image": {"path": "/data/ct.nii.gz", "series_uid": "1.2.3", "frame_of_reference_uid": "9.9",
                          "size": list(v.size), "spacing": list(map(float, v.spacing)),
                          "origin": list(map(float, v.origin)), "direction": v.geometry.direction_row_major()},
                "segments": [{"id": 7, "name": "GTV", "colour": [230, 60, 50], "visible": True, "opacity": 0.5,
                              "locked": False, "source": "manual", "source_detail": "",
                              "box": [list(seg.mask.box.start), list(seg.mask.box.stop)], "file": "masks/7.bin",
                              "proposal_box": None, "proposal_file": None}],
                "active_id": 7, "view": {"crosshair": [1, 2, 3], "window": 400.0, "level": 40.0, "colour_map": "grey"}}
    path = tmp_path / "v1.medseg"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
        archive.writestr("masks/7.bin", session_file.encode_mask(seg.mask.box, seg.mask.data))
    session = load_session(path)
    assert not session.has_image_copy and session_file.image_copy_source(session) is None
    restored = ViewerState(_volume())
    apply_session(restored, session)
    assert np.array_equal(restored.segmentation.by_name("GTV").mask.to_dense(), seg.mask.to_dense())


def test_damaged_copy_or_newer_format_is_refused_in_one_sentence(tmp_path):
    path = tmp_path / "case.medseg"
    save_session(path, ViewerState(_oblique_float_volume()), include_image=True)
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    damaged = tmp_path / "damaged.medseg"
    with zipfile.ZipFile(damaged, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data[: len(data) // 2] if name == session_file.IMAGE_COPY_FILE else data)
    with pytest.raises(SessionError, match="copy of the image .* could not be read|truncated"):
        session_file.load_image_copy(damaged)
    newer = tmp_path / "newer.medseg"
    manifest = json.loads(entries["manifest.json"])
    manifest["format_version"] = session_file.FORMAT_VERSION + 1
    with zipfile.ZipFile(newer, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
    with pytest.raises(SessionError, match="newer MedSeg"):
        load_session(newer)


def test_structures_read_from_files_keep_where_they_came_from(tmp_path):
    state = ViewerState(_volume())
    seg = state.segmentation
    origins = {"GTV_Mass": ("RTSTRUCT", "RTSTRUCT ROI 'GTV_Mass' from RS.dcm"),
               "Liver": ("SEG", "SEG segment 'Liver' from seg.dcm"),
               "GTV_Mass_CT": ("label map", "label map mask/mask.nii.gz label 1, named after RTSTRUCT ROI "
                                            "'GTV_Mass_CT' from RS.dcm")}
    for k, (name, (source, detail)) in enumerate(origins.items()):
        segment = seg.add_segment(name, source=source)
        seg.modify(segment.id, Box((k, 0, 0), (k + 2, 3, 4)), np.ones((2, 3, 4), bool))
        seg.set_properties(segment.id, source_detail=detail)
    path = tmp_path / "imported.medseg"
    save_session(path, state, "/data/ct")
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert {e["name"]: (e["source"], e["source_detail"]) for e in manifest["segments"]} == origins
    restored = ViewerState(_volume())
    apply_session(restored, load_session(path))
    assert {s.name: (s.source, s.source_detail) for s in restored.segmentation.segments.values()} == origins


def test_a_segment_saved_before_sources_had_details_opens_as_it_was(tmp_path):
    """An older manifest's segment without ``source_detail`` (or even ``source``) opens as a manual segment."""
    state = ViewerState(_volume())
    seg = state.segmentation
    segment = seg.add_segment("GTV")
    seg.modify(segment.id, Box((1, 1, 1), (3, 4, 5)), np.ones((2, 3, 4), bool))
    path = tmp_path / "old.medseg"
    save_session(path, state, "/data/ct")
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(entries["manifest.json"])
    for entry in manifest["segments"]:
        del entry["source"], entry["source_detail"]
    entries["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    restored = ViewerState(_volume())
    apply_session(restored, load_session(path))
    (again,) = restored.segmentation.segments.values()
    assert (again.name, again.source, again.source_detail) == ("GTV", "manual", "")
    assert np.array_equal(again.mask.to_dense(), segment.mask.to_dense())
