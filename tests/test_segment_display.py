"""Segments cut at a slice from their bounding boxes, oriented like the image, blended with fill and outline."""

from __future__ import annotations

import numpy as np
import pytest

from medseg_app.core.box import Box
from medseg_app.core.display_axes import VIEWS, slice_of, view_axes
from medseg_app.core.geometry import ImageGeometry
from medseg_app.core.segment_display import (SegmentLayer, blend_layers, box_on_slice, inner_outline,
                                             segment_layer)
from medseg_app.core.sparse_mask import SparseMask

FLIPPED = np.diag([-1.0, 1.0, -1.0])  # i runs to the patient's right, k to inferior: views flip


@pytest.mark.parametrize("direction", [np.eye(3), FLIPPED], ids=["identity", "flipped"])
@pytest.mark.parametrize("view", VIEWS)
def test_layer_matches_the_dense_slice(view, direction):
    rng = np.random.default_rng(1)
    dense = np.zeros((9, 11, 13), bool)
    dense[2:7, 3:9, 4:12] = rng.random((5, 6, 8)) > 0.4
    mask = SparseMask.from_dense(dense)
    geometry = ImageGeometry(size=(13, 11, 9), spacing=(1, 1, 1), origin=(0, 0, 0), direction=direction)
    axes = view_axes(geometry, view)
    for index in range(dense.shape[2 - axes.slice_axis]):
        expected = slice_of(dense, axes, index)
        layer = segment_layer(mask, axes, index, (255, 0, 0), 0.5)
        if not expected.any():
            assert layer is None
            continue
        drawn = np.zeros_like(expected)
        y0, y1, x0, x1 = layer.rect
        drawn[y0:y1, x0:x1] = layer.plane
        np.testing.assert_array_equal(drawn, expected)


def test_box_on_slice():
    geometry = ImageGeometry(size=(10, 10, 10), spacing=(1, 1, 1), origin=(0, 0, 0))
    axial = view_axes(geometry, "axial")
    box = Box((3, 0, 0), (5, 2, 2))
    assert [box_on_slice(box, axial, k) for k in (2, 3, 4, 5)] == [False, True, True, False]


def test_outline_is_the_inner_boundary_with_the_plane_edge_outside():
    plane = np.ones((4, 5), bool)
    outline = inner_outline(plane)
    assert outline[0].all() and outline[-1].all() and outline[:, 0].all() and not outline[1:3, 1:4].any()


def test_overlapping_layers_blend_in_order():
    image = np.full((6, 6, 4), 100, np.uint8)
    a = SegmentLayer(np.ones((4, 4), bool), (0, 4, 0, 4), (255, 0, 0), 0.5)
    b = SegmentLayer(np.ones((4, 4), bool), (2, 6, 2, 6), (0, 0, 255), 0.5, outline=False)
    blend_layers(image, [a, b], channels=(0, 1, 2))
    assert tuple(image[0, 0, :3]) == (255, 0, 0)  # a's outline: its own colour
    assert tuple(image[1, 1, :3]) == (178, 50, 50)  # a's fill: half red over grey 100
    assert tuple(image[3, 3, :3]) == (128, 0, 128)  # a's outline under b's fill
    assert tuple(image[4, 4, :3]) == (50, 50, 178)  # b alone
    assert tuple(image[5, 0, :3]) == (100, 100, 100)
