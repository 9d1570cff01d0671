"""The fast slice renderer agrees with core's reference rendering, and outlines only region borders."""

from __future__ import annotations

import numpy as np
import pytest

from medseg_app.core.display_axes import slice_of, view_axes
from medseg_app.core.viewer_state import default_label_colours
from medseg_app.core.window_level import WindowLevel, blend_table, render_rgba, to_grey8
from medseg_app.ui.viewer.slice_rendering import SliceRendering, grey_table, outline_mask

from .ui_test_data import ramp_volume


@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.uint8, np.int8])
def test_grey_table_matches_to_grey8(dtype):
    info = np.iinfo(dtype)
    values = np.linspace(info.min, info.max, 997).astype(dtype).reshape(1, -1)
    window = WindowLevel(info.max / 3 + 1, info.max / 5)
    unsigned = values.view(np.uint8 if values.itemsize == 1 else np.uint16)
    np.testing.assert_array_equal(grey_table(np.dtype(dtype), window)[unsigned], to_grey8(values, window))


def test_outline_is_the_inner_border_of_each_region():
    labels = np.zeros((7, 7), np.uint8)
    labels[1:6, 1:6] = 1
    labels[3, 3] = 2
    mask = outline_mask(labels, np.zeros(labels.shape, bool))
    expected = np.zeros((7, 7), bool)
    expected[1:6, 1:6] = True
    expected[2:5, 2:5] = False
    expected[2, 3] = expected[4, 3] = expected[3, 2] = expected[3, 4] = True  # label 1 touching label 2
    expected[3, 3] = True
    np.testing.assert_array_equal(mask, expected)


@pytest.mark.parametrize("view", ["axial", "coronal", "sagittal"])
def test_render_matches_core_blend_off_the_outline(view):
    volume = ramp_volume()
    labels = np.zeros(volume.array.shape, np.uint8)
    labels[5:15, 8:20, 10:30] = 1
    axes = view_axes(volume.geometry, view)
    colours = default_label_colours(2)
    window = WindowLevel(800, 600)
    rendering = SliceRendering()
    for index in (6, 9):
        image = rendering.render(volume.array, axes, index, window, "hot", labels, colours, 0.4)
        plane, label_plane = slice_of(volume.array, axes, index), slice_of(labels, axes, index)
        reference = render_rgba(to_grey8(plane, window), blend_table("hot", colours, 0.4), label_plane)
        edge = outline_mask(np.ascontiguousarray(label_plane), np.zeros(label_plane.shape, bool))
        assert (image.width(), image.height()) == (plane.shape[1], plane.shape[0])
        np.testing.assert_array_equal(rendering.rgba[~edge], reference[~edge])
        outline_colour = 0xFF000000 | (230 << 16) | (60 << 8) | 50
        assert np.all(rendering.rgba[edge] == outline_colour)
