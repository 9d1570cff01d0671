"""Who a DICOM header belongs to: read once, kept in the volume's SourceIdentity, and registered with
:mod:`medseg_app.core.privacy` so that logs and crash reports redact it. Nothing here writes or prints the values."""

from __future__ import annotations

from ..core.privacy import register_patient


def _text(value) -> str:
    if value is None:
        return ""
    try:
        return str(value).strip()
    except Exception:  # a damaged value that cannot even be shown
        return ""


def _values(header, keyword: str) -> tuple[str, ...]:
    try:
        value = header.get(keyword)
    except Exception:
        return ()
    if value is None:
        return ()
    items = value if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue" else [value]
    return tuple(t for t in (_text(v) for v in items) if t)


def patient_fields(header) -> dict:
    """patient_id, patient_name, patient_birth_date, other_patient_ids, other_patient_names of ``header``
    (SourceIdentity's field names); empty where a value is absent or unreadable."""
    other_ids = list(_values(header, "OtherPatientIDs"))
    try:
        for item in header.get("OtherPatientIDsSequence") or ():
            other_ids += _values(item, "PatientID")
    except Exception:
        pass
    names = [n for kw in ("OtherPatientNames", "PatientBirthName", "PatientMotherBirthName")
             for n in _values(header, kw)]
    return {
        "patient_id": next(iter(_values(header, "PatientID")), ""),
        "patient_name": "=".join(_values(header, "PatientName")),
        "patient_birth_date": next(iter(_values(header, "PatientBirthDate")), ""),
        "other_patient_ids": tuple(other_ids),
        "other_patient_names": tuple(names),
    }


def register_header(header) -> None:
    """Register the patient of ``header`` for redaction; never raises (a damaged header is reported elsewhere)."""
    try:
        fields = patient_fields(header)
        register_patient(fields["patient_name"], fields["patient_id"], fields["patient_birth_date"],
                         fields["other_patient_ids"], fields["other_patient_names"])
    except Exception:
        pass
