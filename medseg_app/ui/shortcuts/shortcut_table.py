"""Every keyboard shortcut of the MedSeg window, as data: what :class:`WindowShortcuts` installs, what Help ▸
Keyboard shortcuts lists and what the README's table shows (3D Slicer / ITK-SNAP habits).

``where``: "window" shortcuts work anywhere in the window except while typing in a text or number field (the field
keeps its keys); "slice view" ones act on the slice view with the keyboard focus (click it); "menu" ones belong to a
menu item (``action`` names it) and work everywhere. Entries with a ``dock`` (its object name) are the keys that dock
installs and owns (enabled while it is shown); they are listed wherever the window has that dock. ``keys`` are QKeySequence strings; ``shown`` is how the keys
are written for people when it is not simply the keys joined by " / ".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shortcut:
    keys: tuple[str, ...]
    action: str
    description: str
    where: str = "window"
    shown: str = ""
    dock: str = ""

    @property
    def keys_text(self) -> str:
        return self.shown or " / ".join(self.keys)


TOOL_KEYS = tuple(str(n) for n in range(1, 10))

SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut(TOOL_KEYS, "tool", "Select the tool with that number: the tool panel's tools in its order", shown="1 … 9"),
    Shortcut(("0",), "navigate", "Navigate (no tool): the left button moves the crosshair"),
    Shortcut(("Esc",), "cancel", "Cancel the preview and the seeds (and leave the ruler / ellipse mode)"),
    Shortcut(("Return", "Enter"), "apply", "Apply the preview to the active segment"),
    Shortcut(("+", "="), "brush_larger", "Larger brush (paint / erase diameter × 1.25)"),
    Shortcut(("-",), "brush_smaller", "Smaller brush (paint / erase diameter ÷ 1.25)"),
    Shortcut(("R",), "ruler", "Ruler: drag on a slice view to measure a length in mm"),
    Shortcut(("E",), "ellipse", "Ellipse ROI: drag on a slice view (Shift: a circle); mean, SD, area"),
    Shortcut(("D",), "recist", "RECIST diameters of the active segment on the current slice"),
    Shortcut(("Ctrl+Z",), "undo", "Undo", "menu"),
    Shortcut(("Ctrl+Y", "Ctrl+Shift+Z"), "redo", "Redo", "menu"),
    Shortcut(("Ctrl+O",), "open_file", "Open file…", "menu"),
    Shortcut(("Ctrl+Shift+O",), "open_folder", "Open DICOM folder…", "menu"),
    Shortcut(("Ctrl+S",), "save_session", "Save session…", "menu"),
    Shortcut(("Ctrl+Q",), "quit", "Quit", "menu"),
    Shortcut(("Up", "Right"), "slice_up", "Next slice (towards superior / anterior / the patient's right)",
             "slice view"),
    Shortcut(("Down", "Left"), "slice_down", "Previous slice", "slice view"),
    Shortcut(("PgUp",), "page_up", "10 slices up", "slice view"),
    Shortcut(("PgDown",), "page_down", "10 slices down", "slice view"),
    Shortcut(("F",), "fit", "Fit the slice to the view (undo zoom and pan)", "slice view"),
    *(Shortcut(keys, "nudge", text, "Adjust layer dock (shown)", dock="alignment_dock") for keys, text in (
        (("Alt+Left", "Alt+Right"), "Move the layer along x (∓1 mm)"),
        (("Alt+Up", "Alt+Down"), "Move the layer along y (∓1 mm)"),
        (("Alt+PgUp", "Alt+PgDown"), "Move the layer along z (±1 mm)"),
        (("Alt+Shift+Left", "Alt+Shift+Right"), "Rotate the layer about z (∓1°)"),
        (("Alt+Shift+Up", "Alt+Shift+Down"), "Rotate the layer about x (∓1°)"),
        (("Alt+Shift+PgUp", "Alt+Shift+PgDown"), "Rotate the layer about y (±1°)"),
    )),
)

README_HEADER = ("| Keys | Action | Where |", "|---|---|---|")


def readme_rows() -> list[str]:
    """The README's shortcut table, one Markdown row per shortcut, in the table's order."""
    return [*README_HEADER, *(f"| {s.keys_text} | {s.description} | {s.where} |" for s in SHORTCUTS)]
