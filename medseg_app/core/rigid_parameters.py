"""A layer's placement as six numbers a user reads and edits: translation (mm) and rotation (degrees) of the layer as
seen in the reference, about a fixed centre (the reference image's centre).

The numbers describe ``layer_to_reference`` (where the layer's anatomy lands in the reference), so "+10 mm in x"
moves the drawn layer 10 mm towards the patient's left, as a user expects. An affine transform keeps its
non-rigid part (the symmetric factor ``S`` of the polar decomposition ``L = R · S``, applied about the centre):
editing the six numbers changes only the rotation and the translation.

Rotation angles follow :meth:`LayerTransform.rigid` (about x, then y, then z: R = Rz · Ry · Rx).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layer_transform import LayerTransform


@dataclass(frozen=True)
class RigidParameters:
    translation_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rotation_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def nudged(self, axis: int, *, translate_mm: float = 0.0, rotate_deg: float = 0.0) -> "RigidParameters":
        t, r = list(self.translation_mm), list(self.rotation_deg)
        t[axis] += translate_mm
        r[axis] += rotate_deg
        return RigidParameters(tuple(t), tuple(r))


def rotation_matrix(rotation_deg) -> np.ndarray:
    return LayerTransform.rigid(rotation_deg=rotation_deg).reference_to_layer[:3, :3].copy()


def euler_angles_deg(rotation: np.ndarray) -> tuple[float, float, float]:
    """(ax, ay, az) in degrees with ``rotation == Rz(az) · Ry(ay) · Rx(ax)``."""
    r = np.asarray(rotation, dtype=float)
    ay = np.arcsin(np.clip(-r[2, 0], -1.0, 1.0))
    if abs(np.cos(ay)) > 1e-9:
        ax = np.arctan2(r[2, 1], r[2, 2])
        az = np.arctan2(r[1, 0], r[0, 0])
    else:  # gimbal lock: only ax - az (or ax + az) is defined; put it all in ax
        ax, az = np.arctan2(-r[1, 2], r[1, 1]), 0.0
    return tuple(float(v) for v in np.rad2deg([ax, ay, az]))


def _polar(linear: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """L = R · S with R a rotation and S symmetric positive definite."""
    u, s, vt = np.linalg.svd(linear)
    rotation = u @ vt
    if np.linalg.det(rotation) < 0:  # a reflection is part of S, not of the rotation
        u[:, -1] = -u[:, -1]
        s[-1] = -s[-1]
        rotation = u @ vt
    return rotation, vt.T @ np.diag(s) @ vt


def rigid_parameters(transform: LayerTransform, centre_mm) -> RigidParameters:
    """The six numbers of ``transform`` about ``centre_mm`` (reference patient coordinates)."""
    m = transform.layer_to_reference
    centre = np.asarray(centre_mm, dtype=float)
    rotation, _ = _polar(m[:3, :3])
    translation = m[:3, :3] @ centre + m[:3, 3] - centre
    return RigidParameters(tuple(float(v) for v in translation), euler_angles_deg(rotation))


def with_rigid_parameters(transform: LayerTransform, parameters: RigidParameters, centre_mm) -> LayerTransform:
    """``transform`` with its rotation and translation about ``centre_mm`` replaced (its non-rigid part kept)."""
    _, stretch = _polar(transform.layer_to_reference[:3, :3])
    centre = np.asarray(centre_mm, dtype=float)
    linear = rotation_matrix(parameters.rotation_deg) @ stretch
    m = np.eye(4)
    m[:3, :3] = linear
    m[:3, 3] = centre + np.asarray(parameters.translation_mm, dtype=float) - linear @ centre
    return LayerTransform.from_layer_to_reference(m)


def reference_centre(geometry) -> np.ndarray:
    """The reference grid's centre in patient mm: the point rotations are about."""
    return geometry.index_to_patient((np.asarray(geometry.size, dtype=float) - 1) / 2)
