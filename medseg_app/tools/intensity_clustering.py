"""Clustering of 1-D intensities: k-means (k-means++ start, Lloyd iterations) and fuzzy c-means (Bezdek's, m = 2).

Our own vectorised numpy versions, not scikit-learn's KMeans or scikit-fuzzy's cmeans (the peers
``benchmarks/bench_clustering.py`` measures them against, with the same centres within tolerance): the values are
one-dimensional, so both run on the region's *distinct* values weighted by their counts (a ``bincount`` for integer
images, ``np.unique`` otherwise; a CT crop of a million voxels has a few thousand distinct HU), which changes neither
objective, and k-means' assignment step is a
``searchsorted`` against the midpoints between sorted centres with the cluster sums read off cumulative sums — exact
Lloyd iterations in O(k log D) each. Neither peer is a runtime dependency (scikit-learn is heavy; scikit-fuzzy is
little maintained), and the peers' general N-d code is several times slower on this data.

Reproducible: the same values, class count and seed give the same centres (``numpy.random.default_rng(seed)``).
Classes come back ordered by their centre, darkest first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import CancelFn
from .cancellation import check_cancelled

MAX_ITERATIONS = 300
RESTARTS = 4  # k-means++ starts; the lowest within-class sum of squares wins (scikit-learn's n_init)
TOLERANCE = 1e-6  # of the value range: iterations stop when no centre moves further
INTEGER_SPAN = 1 << 20  # integer values spanning at most this many are counted per value instead of sorted


@dataclass
class Clustering:
    centres: np.ndarray  # (n,), ascending
    labels: np.ndarray  # per input value, 0..n-1 in centre order
    iterations: int
    objective: float  # k-means: within-class sum of squares; fuzzy c-means: J_m
    # fuzzy c-means: the memberships of the distinct values, (D, n), rows sum to 1, and each value's row in them
    distinct_memberships: np.ndarray | None = None
    inverse: np.ndarray | None = None

    def memberships(self) -> np.ndarray:
        """(len(values), n) float32 memberships of every input value (fuzzy c-means)."""
        return self.distinct_memberships.astype(np.float32)[self.inverse]

    def membership(self, k: int) -> np.ndarray:
        """Every input value's membership of class ``k`` (float32, 0..1)."""
        return self.distinct_memberships[:, k].astype(np.float32)[self.inverse]


def distinct_values(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sorted distinct values as float64, their counts, each input value's position among them)."""
    flat = np.asarray(values).ravel()
    if flat.dtype.kind in "iub" and flat.size:  # integers (CT in HU): counted in O(N), not sorted
        low, high = int(flat.min()), int(flat.max())
        if high - low <= INTEGER_SPAN:
            offsets = np.subtract(flat, low, dtype=np.int32)
            counts = np.bincount(offsets, minlength=high - low + 1)
            present = counts > 0
            position = (np.cumsum(present) - 1).astype(np.int32)
            return ((np.flatnonzero(present) + low).astype(np.float64), counts[present].astype(np.float64),
                    position[offsets])
    if flat.dtype.kind == "f" and not np.isfinite(flat).all():
        raise ValueError("the values to cluster hold NaN or infinity")
    distinct, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    return distinct.astype(np.float64), counts.astype(np.float64), inverse.ravel()


def _require(distinct: np.ndarray, n: int) -> None:
    if not 2 <= n <= 64:
        raise ValueError(f"the class count must be between 2 and 64, got {n}")
    if len(distinct) < n:
        raise ValueError(f"the region holds {len(distinct)} distinct value(s), too few for {n} classes")


def kmeans_plus_plus(distinct: np.ndarray, weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Arthur & Vassilvitskii's k-means++ start on weighted values: each next centre drawn with probability
    proportional to weight × squared distance to the nearest centre chosen so far."""
    cumulative = np.cumsum(weights)
    first = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    centres = [distinct[min(first, len(distinct) - 1)]]
    nearest = (distinct - centres[0]) ** 2
    for _ in range(1, n):
        mass = np.cumsum(weights * nearest)
        if mass[-1] <= 0:  # every value sits on a centre already: take unused distinct values in order
            unused = distinct[~np.isin(distinct, centres)]
            centres.append(unused[0])
        else:
            pick = int(np.searchsorted(mass, rng.random() * mass[-1], side="right"))
            centres.append(distinct[min(pick, len(distinct) - 1)])
        nearest = np.minimum(nearest, (distinct - centres[-1]) ** 2)
    return np.sort(np.asarray(centres, float))


def _lloyd(distinct, cum_w, cum_wx, cum_wxx, centres, tolerance, cancelled):
    """Lloyd iterations on sorted weighted values; classes are contiguous runs split at the centres' midpoints."""
    iterations = 0
    for iterations in range(1, MAX_ITERATIONS + 1):
        ends = np.searchsorted(distinct, (centres[1:] + centres[:-1]) / 2, side="right")
        bounds = np.concatenate(([0], ends, [len(distinct)]))
        weight = np.diff(cum_w[bounds])
        total = np.diff(cum_wx[bounds])
        moved = np.where(weight > 0, total / np.where(weight > 0, weight, 1), centres)  # an empty class stays put
        shift = np.abs(moved - centres).max()
        centres = np.sort(moved)
        if shift <= tolerance:
            break
        if iterations % 16 == 0:
            check_cancelled(cancelled, "k-means")
    ends = np.searchsorted(distinct, (centres[1:] + centres[:-1]) / 2, side="right")
    bounds = np.concatenate(([0], ends, [len(distinct)]))
    weight, total, squares = (np.diff(c[bounds]) for c in (cum_w, cum_wx, cum_wxx))
    inertia = float(np.sum(squares - 2 * centres * total + centres ** 2 * weight))
    return centres, iterations, inertia


def kmeans_1d(values: np.ndarray, n: int, seed: int = 0, restarts: int = RESTARTS,
              cancelled: CancelFn | None = None) -> Clustering:
    """k-means of ``values`` into ``n`` classes (Lloyd's algorithm from ``restarts`` seeded k-means++ starts)."""
    distinct, weights, inverse = distinct_values(values)
    _require(distinct, n)
    offset = distinct.mean()
    shifted = distinct - offset  # cumulative sums of squares stay accurate near zero
    cum_w = np.concatenate(([0.0], np.cumsum(weights)))
    cum_wx = np.concatenate(([0.0], np.cumsum(weights * shifted)))
    cum_wxx = np.concatenate(([0.0], np.cumsum(weights * shifted ** 2)))
    tolerance = TOLERANCE * max(float(np.ptp(distinct)), 1e-12)
    rng = np.random.default_rng(seed)
    best = None
    for _ in range(max(1, int(restarts))):
        start = kmeans_plus_plus(shifted, weights, n, rng)
        centres, iterations, inertia = _lloyd(shifted, cum_w, cum_wx, cum_wxx, start, tolerance, cancelled)
        if best is None or inertia < best[2] - 1e-9 * abs(best[2]):
            best = (centres, iterations, inertia)
        check_cancelled(cancelled, "k-means")
    centres, iterations, inertia = best
    labels_distinct = np.searchsorted((centres[1:] + centres[:-1]) / 2, shifted, side="left")
    return Clustering(centres + offset, labels_distinct[inverse].astype(np.int8), iterations, inertia)


def fcm_memberships(values: np.ndarray, centres: np.ndarray, m: float = 2.0) -> np.ndarray:
    """(len(values), n) memberships u_ik = 1 / Σ_j (d_ik / d_ij)^(2/(m−1)); a value on a centre belongs to it."""
    distance = np.abs(np.asarray(values, float)[:, None] - np.asarray(centres, float)[None, :])
    near = 1e-9 * max(1.0, float(np.abs(centres).max()))
    on_centre = distance <= near
    inverse = np.maximum(distance, near) ** (-2.0 / (m - 1.0))
    exact = on_centre.any(axis=1)
    inverse[exact] = on_centre[exact]
    return inverse / inverse.sum(axis=1, keepdims=True)


def fuzzy_cmeans_1d(values: np.ndarray, n: int, m: float = 2.0, seed: int = 0,
                    cancelled: CancelFn | None = None) -> Clustering:
    """Bezdek's fuzzy c-means of ``values`` into ``n`` classes with fuzzifier ``m`` (> 1), started from a seeded
    k-means++ draw; alternating updates of memberships and centres until no centre moves more than the tolerance.
    ``labels`` is the class of largest membership."""
    if not m > 1.0:
        raise ValueError(f"the fuzzifier m must be above 1, got {m}")
    distinct, weights, inverse = distinct_values(values)
    _require(distinct, n)
    offset = distinct.mean()
    shifted = distinct - offset
    tolerance = TOLERANCE * max(float(np.ptp(distinct)), 1e-12)
    centres = kmeans_plus_plus(shifted, weights, n, np.random.default_rng(seed))
    iterations = 0
    for iterations in range(1, MAX_ITERATIONS + 1):
        u_m = fcm_memberships(shifted, centres, m) ** m * weights[:, None]
        moved = (u_m * shifted[:, None]).sum(axis=0) / u_m.sum(axis=0)
        shift = np.abs(moved - centres).max()
        centres = moved
        if shift <= tolerance:
            break
        if iterations % 8 == 0:
            check_cancelled(cancelled, "fuzzy c-means")
    order = np.argsort(centres)
    centres = centres[order]
    memberships_distinct = fcm_memberships(shifted, centres, m)
    objective = float(np.sum(memberships_distinct ** m * weights[:, None] * (shifted[:, None] - centres) ** 2))
    labels = np.argmax(memberships_distinct, axis=1)[inverse].astype(np.int8)
    return Clustering(centres + offset, labels, iterations, objective, memberships_distinct, inverse)
