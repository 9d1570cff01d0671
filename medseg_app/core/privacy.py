"""Keeping patient identity out of what MedSeg writes: logs, crash reports and anonymised exports.

Two kinds of redaction, both applied by :func:`redact`:

* the identifiers of every study this process has opened (PatientName, PatientID, PatientBirthDate, Other Patient
  IDs / Names, birth and mother's birth name), registered by the loaders through :func:`register_identity` /
  :func:`register_patient`. Names are matched in the forms people write them (``DOE^JOHN``, ``DOE JOHN``,
  ``John Doe``, ``Doe, John``) and by their components; a birth date in its DICOM form and as ``1958-02-14``,
  ``14.02.1958``, ``14/02/1958``, ``02/14/1958``. Matching ignores case.
* generic patterns, whoever the patient is: ``PatientName=...``, ``"PatientID": "..."``, ``patient_name='...'``,
  ``Patient's Birth Date  DA: '...'``, a pydicom element line ``(0010,0010) ... PN: '...'``, ``DOB: ...``,
  ``date of birth ...``, ``born 14.02.1958``: the value is replaced, the key kept.

What is replaced becomes :data:`REDACTED`. :class:`RedactingFilter` applies this to every log record (message,
arguments, exception text and stack): MedSeg's loggers (:func:`get_logger`) carry it, so a record is redacted
before any handler sees it, and the log file's handler carries it too. The crash report uses :func:`redact` on the
whole report. For exports meant
to leave the hospital, :func:`anonymised_name` takes identifiers out of structure names and
:func:`replacement_uid` swaps a UID for a fresh one (the same fresh one for the same UID within this process, so
files exported together still agree with one another, and never linkable to the original).

Pure Python: no Qt, VTK or torch (core layer).
"""

from __future__ import annotations

import logging
import re
import threading
import uuid

REDACTED = "[redacted]"

# DICOM attributes (group 0010) that identify the patient: what the generic patterns look for by keyword or tag.
PATIENT_TAGS = {
    "0010": "PatientName", "0020": "PatientID", "0030": "PatientBirthDate", "0032": "PatientBirthTime",
    "1000": "OtherPatientIDs", "1001": "OtherPatientNames", "1002": "OtherPatientIDsSequence",
    "1005": "PatientBirthName", "1040": "PatientAddress", "1060": "PatientMotherBirthName",
    "2154": "PatientTelephoneNumbers", "1090": "MedicalRecordLocator",
}

_SEP = r"[\s^,_.\-]+"  # between the components of a written name: DOE^JOHN, DOE JOHN, Doe, John, DOE_JOHN
_NOT_ALNUM_BEFORE = r"(?<![A-Za-z0-9])"
_NOT_ALNUM_AFTER = r"(?![A-Za-z0-9])"
_MIN_SUBSTRING = 6  # identifiers this long are redacted wherever they occur, shorter ones only as whole tokens
_MIN_TOKEN = 2  # shorter values (an ID "7") are not redacted: they would blank every such number in a log

_KEYS = (
    r"patient[\s_'\-]*s?[\s_\-]*(?:name|id|birth[\s_\-]*date|birth[\s_\-]*time|birth[\s_\-]*name|address"
    r"|telephone[\s_\-]*numbers?|mother[\s_'\-]*s?[\s_\-]*birth[\s_\-]*name)"
    r"|other[\s_\-]*patient[\s_\-]*(?:ids|names)(?:[\s_\-]*sequence)?"
    r"|date[\s_\-]*of[\s_\-]*birth|birth[\s_\-]*date|d\.?o\.?b\.?|birthday"
    r"|medical[\s_\-]*record[\s_\-]*(?:locator|number)|mrn"
)
_VALUE = r"(?:\"[^\"\n]*\"|'[^'\n]*'|\[[^\]\n]*\]|[^,;)\]}\n]*)"
# key, an optional closing quote and VR ("PN"), then : or = and the value; the key is kept
_KEY_VALUE = re.compile(
    rf"(?P<key>{_NOT_ALNUM_BEFORE}[\"']?(?:{_KEYS})[\"']?(?:\s+[A-Z]{{2}})?\s*[:=]\s*)(?P<value>{_VALUE})",
    re.IGNORECASE)
# a pydicom element line: (0010,0010) Patient's Name   PN: 'DOE^JOHN'
_TAG_LINE = re.compile(rf"(?P<key>\(0010,\s*(?:{'|'.join(PATIENT_TAGS)})\)[^:\n]*:\s*)(?P<value>[^\n]*)",
                       re.IGNORECASE)
_DATE = r"(?:\d{4}[\-/.]?\d{1,2}[\-/.]?\d{1,2}|\d{1,2}[\-/.]\d{1,2}[\-/.]\d{2,4})"
_BORN = re.compile(rf"(?P<key>{_NOT_ALNUM_BEFORE}(?:born|geb\.?)(?:\s+on)?\s+)(?P<value>{_DATE})",
                   re.IGNORECASE)
_GENERIC = (_TAG_LINE, _KEY_VALUE, _BORN)


def _words(text: str) -> str:
    """A regex for ``text`` that allows any separator (space, ^, _, comma...) between its words."""
    return _SEP.join(re.escape(w) for w in re.split(r"[\s^_]+", text.strip()) if w)


def _token(fragment: str) -> str:
    return f"{_NOT_ALNUM_BEFORE}(?:{fragment}){_NOT_ALNUM_AFTER}"


def _id_fragments(value: str) -> list[str]:
    value = value.strip()
    if len(value) < _MIN_TOKEN:
        return []
    fragment = re.escape(value)
    return [fragment if len(value) >= _MIN_SUBSTRING else _token(fragment)]


def _name_fragments(value: str) -> list[str]:
    """A DICOM person name (``family^given^middle^prefix^suffix``, groups split by ``=``) as written forms."""
    fragments: list[str] = []
    for group in value.split("="):
        parts = [p.strip() for p in group.split("^")]
        family, given, middle = (parts + ["", "", ""])[:3]
        whole = " ".join(p for p in (family, given, middle) if p)
        if not whole:
            continue
        forms = {whole, " ".join(p for p in (given, middle, family) if p), " ".join(p for p in (given, family) if p),
                 " ".join(p for p in (family, given) if p)}
        fragments += [_token(_words(f)) for f in sorted(forms, key=len, reverse=True) if len(f) >= _MIN_TOKEN]
        for component in (family, given, middle):  # each word of a name alone (not of a code like STS_001)
            for word in component.split():
                if len(word) >= _MIN_TOKEN and re.fullmatch(r"[^\W\d_](?:[^\W\d_]|['\-])*", word):
                    fragments.append(_token(re.escape(word)))
    return fragments


def _date_fragments(value: str) -> list[str]:
    digits = re.sub(r"\D", "", value)
    if len(digits) != 8:
        return _id_fragments(value)
    y, m, d = digits[:4], digits[4:6], digits[6:]
    m_, d_ = (f"0?{v[1]}" if v.startswith("0") else v for v in (m, d))
    sep = r"[\-/. ]?"
    forms = [f"{y}{sep}{m_}{sep}{d_}", rf"{d_}[\-/. ]{m_}[\-/. ]{y}", rf"{m_}[\-/. ]{d_}[\-/. ]{y}"]
    return [rf"(?<!\d)(?:{f})(?!\d)" for f in forms]


class _Identifiers:
    """The identifiers registered so far, compiled into one pattern (rebuilt when one is added)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._fragments: dict[str, None] = {}
        self._values: set[str] = set()
        self._pattern: re.Pattern | None = None

    def add(self, fragments: list[str], values: list[str]) -> None:
        with self._lock:
            new = [f for f in fragments if f not in self._fragments]
            self._values.update(v.strip() for v in values if len(v.strip()) >= _MIN_TOKEN)
            if new:
                self._fragments.update(dict.fromkeys(new))
                ordered = sorted(self._fragments, key=len, reverse=True)  # longest first: "John Doe" before "Doe"
                self._pattern = re.compile("|".join(ordered), re.IGNORECASE)

    def clear(self) -> None:
        with self._lock:
            self._fragments.clear()
            self._values.clear()
            self._pattern = None

    @property
    def pattern(self) -> re.Pattern | None:
        return self._pattern

    @property
    def values(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._values)


_known = _Identifiers()


def register_patient(name: str = "", patient_id: str = "", birth_date: str = "", other_ids=(),
                     other_names=()) -> None:
    """Remember one patient's identifiers so that nothing MedSeg logs or reports shows them."""
    fragments: list[str] = []
    values: list[str] = []
    for value in (name, *other_names):
        value = str(value or "")
        fragments += _name_fragments(value)
        values += [value, *(p for p in re.split(r"[\^=]", value) if p.strip())]
    for value in (patient_id, *other_ids):
        fragments += _id_fragments(str(value or ""))
        values.append(str(value or ""))
    if birth_date:
        fragments += _date_fragments(str(birth_date))
        values.append(str(birth_date))
    _known.add(fragments, values)


def register_identity(identity) -> None:
    """Register the patient of a :class:`~medseg_app.core.volume.SourceIdentity` (or anything with its fields)."""
    register_patient(getattr(identity, "patient_name", ""), getattr(identity, "patient_id", ""),
                     getattr(identity, "patient_birth_date", ""), getattr(identity, "other_patient_ids", ()),
                     getattr(identity, "other_patient_names", ()))


def known_identifiers() -> frozenset[str]:
    """The identifier values registered so far (for tests and checks; never write them anywhere)."""
    return _known.values


def clear_identifiers() -> None:
    """Forget every registered identifier (tests)."""
    _known.clear()


def redact(text, replacement: str = REDACTED) -> str:
    """``text`` with every registered identifier and every patient-identifier field value replaced."""
    text = str(text)
    for pattern in _GENERIC:
        text = pattern.sub(lambda m: m.group("key") + (replacement if m.group("value").strip() else ""), text)
    known = _known.pattern
    if known is not None:
        text = known.sub(replacement, text)
    return text


def contains_identifiers(text) -> bool:
    """Whether :func:`redact` would change ``text``."""
    return redact(text, "\0") != str(text)


def anonymised_name(name: str, fallback: str) -> str:
    """A structure name with the patient's identifiers taken out (``DOE^JOHN GTV`` → ``GTV``); ``fallback`` when
    nothing else is left."""
    cleaned = redact(name, "\0")
    if cleaned == name:
        return name
    cleaned = re.sub(r"[\s_\-^,.:;=]*\0[\s_\-^,.:;=]*", " ", cleaned).replace("\0", " ")
    cleaned = re.sub(r"\s+", " ", cleaned).strip(" _-^,.:;=")
    return cleaned or fallback


_uid_lock = threading.Lock()
_replacement_uids: dict[str, str] = {}


def replacement_uid(uid: str) -> str:
    """A fresh UID (``2.25.`` + a random UUID) standing for ``uid``; the same one every time within this process,
    so files exported together still share a Frame of Reference. Empty stays empty."""
    if not uid:
        return ""
    with _uid_lock:
        if uid not in _replacement_uids:
            _replacement_uids[uid] = f"2.25.{uuid.uuid4().int}"
        return _replacement_uids[uid]


class RedactingFilter(logging.Filter):
    """A handler filter: formats each record's message with its arguments, then redacts the message, the
    exception text and the stack; the record leaves with no arguments, so no handler sees them unredacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is, redacted
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


LOGGER_NAME = "medseg"
_logger_lock = threading.Lock()


def get_logger(name: str = "") -> logging.Logger:
    """``medseg`` or its child ``medseg.<name>``, with a :class:`RedactingFilter`: whatever handler a record reaches
    (the log file, the root logger's, a test's), it arrives redacted. Until the application configures its log file
    the records go nowhere (a NullHandler keeps Python from printing warnings on stderr)."""
    logger = logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)
    with _logger_lock:
        root = logging.getLogger(LOGGER_NAME)
        if not any(isinstance(h, logging.NullHandler) for h in root.handlers):
            root.addHandler(logging.NullHandler())
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
    return logger
