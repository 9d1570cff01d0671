"""Session files: an exact round trip, image verification, and atomic writes that survive a crash mid-save."""

from __future__ import annotations

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
