"""PET values: the real (GML) series is SUV as stored; a BQML copy of it must be turned back into the same SUV,
with the decay computed here independently (SUV = C · W[g] / (D · 2^(-Δt/T½))), or be left in Bq/mL with a
warning naming what is missing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.valuerep import DSfloat

from conftest import SAMPLE, STS_002, series_dir
from medseg_app.io import load_volume

PET = series_dir(SAMPLE, "PET")


def _sorted_slices(folder: Path) -> list[pydicom.Dataset]:
    return sorted((pydicom.dcmread(p) for p in folder.glob("*.dcm")), key=lambda ds: float(ds.ImagePositionPatient[2]))


def _rescaled(slices) -> np.ndarray:
    """stored × slope + intercept per slice, in float64, straight from the headers."""
    return np.stack([ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept) for ds in slices])


def _seconds(day: str, clock: str) -> float:
    """DA + TM (HHMMSS.frac) to seconds since the epoch, written here independently of medseg_app.suv."""
    whole, _, frac = clock.partition(".")
    return (datetime.strptime(day + whole, "%Y%m%d%H%M%S") - datetime(1970, 1, 1)).total_seconds() + float("0." + (frac or "0"))


@pytest.mark.parametrize("folder", [PET, series_dir(STS_002, "PET")], ids=["STS_001", "STS_002"])
def test_real_pet_in_gml_is_suv_equal_to_stored_times_slope(folder):
    slices = _sorted_slices(folder)
    assert {str(ds.Units) for ds in slices} == {"GML"}
    assert len({float(ds.RescaleSlope) for ds in slices}) > 1  # per-slice slopes: a single one would not do
    volume = load_volume(folder)
    assert (volume.modality, volume.units) == ("PT", "SUV")
    assert volume.warnings == []
    np.testing.assert_allclose(volume.array, _rescaled(slices), rtol=1e-6, atol=1e-6)


# injection 10:35:00 and series start 11:20:11 on the same day in the real headers: Δt = 2711 s
TIMINGS = {
    "same-day": {},
    "datetime-tag": {"RadiopharmaceuticalStartDateTime": "20000907103500.00"},
    "across-midnight": {"SeriesDate": "20000908", "SeriesTime": "002011.00", "AcquisitionDate": "20000908",
                        "RadiopharmaceuticalStartTime": "233500.00"},
}


def _bqml_copy(folder: Path, decay: str, timing: dict | None = None, drop: str | None = None) -> tuple[Path, np.ndarray]:
    """The real PET re-labelled BQML: slopes scaled by decayed dose / weight so that SUV stays what it was.

    Returns the folder and the original SUV values. AcquisitionTime is moved later per slice (as on a
    multi-bed scan) so that using it instead of the series time would show.
    """
    folder.mkdir()
    slices = _sorted_slices(PET)
    original = _rescaled(slices)
    for k, ds in enumerate(slices):
        info = ds.RadiopharmaceuticalInformationSequence[0]
        for key, value in (timing or {}).items():
            setattr(info if key.startswith("Radiopharmaceutical") else ds, key, value)
        ds.AcquisitionTime = f"{11 + k // 30:02d}{25 + k % 30:02d}00.00"
        dose, half_life, weight = float(info.RadionuclideTotalDose), float(info.RadionuclideHalfLife), float(ds.PatientWeight)
        if decay == "START":
            injected = (str(info.RadiopharmaceuticalStartDateTime) if "RadiopharmaceuticalStartDateTime" in info
                        else str(ds.StudyDate) + str(info.RadiopharmaceuticalStartTime))
            elapsed = _seconds(str(ds.SeriesDate), str(ds.SeriesTime)) - _seconds(injected[:8], injected[8:])
            assert elapsed == pytest.approx(2711.0)
            dose *= 2 ** (-elapsed / half_life)
        ds.Units, ds.DecayCorrection = "BQML", decay
        ds.RescaleSlope = DSfloat(float(ds.RescaleSlope) * dose / (weight * 1000.0), auto_format=True)
        if drop == "PatientWeight":
            del ds.PatientWeight
        elif drop:
            delattr(info, drop)
        ds.save_as(folder / f"{k:06d}.dcm")
    return folder, original


def _expected_suv(folder: Path) -> np.ndarray:
    """SUV from the copy's own headers: C [Bq/mL] · W [g] / (D [Bq] · 2^(-Δt/T½)), Δt = series start - injection."""
    slices = _sorted_slices(folder)
    out = []
    for ds in slices:
        info = ds.RadiopharmaceuticalInformationSequence[0]
        decay = 1.0
        if ds.DecayCorrection == "START":
            if "RadiopharmaceuticalStartDateTime" in info:
                text = str(info.RadiopharmaceuticalStartDateTime)
                injected = _seconds(text[:8], text[8:])
            else:
                injected = _seconds(str(ds.StudyDate), str(info.RadiopharmaceuticalStartTime))
            started = _seconds(str(ds.SeriesDate), str(ds.SeriesTime))
            decay = 2 ** (-(started - injected) / float(info.RadionuclideHalfLife))
        concentration = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        out.append(concentration * float(ds.PatientWeight) * 1000.0 / (float(info.RadionuclideTotalDose) * decay))
    return np.stack(out)


@pytest.mark.parametrize("timing", list(TIMINGS), ids=list(TIMINGS))
def test_bqml_decay_corrected_to_start_becomes_the_original_suv(tmp_path, timing):
    folder, original = _bqml_copy(tmp_path / "bqml", "START", TIMINGS[timing])
    volume = load_volume(folder)
    assert (volume.units, volume.warnings) == ("SUV", [])
    expected = _expected_suv(folder)
    np.testing.assert_allclose(volume.array, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(volume.array, original, rtol=1e-5, atol=1e-6)
    # the decay term matters: about 25 % here, far beyond the tolerance above
    assert not np.allclose(_rescaled(_sorted_slices(folder)) * 71000.0 / 3.88777472e8, original, rtol=0.1)


def test_bqml_decay_corrected_to_admin_needs_no_decay(tmp_path):
    folder, original = _bqml_copy(tmp_path / "bqml", "ADMIN")
    volume = load_volume(folder)
    assert (volume.units, volume.warnings) == ("SUV", [])
    np.testing.assert_allclose(volume.array, _expected_suv(folder), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(volume.array, original, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("drop,named", [("PatientWeight", "patient weight"), ("RadionuclideTotalDose", "injected dose"),
                                        ("RadionuclideHalfLife", "half-life")])
def test_without_weight_dose_or_half_life_values_stay_bq_per_ml(tmp_path, drop, named):
    folder, _ = _bqml_copy(tmp_path / "bqml", "START", drop=drop)
    volume = load_volume(folder)
    assert volume.units == "Bq/mL"
    assert len(volume.warnings) == 1 and named in volume.warnings[0] and "Bq/mL" in volume.warnings[0]
    np.testing.assert_allclose(volume.array, _rescaled(_sorted_slices(folder)), rtol=1e-6)


@pytest.mark.parametrize("tag,value,units", [("Units", "CNTS", ""), ("DecayCorrection", "NONE", "Bq/mL")])
def test_units_or_decay_correction_that_cannot_become_suv_are_named(tmp_path, tag, value, units):
    folder, _ = _bqml_copy(tmp_path / "other", "START")
    for path in folder.glob("*.dcm"):
        ds = pydicom.dcmread(path)
        setattr(ds, tag, value)
        ds.save_as(path)
    volume = load_volume(folder)
    assert volume.units == units
    assert len(volume.warnings) == 1 and f"'{value}'" in volume.warnings[0]
    np.testing.assert_allclose(volume.array, _rescaled(_sorted_slices(folder)), rtol=1e-6)
