"""Installs the shortcut table (``shortcut_table.SHORTCUTS``) on the main window and does what each one says.

Window shortcuts are QShortcuts of the main window, switched off while the keyboard focus is in a text or number
field (QLineEdit, a spin box, a text edit: the field keeps its digits, +, - and Enter) and on again when it leaves
it. Slice-view shortcuts are QShortcuts of each slice view (the view with the focus). Menu shortcuts are set on
their menu items (``<action>_action`` of the window, or the item whose text is the description), so a menu
item shows the key the table gives it. A dock's own keys (entries with ``dock``) are left to that dock and listed
while the window has it.

The tool keys follow the tool panel's order at run time (its buttons after Navigate): a tool added to the panel
gets the next number without a change here. The window is reached through the attributes MainWindow gives it
(``tools``, ``tool_panel``, ``measurements``, ``grid``), never by importing the other ui packages.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QDockWidget, QLineEdit, QPlainTextEdit, QTextEdit

from ...core.privacy import get_logger
from ..viewer.slice_view import _PAGE_STEP  # the slice view's own Page Up / Down step
from .shortcut_table import SHORTCUTS, TOOL_KEYS, Shortcut
from .shortcuts_dialog import ShortcutsDialog

_log = get_logger("ui")
BRUSH_FACTOR = 1.25
NAVIGATE = "navigate"
SLICE_VIEWS = ("axial", "coronal", "sagittal")


def typing_in(widget) -> bool:
    """Whether ``widget`` (the focus) takes plain keys as text."""
    return isinstance(widget, (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit))


def _plain_text(text: str) -> str:
    return text.replace("&", "")


class WindowShortcuts(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.window_shortcuts: list[QShortcut] = []
        self.view_shortcuts: list[QShortcut] = []
        self.menu_actions: dict[str, QAction] = {}
        self._install()
        app = QApplication.instance()
        if app is not None:
            app.focusChanged.connect(self._focus_changed)

    # --- installing ----------------------------------------------------------------------------
    def _install(self) -> None:
        for entry in SHORTCUTS:
            if entry.dock:
                continue  # installed by its dock
            if entry.where == "window":
                for n, key in enumerate(entry.keys):
                    self._window_shortcut(key, self._handler(entry, n))
            elif entry.where == "slice view":
                for name in SLICE_VIEWS:
                    view = self.window.grid.slice_view(name)
                    for key in entry.keys:
                        shortcut = QShortcut(QKeySequence(key), view)
                        shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
                        shortcut.activated.connect(lambda a=entry.action, v=view: self.view_action(a, v))
                        self.view_shortcuts.append(shortcut)
            else:
                action = self._menu_action(entry)
                if action is None:  # a renamed menu item: the window opens, the shortcut tests fail
                    _log.warning("no menu item for the shortcut %s (%s)", entry.keys_text, entry.description)
                    continue
                action.setShortcuts([QKeySequence(key) for key in entry.keys])
                self.menu_actions[entry.action] = action

    def _window_shortcut(self, key: str, handler) -> None:
        shortcut = QShortcut(QKeySequence(key), self.window)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(handler)
        self.window_shortcuts.append(shortcut)

    def _handler(self, entry: Shortcut, n: int):
        if entry.action == "tool":
            return lambda: self.select_tool(int(TOOL_KEYS[n]))
        return getattr(self, entry.action)

    def _menu_action(self, entry: Shortcut) -> QAction | None:
        action = getattr(self.window, f"{entry.action}_action", None)
        if isinstance(action, QAction):
            return action
        for candidate in self.window.findChildren(QAction):
            if _plain_text(candidate.text()) == entry.description:
                return candidate
        return None

    def _focus_changed(self, _old, new) -> None:
        enabled = not typing_in(new)
        for shortcut in self.window_shortcuts:
            shortcut.setEnabled(enabled)

    # --- Help ▸ Keyboard shortcuts ---------------------------------------------------------------
    def tool_ids(self) -> list[str]:
        """The tool panel's tools in its order (Navigate left out): key n selects the n-th."""
        return [tool_id for tool_id in self.window.tool_panel.buttons if tool_id != NAVIGATE]

    def rows(self) -> list[tuple[str, str, str]]:
        """(keys, what they do, where) for every shortcut; the tool keys one row per tool of the panel now."""
        rows = []
        tools = self.window.tools.tools
        for entry in SHORTCUTS:
            if entry.dock and self.window.findChild(QDockWidget, entry.dock) is None:
                continue
            if entry.action == "tool":
                for key, tool_id in zip(TOOL_KEYS, self.tool_ids()):
                    rows.append((key, f"Tool: {tools[tool_id].title}", entry.where))
            else:
                rows.append((entry.keys_text, entry.description, entry.where))
        return rows

    def add_help_menu(self, menu_bar) -> QAction:
        help_menu = next((a.menu() for a in menu_bar.actions() if a.menu() and _plain_text(a.text()) == "Help"),
                         None) or menu_bar.addMenu("&Help")
        action = QAction("&Keyboard shortcuts…", self.window)
        action.triggered.connect(self.show_dialog)
        help_menu.addAction(action)
        return action

    def show_dialog(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self.rows(), self.window)
        dialog.show()
        return dialog

    # --- what the keys do ----------------------------------------------------------------------
    def select_tool(self, number: int) -> None:
        ids = self.tool_ids()
        if 1 <= number <= len(ids):
            self.window.measurement_interaction.set_mode(None)
            self.window.tool_panel.select(ids[number - 1])

    def navigate(self) -> None:
        self.window.tool_panel.select(NAVIGATE)

    def cancel(self) -> None:
        self.window.measurement_interaction.set_mode(None)
        self.window.tools.cancel()

    def apply(self) -> None:
        self.window.tools.apply()

    def brush_larger(self) -> None:
        self._scale_brush(BRUSH_FACTOR)

    def brush_smaller(self) -> None:
        self._scale_brush(1.0 / BRUSH_FACTOR)

    def _scale_brush(self, factor: float) -> None:
        tools = self.window.tools
        tool = tools.active
        parameter = next((p for p in tool.parameters if p.name == "diameter_mm"), None) if tool else None
        if parameter is None:
            tools.message.emit("+ / -: pick a brush (Paint or Erase) first.")
            return
        value = round(float(tool.values["diameter_mm"]) * factor, 1)
        value = min(max(value, parameter.minimum or 0.1), parameter.maximum or value)
        self.window.tool_panel.options_widget(tool).set_value("diameter_mm", value)
        tools.set_parameter("diameter_mm", value)
        tools.message.emit(f"{tool.title}: diameter {value:g} mm.")

    def ruler(self) -> None:
        self._toggle_mode("ruler")

    def ellipse(self) -> None:
        self._toggle_mode("ellipse")

    def _toggle_mode(self, mode: str) -> None:
        interaction = self.window.measurement_interaction
        if interaction.mode != mode:
            self.window.tool_panel.select(NAVIGATE)  # the left button is the measurement's
        interaction.set_mode(None if interaction.mode == mode else mode)

    def recist(self) -> None:
        self.window.measurements.measure_recist()

    def view_action(self, action: str, view) -> None:
        state = view.state
        if action == "fit":
            view.fit()
            return
        if state.volume is None:
            return
        steps = {"slice_up": 1, "slice_down": -1, "page_up": _PAGE_STEP, "page_down": -_PAGE_STEP}[action]
        state.step_slice(view.view, steps * view.slice_step_up())
