"""The transforms a mouse drag gives a layer (core/layer_dragging.py): a translation moves the press point onto the
cursor and keeps the rest of the transform, a rotation turns about the given normal through the centre by the
cursor's signed change of angle, from an affine start too."""

from __future__ import annotations

import numpy as np
import pytest

from medseg_app.core.layer_dragging import angle_around, axis_rotation, rotated, translated
from medseg_app.core.layer_transform import LayerTransform

START = LayerTransform.from_layer_to_reference([[1.1, 0.1, 0.0, 3.0], [0.0, 0.9, 0.2, -2.0], [0.0, 0.0, 1.0, 5.0],
                                                [0, 0, 0, 1]])


def test_a_translation_puts_what_was_under_the_press_under_the_cursor():
    press, cursor = np.array([10.0, -4.0, 7.0]), np.array([12.5, -1.0, 7.0])
    moved = translated(START, press, cursor)
    anatomy = START.map_to_layer(press)
    assert np.allclose(moved.map_to_reference(anatomy), cursor)
    assert np.allclose(moved.layer_to_reference[:3, :3], START.layer_to_reference[:3, :3], atol=1e-12)


def test_the_angle_around_a_centre_is_signed_by_the_right_hand_rule_and_ignores_the_normal_component():
    centre, z = np.array([1.0, 2.0, 3.0]), np.array([0.0, 0.0, 2.0])
    assert angle_around(centre, z, centre + (1, 0, 5), centre + (0, 1, -3)) == pytest.approx(np.pi / 2)
    assert angle_around(centre, -z, centre + (1, 0, 0), centre + (0, 1, 0)) == pytest.approx(-np.pi / 2)
    assert angle_around(centre, z, centre, centre + (0, 1, 0)) == 0.0


def test_a_rotation_turns_about_the_normal_through_the_centre():
    normal = np.array([1.0, 1.0, 0.0]) / np.sqrt(2)
    centre = np.array([-5.0, 8.0, 1.0])
    angle = np.radians(12.0)
    turned = rotated(START, centre, normal, angle)
    anatomy_at_centre = START.map_to_layer(centre)
    assert np.allclose(turned.map_to_reference(anatomy_at_centre), centre)
    offset = np.array([1.0, -1.0, 0.0])  # perpendicular to the normal
    anatomy = START.map_to_layer(centre + offset)
    moved = turned.map_to_reference(anatomy) - centre
    assert np.degrees(angle_around((0, 0, 0), normal, offset, moved)) == pytest.approx(12.0)
    assert np.allclose(axis_rotation(normal, angle) @ normal, normal)
    assert np.linalg.det(axis_rotation(normal, angle)) == pytest.approx(1.0)
