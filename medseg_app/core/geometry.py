"""Image grid geometry in LPS patient coordinates: the one place where index and patient coordinates meet.

Conventions (the same as DICOM and SimpleITK / ITK):
- patient coordinates are LPS, in millimetres: +x towards the patient's left, +y posterior, +z superior;
- an index is (i, j, k) = (column, row, slice), so a voxel array is stored as ``array[k, j, i]``;
- ``direction`` is a 3×3 matrix whose *columns* are the unit vectors of the i, j and k axes;
- index (0, 0, 0) is the *centre* of the first voxel:  p = origin + direction @ (spacing * index).

NIfTI and nibabel speak RAS; the flip to LPS happens only in :func:`ras_affine_to_geometry` and
:meth:`ImageGeometry.ras_affine`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])

_ORTHONORMAL_TOL = 1e-4


def _as_vec3(values) -> np.ndarray:
    arr = np.asarray(values, dtype=float).reshape(3)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class ImageGeometry:
    """Spacing, origin and direction of a 3-D voxel grid; ``size`` is (ni, nj, nk)."""

    size: tuple[int, int, int]
    spacing: np.ndarray
    origin: np.ndarray
    direction: np.ndarray = field(default_factory=lambda: np.eye(3))

    def __post_init__(self):
        object.__setattr__(self, "size", tuple(int(s) for s in self.size))
        object.__setattr__(self, "spacing", _as_vec3(self.spacing))
        object.__setattr__(self, "origin", _as_vec3(self.origin))
        direction = np.asarray(self.direction, dtype=float).reshape(3, 3).copy()
        direction.setflags(write=False)
        object.__setattr__(self, "direction", direction)
        if np.any(self.spacing <= 0):
            raise ValueError(f"spacing must be positive, got {self.spacing.tolist()}")
        gram = direction.T @ direction
        if not np.allclose(gram, np.eye(3), atol=_ORTHONORMAL_TOL):
            raise ValueError("direction must be orthonormal (a sheared grid must be resampled first)")

    # --- index <-> patient -------------------------------------------------------------------
    @property
    def index_to_patient_matrix(self) -> np.ndarray:
        """3×3 matrix M with p = origin + M @ index (direction scaled by spacing, per column)."""
        return self.direction * self.spacing[np.newaxis, :]

    @property
    def patient_to_index_matrix(self) -> np.ndarray:
        return np.linalg.inv(self.index_to_patient_matrix)

    def index_to_patient(self, index) -> np.ndarray:
        """Continuous (i, j, k) index, shape (..., 3), to LPS millimetres, shape (..., 3)."""
        idx = np.asarray(index, dtype=float)
        return idx @ self.index_to_patient_matrix.T + self.origin

    def patient_to_index(self, point) -> np.ndarray:
        """LPS millimetres, shape (..., 3), to continuous (i, j, k) index, shape (..., 3)."""
        p = np.asarray(point, dtype=float) - self.origin
        # A true inverse, not the transpose: directions read from float32 files are orthonormal only to ~1e-7.
        return p @ self.patient_to_index_matrix.T

    def patient_to_nearest_index(self, point) -> np.ndarray:
        return np.floor(self.patient_to_index(point) + 0.5).astype(np.int64)

    def contains_index(self, index) -> np.ndarray:
        idx = np.asarray(index)
        return np.all((idx >= -0.5) & (idx <= np.asarray(self.size) - 0.5), axis=-1)

    # --- affines -----------------------------------------------------------------------------
    def lps_affine(self) -> np.ndarray:
        """4×4 matrix mapping homogeneous (i, j, k, 1) to LPS millimetres."""
        affine = np.eye(4)
        affine[:3, :3] = self.index_to_patient_matrix
        affine[:3, 3] = self.origin
        return affine

    def ras_affine(self) -> np.ndarray:
        """4×4 matrix mapping (i, j, k, 1) to RAS millimetres, as NIfTI and nibabel expect."""
        affine = self.lps_affine()
        affine[:3, :] = LPS_TO_RAS @ affine[:3, :]
        return affine

    @property
    def slice_normal(self) -> np.ndarray:
        return self.direction[:, 2].copy()

    @property
    def voxel_volume_mm3(self) -> float:
        return float(np.prod(self.spacing))

    @property
    def shape(self) -> tuple[int, int, int]:
        """Numpy shape (nk, nj, ni) of an array on this grid."""
        return self.size[::-1]

    def direction_row_major(self) -> list[float]:
        """The 9 direction values in SimpleITK's order (row-major)."""
        return [float(v) for v in self.direction.reshape(9)]

    def same_grid(self, other: "ImageGeometry", tol_mm: float = 1e-3) -> bool:
        return (
            self.size == other.size
            and np.allclose(self.spacing, other.spacing, atol=tol_mm)
            and np.allclose(self.origin, other.origin, atol=tol_mm)
            and np.allclose(self.direction, other.direction, atol=_ORTHONORMAL_TOL)
        )


def ras_affine_to_geometry(affine, size) -> ImageGeometry:
    """Geometry from a NIfTI-style RAS affine (index -> RAS mm).

    The affine's columns may carry shear from rounding in the file; they are orthonormalised
    (as ITK does) after checking that the shear is negligible.
    """
    affine = np.asarray(affine, dtype=float)
    lps = LPS_TO_RAS @ affine[:3, :]
    matrix, origin = lps[:, :3], lps[:, 3]
    spacing = np.linalg.norm(matrix, axis=0)
    direction = matrix / spacing
    u, _, vt = np.linalg.svd(direction)
    ortho = u @ vt
    if not np.allclose(ortho, direction, atol=1e-3):
        raise ValueError("the affine is sheared; it cannot be represented as spacing + direction")
    return ImageGeometry(size=size, spacing=spacing, origin=origin, direction=ortho)
