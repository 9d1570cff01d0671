"""Typed errors. Every message is one sentence that names the file and the problem."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path


class MedSegError(Exception):
    """Base class of every error MedSeg reports to a user."""


class LoadError(MedSegError):
    """An input could not be read into a volume.

    The message is a single sentence naming the path and what is wrong with it, fit to show
    a user as it stands (the CLI prints it without a traceback, the GUI in a dialog).
    """

    def __init__(self, path: str | Path | None, problem: str):
        self.path = None if path is None else Path(path)
        self.problem = problem
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{problem}")


class EmptyInputError(LoadError):
    """The folder holds no files, or no images."""


class NotDicomError(LoadError):
    """A file is not DICOM (or is damaged beyond recognition)."""


class CorruptFileError(LoadError):
    """A file is truncated or its contents contradict its header."""


class UnsupportedTransferSyntaxError(LoadError):
    """The pixel data is encoded in a way no installed decoder handles."""


class AmbiguousSeriesError(LoadError):
    """Several series (or stacks of one series) were found and none was chosen."""


class GeometryError(LoadError):
    """The slices do not form a volume that can be represented faithfully."""


class CommandError(MedSegError):
    """A command line that cannot be carried out (one sentence)."""


class LoadCancelled(MedSegError):
    """The user cancelled a load."""


# What damaged content that still parsed throws when it is used (found by tests/test_fuzz_loaders.py).
DAMAGED_CONTENT_ERRORS = (ValueError, TypeError, AttributeError, KeyError, IndexError, OverflowError,
                          ZeroDivisionError, NotImplementedError)


def exception_clause(exc: BaseException, limit: int = 120) -> str:
    """An exception as a short printable clause for a one-sentence message."""
    text = " ".join(str(exc).split()).split(". ")[0].rstrip(".")
    text = "".join(c if c.isprintable() else "?" for c in text)[:limit]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextmanager
def damaged_content_is_corrupt(path, what: str = "content"):
    """Turn the errors damaged content raises into one CorruptFileError sentence naming ``path``."""
    try:
        yield
    except DAMAGED_CONTENT_ERRORS as exc:
        raise CorruptFileError(path, f"has damaged or contradictory {what} ({exception_clause(exc)}).") from None
