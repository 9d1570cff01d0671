"""Typed errors. Every message is one sentence that names the file and the problem."""

from __future__ import annotations

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


class LoadCancelled(MedSegError):
    """The user cancelled a load."""
