"""A layer moved by the mouse on a slice view: the transform a translate-drag or a rotate-drag gives.

Both act on ``layer_to_reference`` (where the layer's anatomy lands in the reference, patient mm, LPS) and are
computed from the transform the drag started with, never step by step, so a long drag does not drift:

- translate: the anatomy that was under the press point lands under the cursor (``T(cursor - press) · M``);
- rotate: about the view's normal through a centre, by the change of the cursor's angle around that centre
  (``T(c) · R(n, θ) · T(-c) · M``, θ signed by the right-hand rule about ``n``).
"""

from __future__ import annotations

import numpy as np

from .layer_transform import LayerTransform


def translated(start: LayerTransform, press_mm, cursor_mm) -> LayerTransform:
    m = start.layer_to_reference.copy()
    m[:3, 3] += np.asarray(cursor_mm, dtype=float) - np.asarray(press_mm, dtype=float)
    return LayerTransform.from_layer_to_reference(m)


def axis_rotation(normal, angle_rad: float) -> np.ndarray:
    """The 3x3 rotation by ``angle_rad`` about the unit vector along ``normal`` (Rodrigues)."""
    n = np.asarray(normal, dtype=float)
    n = n / np.linalg.norm(n)
    k = np.array([[0.0, -n[2], n[1]], [n[2], 0.0, -n[0]], [-n[1], n[0], 0.0]])
    return np.eye(3) + np.sin(angle_rad) * k + (1.0 - np.cos(angle_rad)) * (k @ k)


def angle_around(centre_mm, normal, press_mm, cursor_mm) -> float:
    """The signed angle (radians, right-hand about ``normal``) from the press point to the cursor seen from
    ``centre_mm``, in the plane perpendicular to ``normal``; 0 when either point sits on the centre."""
    n = np.asarray(normal, dtype=float)
    n = n / np.linalg.norm(n)
    c = np.asarray(centre_mm, dtype=float)
    a, b = np.asarray(press_mm, dtype=float) - c, np.asarray(cursor_mm, dtype=float) - c
    a, b = a - (a @ n) * n, b - (b @ n) * n
    if np.linalg.norm(a) < 1e-9 or np.linalg.norm(b) < 1e-9:
        return 0.0
    return float(np.arctan2(n @ np.cross(a, b), a @ b))


def rotated(start: LayerTransform, centre_mm, normal, angle_rad: float) -> LayerTransform:
    c = np.asarray(centre_mm, dtype=float)
    about = np.eye(4)
    about[:3, :3] = axis_rotation(normal, angle_rad)
    about[:3, 3] = c - about[:3, :3] @ c
    return LayerTransform.from_layer_to_reference(about @ start.layer_to_reference)
