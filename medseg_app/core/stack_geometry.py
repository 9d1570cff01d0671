"""From a pile of parallel 2-D slices at arbitrary positions to a regular 3-D grid, honestly.

Slices are ordered by their distance along the slice normal (never by file name or instance number).
Three defects are detected: unequal spacing, missing slices (gaps) and shear (gantry tilt, or any
slice whose origin is displaced within the plane). Each one is either resampled onto a regular,
orthogonal grid with a warning saying what was done, or refused with a GeometryError; a warped
volume is never returned silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import GeometryError
from .geometry import ImageGeometry

# DS values carry at most 16 characters, so real positions jitter by ~1e-5 mm; 0.01 mm is the
# tolerance 3D Slicer uses before it regularises acquisition geometry.
POSITION_TOL_MM = 1e-2
# A gap wider than this many nominal slices is not interpolated across: too much would be invented.
MAX_GAP_SLICES = 4.0


@dataclass
class StackLayout:
    order: np.ndarray  # record indices in slice order
    geometry: ImageGeometry  # the regular grid the volume is returned on
    distances: np.ndarray  # sorted distances of the source slices along the normal (mm)
    inplane_shift: np.ndarray  # (n, 2) source slice offsets within the plane, (rows, columns) in pixels
    needs_resampling: bool = False
    warnings: list[str] = field(default_factory=list)


def analyse_stack(
    positions: np.ndarray,
    row_direction: np.ndarray,
    column_direction: np.ndarray,
    pixel_spacing: tuple[float, float],
    size_ij: tuple[int, int],
    nominal_spacing: float | None = None,
    where: object = None,
) -> StackLayout:
    """Order slices along their normal and describe the regular grid they belong on."""
    positions = np.asarray(positions, dtype=float).reshape(-1, 3)
    normal = np.cross(row_direction, column_direction)
    normal /= np.linalg.norm(normal)
    distances = positions @ normal
    order = np.argsort(distances, kind="stable")
    distances = distances[order]
    positions = positions[order]
    n = len(positions)
    direction = np.column_stack([row_direction, column_direction, normal])
    warnings: list[str] = []

    steps = np.diff(distances)
    if n > 1 and np.any(steps < POSITION_TOL_MM):
        dup = int(np.count_nonzero(steps < POSITION_TOL_MM)) + 1
        raise GeometryError(where, f"holds {dup} images at the same slice position "
                                   "(several time points, echoes or overlapping stacks), so it is not one volume.")

    if n == 1:
        dz = float(nominal_spacing) if nominal_spacing and nominal_spacing > 0 else 1.0
        geometry = ImageGeometry(size=(*size_ij, 1), spacing=(*pixel_spacing, dz),
                                 origin=positions[0], direction=direction)
        return StackLayout(order, geometry, distances, np.zeros((1, 2)), False, warnings)

    offsets = (positions - positions[0]) @ np.column_stack([column_direction, row_direction])
    shear_mm = float(np.abs(offsets).max())
    inplane_shift = offsets / np.array([pixel_spacing[1], pixel_spacing[0]])
    sheared = shear_mm > POSITION_TOL_MM

    median = float(np.median(steps))
    uneven = float(np.abs(steps - median).max()) > POSITION_TOL_MM
    dz = median if uneven else float((distances[-1] - distances[0]) / (n - 1))

    if uneven:
        biggest = float(steps.max())
        if biggest > MAX_GAP_SLICES * median + POSITION_TOL_MM:
            raise GeometryError(where, f"has a gap of {biggest:.2f} mm between slices spaced {median:.2f} mm "
                                       "(missing slices); it cannot be rebuilt without inventing anatomy.")
        gaps = steps > 1.5 * median
        if np.any(gaps):
            missing = int(np.round(steps[gaps] / median).sum() - np.count_nonzero(gaps))
            warnings.append(f"{missing} slice(s) are missing (gaps up to {biggest:.2f} mm where slices are "
                            f"{median:.2f} mm apart); the volume was resampled onto a regular {dz:.3f} mm grid "
                            "and the gaps interpolated.")
        else:
            warnings.append(f"slice spacing is not uniform ({float(steps.min()):.3f} to {biggest:.3f} mm); "
                            f"the volume was resampled onto a regular {dz:.3f} mm grid.")
    if sheared:
        tilt = np.degrees(np.arctan2(shear_mm, distances[-1] - distances[0]))
        warnings.append(f"the slices are sheared (gantry tilt of about {tilt:.1f} degrees: slice origins move "
                        f"up to {shear_mm:.1f} mm within the plane); the volume was resampled onto an "
                        "orthogonal grid.")

    nk = int(np.floor((distances[-1] - distances[0]) / dz + 1e-6)) + 1 if uneven else n
    geometry = ImageGeometry(size=(*size_ij, nk), spacing=(*pixel_spacing, dz),
                             origin=positions[0], direction=direction)
    return StackLayout(order, geometry, distances, inplane_shift, uneven or sheared, warnings)


def resample_stack(slices: np.ndarray, layout: StackLayout, fill_value: float | None = None) -> np.ndarray:
    """Sorted source slices (n, rows, cols) onto ``layout.geometry``: linear along the normal and in-plane."""
    if not layout.needs_resampling:
        return slices
    nk = layout.geometry.size[2]
    fill = float(slices.min()) if fill_value is None else float(fill_value)
    out = np.empty((nk, *slices.shape[1:]), dtype=slices.dtype)
    d0 = layout.distances[0]
    dz = layout.geometry.spacing[2]
    integral = np.issubdtype(slices.dtype, np.integer)

    def shifted(s: int) -> np.ndarray:
        shift = layout.inplane_shift[s]
        plane = slices[s].astype(np.float32)
        if np.abs(shift).max() < 1e-3:
            return plane
        from scipy import ndimage  # here: scipy.ndimage costs start-up a quarter of a second to import

        # out[x] = in[x - shift]: a source slice displaced by +shift lands back on the first slice's grid.
        return ndimage.shift(plane, shift, order=1, mode="constant", cval=fill)

    for t in range(nk):
        target = d0 + t * dz
        s = int(np.clip(np.searchsorted(layout.distances, target, side="right") - 1, 0, len(slices) - 2))
        span = layout.distances[s + 1] - layout.distances[s]
        w = float(np.clip((target - layout.distances[s]) / span, 0.0, 1.0))
        plane = shifted(s) if w < 1 - 1e-6 else None
        if w > 1e-6:
            upper = shifted(s + 1)
            plane = upper if plane is None else (1 - w) * plane + w * upper
        out[t] = np.rint(plane) if integral else plane
    return out
