"""The one transform between an image layer and the study's reference image, in LPS patient millimetres.

Convention (ITK's, so a registration result drops in unchanged): ``reference_to_layer`` maps a point given in the
reference image's patient coordinates to the point of the layer's patient coordinates that shows the same anatomy.
Resampling a layer onto the reference grid needs exactly this direction (for every reference voxel, where to read
the layer). The DICOM Spatial Registration object stores the other direction (layer → registration frame, i.e.
reference): :meth:`LayerTransform.layer_to_reference` is that matrix.

Identity for series in the same Frame of Reference (PET/CT from one scanner). Every conversion between a layer's
index, its patient space and the reference's goes through this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .geometry import ImageGeometry


def _frozen_4x4(matrix) -> np.ndarray:
    m = np.asarray(matrix, dtype=float).reshape(4, 4).copy()
    if not np.allclose(m[3], (0, 0, 0, 1), atol=1e-9):
        raise ValueError("a layer transform must be affine (last row 0 0 0 1)")
    if abs(np.linalg.det(m[:3, :3])) < 1e-9:
        raise ValueError("a layer transform must be invertible")
    m.setflags(write=False)
    return m


@dataclass(frozen=True)
class LayerTransform:
    """An affine map reference patient point → layer patient point (4×4 homogeneous, LPS mm)."""

    reference_to_layer: np.ndarray = field(default_factory=lambda: np.eye(4))

    def __post_init__(self):
        object.__setattr__(self, "reference_to_layer", _frozen_4x4(self.reference_to_layer))

    @classmethod
    def identity(cls) -> "LayerTransform":
        return cls()

    @classmethod
    def from_layer_to_reference(cls, matrix) -> "LayerTransform":
        """From the matrix a DICOM REG object holds (layer / moving → reference / registration frame)."""
        return cls(np.linalg.inv(_frozen_4x4(matrix)))

    @classmethod
    def rigid(cls, translation_mm=(0, 0, 0), rotation_deg=(0, 0, 0), centre_mm=(0, 0, 0)) -> "LayerTransform":
        """Rotation about x, then y, then z (degrees, about ``centre_mm``), then translation: as SimpleITK's
        Euler3DTransform with ComputeZYX off (R = Rz · Ry · Rx)."""
        ax, ay, az = np.deg2rad(np.asarray(rotation_deg, dtype=float))
        rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
        ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
        rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
        rotation = rz @ ry @ rx
        centre = np.asarray(centre_mm, dtype=float)
        m = np.eye(4)
        m[:3, :3] = rotation
        m[:3, 3] = centre + np.asarray(translation_mm, dtype=float) - rotation @ centre
        return cls(m)

    @property
    def layer_to_reference(self) -> np.ndarray:
        return np.linalg.inv(self.reference_to_layer)

    @property
    def is_identity(self) -> bool:
        return bool(np.allclose(self.reference_to_layer, np.eye(4), atol=1e-9))

    def map_to_layer(self, points) -> np.ndarray:
        """Reference patient points (..., 3) → layer patient points (..., 3)."""
        p = np.asarray(points, dtype=float)
        m = self.reference_to_layer
        return p @ m[:3, :3].T + m[:3, 3]

    def map_to_reference(self, points) -> np.ndarray:
        """Layer patient points (..., 3) → reference patient points (..., 3)."""
        p = np.asarray(points, dtype=float)
        m = self.layer_to_reference
        return p @ m[:3, :3].T + m[:3, 3]

    def inverse(self) -> "LayerTransform":
        """The same correspondence seen from the layer: layer patient point → reference patient point."""
        return LayerTransform(self.layer_to_reference)

    def box_to_layer(self, corners) -> np.ndarray:
        """A box given by two opposite reference-patient corners (LPS mm) in the layer's patient space: (2, 3) lower
        and upper corners of the bounding box of its 8 transformed corners (the same box for the identity)."""
        a, b = np.asarray(corners, dtype=float).reshape(2, 3)
        eight = np.array([[x, y, z] for x in (a[0], b[0]) for y in (a[1], b[1]) for z in (a[2], b[2])])
        mapped = self.map_to_layer(eight)
        return np.stack([mapped.min(axis=0), mapped.max(axis=0)])

    def then(self, other: "LayerTransform") -> "LayerTransform":
        """This transform followed by ``other`` (reference → this layer → other's layer)."""
        return LayerTransform(other.reference_to_layer @ self.reference_to_layer)

    def reference_index_to_layer_index(self, reference: ImageGeometry, layer: ImageGeometry) -> np.ndarray:
        """4×4 matrix: homogeneous reference voxel index (i, j, k, 1) → continuous layer voxel index."""
        layer_from_patient = np.linalg.inv(layer.lps_affine())
        return layer_from_patient @ self.reference_to_layer @ reference.lps_affine()

    def to_list(self) -> list[float]:
        """16 numbers, row-major (sessions)."""
        return [float(v) for v in self.reference_to_layer.reshape(16)]

    @classmethod
    def from_list(cls, values) -> "LayerTransform":
        return cls(np.asarray(values, dtype=float).reshape(4, 4))
