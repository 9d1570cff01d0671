"""Image layers fused over the reference slice (core, no Qt): blend, checkerboard, difference, NaN, order."""

from __future__ import annotations

import numpy as np

from medseg_app.core.display_axes import index_to_screen, view_axes
from medseg_app.core.fused_display import FusedComposer, OverlayPlane, checker_mask, over_tables, plane_indices
from medseg_app.core.geometry import ImageGeometry
from medseg_app.core.window_level import WindowLevel, colour_table


def rgb(packed) -> tuple[int, int, int]:
    v = int(packed)
    return (v >> 16) & 255, (v >> 8) & 255, v & 255


def compose(grey8, overlays, reference_map="grey"):
    out = np.zeros(grey8.shape, np.uint32)
    return FusedComposer().compose(grey8, reference_map, overlays, out)


def test_blend_mixes_at_the_layer_opacity_and_nan_is_transparent():
    grey8 = np.full((2, 3), 100, np.uint8)
    values = np.array([[0.0, 5.0, np.nan], [2.5, 10.0, np.nan]], np.float32)
    out = compose(grey8, [OverlayPlane(values, WindowLevel.from_range(0, 5), "grey", 0.5)])
    assert rgb(out[0, 0]) == (50, 50, 50)  # half of 100 + half of black
    assert rgb(out[0, 1]) == (178, 178, 178)  # half of 100 + half of white (rounded)
    assert rgb(out[1, 1]) == rgb(out[0, 1])  # above the window: the top of the ramp
    assert rgb(out[0, 2]) == rgb(out[1, 2]) == (100, 100, 100)  # outside the layer: the reference alone
    assert (out >> 24 == 255).all()


def test_hot_overlay_at_opacity_one_shows_the_hot_colour_map():
    grey8 = np.full((1, 2), 30, np.uint8)
    values = np.array([[5.0, 1.0]], np.float32)
    out = compose(grey8, [OverlayPlane(values, WindowLevel.from_range(0, 5), "hot", 1.0)])
    hot = colour_table("hot")
    assert rgb(out[0, 0]) == tuple(hot[255])
    assert rgb(out[0, 1]) == tuple(hot[50])  # level 1/5 of 254, truncated as to_grey8 does
    assert rgb(out[0, 1])[0] > rgb(out[0, 1])[1]  # a middling SUV is red, not grey


def test_checkerboard_alternates_reference_and_layer_squares():
    grey8 = np.full((8, 8), 40, np.uint8)
    values = np.full((8, 8), 5.0, np.float32)
    out = compose(grey8, [OverlayPlane(values, WindowLevel.from_range(0, 5), "grey", 0.3, "checkerboard",
                                       (4.0, 4.0))])
    assert rgb(out[0, 0]) == rgb(out[3, 3]) == rgb(out[4, 4]) == (40, 40, 40)  # the reference's squares
    assert rgb(out[0, 4]) == rgb(out[4, 0]) == rgb(out[7, 3]) == (255, 255, 255)  # the layer, opaque
    np.testing.assert_array_equal(checker_mask((8, 8), (4, 4))[::4, ::4], [[True, False], [False, True]])


def test_difference_is_dark_where_both_agree_through_their_windows():
    grey8 = np.array([[0, 255, 255]], np.uint8)
    values = np.array([[0.0, 100.0, 0.0]], np.float32)  # in its window 0..100: 0, top, 0
    out = compose(grey8, [OverlayPlane(values, WindowLevel.from_range(0, 100), "grey", 1.0, "difference")])
    assert rgb(out[0, 0]) == (0, 0, 0) and rgb(out[0, 1]) == (0, 0, 0)
    assert rgb(out[0, 2]) == (255, 255, 255)


def test_layers_are_drawn_in_order_over_each_other():
    grey8 = np.zeros((1, 2), np.uint8)
    below = OverlayPlane(np.array([[5.0, 5.0]], np.float32), WindowLevel.from_range(0, 5), "grey", 1.0)
    above = OverlayPlane(np.array([[0.0, np.nan]], np.float32), WindowLevel.from_range(0, 5), "hot", 0.5)
    out = compose(grey8, [below, above])
    assert all(abs(c - 127.5) <= 1 for c in rgb(out[0, 0]))  # white below, the hot map's black at half opacity
    assert rgb(out[0, 1]) == (255, 255, 255)  # the top layer is absent there: the one below shows
    assert rgb(compose(grey8, [above, below])[0, 0]) == (255, 255, 255)


def test_plane_indices_match_the_views_screen_mapping():
    geometry = ImageGeometry(size=(6, 5, 4), spacing=(1.0, 1.0, 2.0), origin=(0, 0, 0),
                             direction=np.diag([-1.0, 1.0, -1.0]))
    for view in ("axial", "coronal", "sagittal"):
        axes = view_axes(geometry, view)
        plane = plane_indices(geometry, axes, 2)
        for index in [(1, 2, 2), (5, 4, 2), (0, 0, 2)]:
            index = list(index)
            index[axes.slice_axis] = 2
            x, y, _ = index_to_screen(geometry, axes, index)
            np.testing.assert_array_equal(plane[int(y), int(x)], index)


def test_a_second_layer_is_blended_over_the_first_within_one_and_a_half_levels_everywhere():
    rng = np.random.default_rng(3)
    grey8 = rng.integers(0, 256, (40, 50)).astype(np.uint8)
    first = rng.random((40, 50)).astype(np.float32) * 6
    second = rng.random((40, 50)).astype(np.float32) * 6
    second[::3] = np.nan
    window = WindowLevel.from_range(0, 5)
    planes = [OverlayPlane(first, window, "hot", 0.6), OverlayPlane(second, window, "rainbow", 0.35)]
    out = compose(grey8, planes)
    below = compose(grey8, planes[:1]).view(np.uint8).reshape(40, 50, 4)[..., :3].astype(float)
    level = np.clip((second - 0) * 254 / 5, 0, 254)
    colour = colour_table("rainbow")[np.round(np.floor(np.nan_to_num(level)) * 255 / 254).astype(int)]
    colour = colour[..., ::-1]  # packed ARGB is B, G, R, A in memory (little-endian)
    expected = np.where(np.isnan(second)[..., None], below, below * 0.65 + colour * 0.35)
    got = out.view(np.uint8).reshape(40, 50, 4)
    assert np.abs(got[..., :3] - expected).max() <= 1.5
    assert (got[..., 3] == 255).all()


def test_drawing_over_never_carries_from_one_byte_into_the_next():
    for opacity in (0.01, 0.3, 0.5, 0.502, 0.77, 0.999, 1.0):
        plane = OverlayPlane(np.zeros((1, 1), np.float32), WindowLevel(1, 0), "grey", opacity)
        premultiplied, scale = over_tables("grey", plane)
        for shift in (16, 8, 0):
            assert int(scale.max()) + int(((premultiplied >> shift) & 255).max()) <= 255
