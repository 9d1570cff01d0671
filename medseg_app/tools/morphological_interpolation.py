"""Morphological contour interpolation between drawn slices (Albu, Beugeling & Laurendeau 2008, the method of ITK's
MorphologicalContourInterpolator that 3D Slicer's and ITK-SNAP's "fill between slices" use), written here.

``itk-morphologicalcontourinterpolation`` is on the package index, but it needs the ITK Python wheels (itk-core,
-filtering, ... several hundred MB) for this one filter, which SimpleITK does not wrap; the method is short, so it
is implemented on numpy / scipy instead:

- the slices between two drawn ones are filled by recursive bisection: the middle slice is the morphological
  median of the two, then each half is filled the same way;
- the regions of the two slices are matched as the connected components of their union (8-connected): the parts
  of each slice that overlap form a pair; a region with no partner is paired with a single pixel at its centroid
  (it shrinks away towards the other slice), and when each slice has exactly one unpaired region the two are
  paired (a shape that moved off itself);
- each pair is aligned by translating both so their centroids meet half way (Albu's alignment step, by centroids
  rather than ITK's search for the largest overlap), and the median is Serra's
  M = ∪_λ δ_λ(A ∩ B) ∩ ε_λ(A ∪ B): the points of the union closer to the intersection than to the union's
  outside, computed exactly with Euclidean distance maps in mm (the limit of dilations and erosions by discs).

Against ITK's filter itself (installed beside MedSeg for the comparison, benchmark ``slice_interpolation_itk_dice``),
every 5th slice drawn, Dice to the full mask: STS_002 GTV 0.911 here / 0.900 ITK, STS_001 GTV 0.967 / 0.947, the
TotalSegmentator liver 0.967 / 0.963, spleen 0.954 / 0.953, a BraTS tumour 0.943 / 0.947.

Unlike the distance-based mode (:mod:`slice_interpolation`), the shape at each step is carved by the two drawn
outlines' overlap, so concave parts and branching are followed rather than blended.
"""

from __future__ import annotations

import numpy as np

Spacing2D = tuple[float, float] | np.ndarray


def _centroid(mask: np.ndarray) -> np.ndarray:
    return np.argwhere(mask).mean(axis=0)


def _shifted(mask: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """``mask`` moved by an integer (rows, columns) shift, with zeros coming in (the caller pads enough)."""
    out = np.zeros_like(mask)
    (dr, dc) = (int(s) for s in shift)
    rows, cols = mask.shape
    src = mask[max(0, -dr):rows - max(0, dr), max(0, -dc):cols - max(0, dc)]
    out[max(0, dr):max(0, dr) + src.shape[0], max(0, dc):max(0, dc) + src.shape[1]] = src
    return out


def serra_median(a: np.ndarray, b: np.ndarray, spacing2d: Spacing2D) -> np.ndarray:
    """The morphological median of two overlapping-or-not sets on one canvas (not aligned here)."""
    from scipy import ndimage  # imported on first use: scipy.ndimage would slow the GUI's start-up

    inter, union = a & b, a | b
    if not union.any():
        return union
    if not inter.any():  # no overlap left after alignment: grow from the union's pixel nearest its centroid
        inter = _centroid_pixel(union)
    to_inter = ndimage.distance_transform_edt(~inter, sampling=spacing2d)
    to_outside = ndimage.distance_transform_edt(np.pad(union, 1), sampling=spacing2d)[1:-1, 1:-1]
    return inter | (union & (to_inter < to_outside))


def _aligned_median(a: np.ndarray, b: np.ndarray, spacing2d: Spacing2D) -> np.ndarray:
    """The median of ``a`` and ``b`` moved so their centroids meet half way, where that half way is."""
    centre_a, centre_b = _centroid(a), _centroid(b)
    half_way = (centre_a + centre_b) / 2
    shift_a, shift_b = np.round(half_way - centre_a), np.round(half_way - centre_b)
    pad = int(max(np.abs(shift_a).max(), np.abs(shift_b).max())) + 1
    a_moved = _shifted(np.pad(a, pad), shift_a)
    b_moved = _shifted(np.pad(b, pad), shift_b)
    return serra_median(a_moved, b_moved, spacing2d)[pad:-pad, pad:-pad]


def _centroid_pixel(mask: np.ndarray) -> np.ndarray:
    """A one-pixel mask at the region's pixel nearest its centroid."""
    points = np.argwhere(mask)
    nearest = points[np.argmin(((points - points.mean(axis=0)) ** 2).sum(axis=1))]
    out = np.zeros_like(mask)
    out[tuple(nearest)] = True
    return out


def matched_regions(a: np.ndarray, b: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Pairs (part of ``a``, part of ``b``): the components of ``a | b``; an unpaired part meets a centroid pixel."""
    from scipy import ndimage

    labels, count = ndimage.label(a | b, np.ones((3, 3), bool))
    pairs, only_a, only_b = [], [], []
    for label in range(1, count + 1):
        part = labels == label
        part_a, part_b = a & part, b & part
        if part_a.any() and part_b.any():
            pairs.append((part_a, part_b))
        elif part_a.any():
            only_a.append(part_a)
        else:
            only_b.append(part_b)
    if len(only_a) == 1 and len(only_b) == 1:
        return pairs + [(only_a[0], only_b[0])]
    pairs += [(part, _centroid_pixel(part)) for part in only_a]
    pairs += [(_centroid_pixel(part), part) for part in only_b]
    return pairs


def median_slice(a: np.ndarray, b: np.ndarray, spacing2d: Spacing2D) -> np.ndarray:
    """The slice half way between drawn slices ``a`` and ``b`` (bool, same shape)."""
    out = np.zeros_like(a)
    for part_a, part_b in matched_regions(a, b):
        out |= _aligned_median(part_a, part_b, spacing2d)
    return out


def morphological_between(drawn: np.ndarray, spacing2d: Spacing2D, axis: int = 0, cancelled=None) -> np.ndarray:
    """``drawn`` (bool, 3-D) with the empty slices between non-empty ones (along numpy ``axis``) filled."""
    stack = np.moveaxis(drawn, axis, 0)
    out = stack.copy()
    occupied = np.flatnonzero(stack.reshape(len(stack), -1).any(axis=1))

    def fill(lower: int, upper: int) -> None:
        if upper - lower < 2 or (cancelled is not None and cancelled()):
            return
        middle = (lower + upper) // 2
        out[middle] = median_slice(out[lower], out[upper], spacing2d)
        fill(lower, middle)
        fill(middle, upper)

    for lower, upper in zip(occupied[:-1], occupied[1:]):
        fill(int(lower), int(upper))
    return np.moveaxis(out, 0, axis)
