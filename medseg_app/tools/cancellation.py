"""Stopping a long tool computation between its phases when the user presses Cancel."""

from __future__ import annotations

from ..core.errors import MedSegError
from .base import CancelFn


class ToolCancelled(MedSegError):
    """The user cancelled a tool's preview; nothing was changed."""


def check_cancelled(cancelled: CancelFn | None, title: str) -> None:
    if cancelled is not None and cancelled():
        raise ToolCancelled(f"{title} was cancelled")
