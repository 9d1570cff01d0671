"""The one image type every layer passes around: voxels + geometry + what they mean + where they came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .geometry import ImageGeometry

UNITS_HU = "HU"
UNITS_SUV = "SUV"
UNITS_BQML = "Bq/mL"
UNITS_NONE = ""


@dataclass(frozen=True)
class SourceIdentity:
    """Who and what the voxels belong to; needed later to write RTSTRUCT and SEG that reference them.

    ``sop_instance_uids`` follows slice order (index k), one per slice for single-frame series;
    for a multi-frame object it holds that object's one UID and ``frame_numbers`` says which
    frame (1-based) lies at each k.

    The patient fields are left out of ``repr`` (so a traceback or a log line never shows them) and registered
    with :mod:`medseg_app.core.privacy` by the loader, so logs and crash reports redact them.
    """

    patient_id: str = field(default="", repr=False)
    patient_name: str = field(default="", repr=False)
    study_instance_uid: str = ""
    series_instance_uid: str = ""
    frame_of_reference_uid: str = ""
    series_description: str = ""
    sop_class_uid: str = ""
    sop_instance_uids: tuple[str, ...] = ()
    frame_numbers: tuple[int, ...] = ()
    patient_birth_date: str = field(default="", repr=False)
    other_patient_ids: tuple[str, ...] = field(default=(), repr=False)  # Other Patient IDs (and its sequence)
    other_patient_names: tuple[str, ...] = field(default=(), repr=False)  # other, birth and mother's birth names


@dataclass
class Volume:
    """A 3-D scalar image. ``array`` is indexed ``[k, j, i]`` (slice, row, column)."""

    array: np.ndarray
    geometry: ImageGeometry
    modality: str = ""
    units: str = UNITS_NONE
    identity: SourceIdentity = field(default_factory=SourceIdentity)
    source_path: str = ""
    warnings: list[str] = field(default_factory=list)
    # Values derived from all the voxels (see derived()); not an argument, not copied by dataclasses.replace.
    _derived: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.array.ndim != 3:
            raise ValueError(f"a Volume needs a 3-D array, got shape {self.array.shape}")
        if tuple(self.array.shape) != self.geometry.shape:
            raise ValueError(
                f"array shape {self.array.shape} does not match geometry size {self.geometry.size}"
            )

    @property
    def size(self) -> tuple[int, int, int]:
        return self.geometry.size

    @property
    def spacing(self) -> np.ndarray:
        return self.geometry.spacing

    @property
    def origin(self) -> np.ndarray:
        return self.geometry.origin

    @property
    def direction(self) -> np.ndarray:
        return self.geometry.direction

    def derived(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, once: a value read from all the voxels (the value range, a percentile window), kept.

        A 512×512×1000 CT takes tens of milliseconds per pass over its voxels, so the loader computes these in its
        worker thread (:func:`core.window_level.prepare_display`) and the GUI thread finds them ready. The array
        must not change afterwards (volumes are never edited in place)."""
        try:
            return self._derived[key]
        except KeyError:
            value = self._derived[key] = compute()
            return value

    def value_range(self) -> tuple[float, float]:
        """(min, max) of the voxels, computed once."""
        return self.derived("value_range", lambda: (float(self.array.min()), float(self.array.max()))
                            if self.array.size else (0.0, 0.0))

    def value_at_index(self, index) -> float:
        i, j, k = (int(v) for v in index)
        return float(self.array[k, j, i])

    def info(self) -> dict:
        """The summary ``medseg info`` prints: size, spacing, origin, direction in SimpleITK's convention."""
        return {
            "size": list(self.size),
            "spacing": [float(v) for v in self.spacing],
            "origin": [float(v) for v in self.origin],
            "direction": self.geometry.direction_row_major(),
            "modality": self.modality,
            "units": self.units,
            "series_uid": self.identity.series_instance_uid,
            "dtype": str(self.array.dtype),
            "range": list(self.value_range()) if self.array.size else [],
            "source": self.source_path,
            "warnings": list(self.warnings),
        }
