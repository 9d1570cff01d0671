"""Rulers and ellipse ROIs are kept in session files; a session written before measurements opens without any."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from medseg_app.core.geometry import ImageGeometry
from medseg_app.core.viewer_state import ViewerState
from medseg_app.core.volume import Volume
from medseg_app.io.session_file import apply_session, load_session, save_session


def _volume() -> Volume:
    geometry = ImageGeometry((30, 20, 10), (0.8, 0.8, 3.0), (-10.0, 20.0, -300.0))
    return Volume(np.zeros(geometry.shape, np.int16), geometry, modality="CT", units="HU")


def test_rulers_and_ellipses_round_trip_through_a_session(tmp_path):
    state = ViewerState(_volume())
    g = state.volume.geometry
    ruler = state.measurements.add_ruler(*g.index_to_patient([[1.5, 2.0, 4.0], [20.25, 13.0, 4.0]]), name="long axis")
    state.measurements.add_ellipse(*g.index_to_patient([[3, 3, 7], [9, 12, 7]]), slice_axis=2)
    path = tmp_path / "s.medseg"
    save_session(path, state, "/data/ct.nii.gz")
    other = ViewerState(_volume())
    other.measurements.add_ruler([0, 0, 0], [1, 1, 1])  # what was drawn before opening goes
    apply_session(other, load_session(path))
    items = list(other.measurements.items.values())
    assert [(m.kind, m.name) for m in items] == [("ruler", "long axis"), ("ellipse", "Ellipse 2")]
    assert np.array_equal(items[0].start, ruler.start) and np.array_equal(items[0].end, ruler.end)
    assert items[0].length_mm == pytest.approx(ruler.length_mm) and items[1].slice_axis == 2


def test_a_session_without_measurements_opens_and_clears_them(tmp_path):
    state = ViewerState(_volume())
    path = tmp_path / "old.medseg"
    save_session(path, state, "/data/ct.nii.gz")
    with zipfile.ZipFile(path) as archive:
        assert "measurements" not in json.loads(archive.read("manifest.json"))["view"]
    other = ViewerState(_volume())
    other.measurements.add_ruler([0, 0, 0], [5, 0, 0])
    apply_session(other, load_session(path))
    assert other.measurements.items == {}
