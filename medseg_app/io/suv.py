"""PET units: standardised uptake value (body weight), SUVbw = activity concentration × weight / decayed dose.

Follows the QIBA / Kinahan-Hoffman recipe (also in 3D Slicer's SUV factor calculator): the injected dose is
decayed from the injection time to the series start when the image is decay-corrected to START; images
corrected to ADMIN need no decay term.
"""

from __future__ import annotations

import math
from datetime import datetime

from pydicom.dataset import Dataset

from ..core.volume import UNITS_BQML, UNITS_NONE, UNITS_SUV


def _time_of_day_seconds(value) -> float | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    if not text:
        return None
    whole, _, fraction = text.partition(".")
    whole = whole.ljust(6, "0")
    seconds = int(whole[0:2]) * 3600 + int(whole[2:4]) * 60 + int(whole[4:6])
    return seconds + (float("0." + fraction) if fraction else 0.0)


def _datetime_seconds(value) -> float | None:
    if value in (None, ""):
        return None
    text = str(value).strip().split("+")[0].split("-")[0]
    date, clock = text[:8], text[8:]
    try:
        day = datetime.strptime(date, "%Y%m%d")
    except ValueError:
        return None
    return day.timestamp() + (_time_of_day_seconds(clock) or 0.0)


def _scan_start(ds: Dataset) -> float | None:
    """Series start in seconds, on the same clock as :func:`_injection_time`."""
    date = ds.get("SeriesDate") or ds.get("AcquisitionDate") or ds.get("StudyDate")
    clock = ds.get("SeriesTime") or ds.get("AcquisitionTime")
    if date and clock:
        return _datetime_seconds(f"{date}{clock}")
    return _time_of_day_seconds(clock)


def _injection_time(info: Dataset, scan_date) -> float | None:
    start = info.get("RadiopharmaceuticalStartDateTime")
    if start:
        return _datetime_seconds(start)
    clock = info.get("RadiopharmaceuticalStartTime")
    if clock in (None, ""):
        return None
    return _datetime_seconds(f"{scan_date}{clock}") if scan_date else _time_of_day_seconds(clock)


def pet_units(ds: Dataset) -> tuple[str, float, str]:
    """(units, factor, note): multiply rescaled values by ``factor`` to get ``units``.

    ``note`` explains, in one sentence, why values are not SUV when they cannot be.
    """
    units = str(ds.get("Units", "")).upper()
    if units == "GML":
        return UNITS_SUV, 1.0, ""
    if units != "BQML":
        return (UNITS_NONE, 1.0, f"PET values are in '{units or 'unknown'}' units, which MedSeg does not convert to SUV.")
    info_seq = ds.get("RadiopharmaceuticalInformationSequence")
    info = info_seq[0] if info_seq else None
    weight = ds.get("PatientWeight")
    missing = []
    if not weight or float(weight) <= 0:
        missing.append("patient weight")
    if info is None or not info.get("RadionuclideTotalDose"):
        missing.append("injected dose")
    if info is None or not info.get("RadionuclideHalfLife"):
        missing.append("half-life")
    if missing:
        return UNITS_BQML, 1.0, f"PET values are activity concentration (Bq/mL): SUV needs the {', '.join(missing)}."
    dose = float(info.RadionuclideTotalDose)
    decay = str(ds.get("DecayCorrection", "START")).upper()
    if decay == "START":
        scan_date = ds.get("SeriesDate") or ds.get("AcquisitionDate") or ds.get("StudyDate")
        injected, started = _injection_time(info, scan_date), _scan_start(ds)
        if injected is None or started is None:
            return UNITS_BQML, 1.0, "PET values are activity concentration (Bq/mL): SUV needs the injection and scan times."
        elapsed = started - injected
        if elapsed < 0:  # injection shortly before midnight, time-only tags
            elapsed += 24 * 3600
        dose *= math.exp(-math.log(2) * elapsed / float(info.RadionuclideHalfLife))
    elif decay != "ADMIN":
        return UNITS_BQML, 1.0, f"PET values are activity concentration (Bq/mL): decay correction '{decay}' is not supported for SUV."
    return UNITS_SUV, float(weight) * 1000.0 / dose, ""
