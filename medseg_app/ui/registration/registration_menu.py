"""The Registration menu and the registration File actions, wired into the main window: Register layer to
reference… (the dialog), Adjust layer by hand… (the dock, and the mouse on the slice views while its mouse mode is
on), Undo last registration step, and File ▸ Export / Import registration…. One :class:`TransformHistory` per study
serves all of them, so an import, a registration and a manual adjustment undo in the order they were made."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction

from ...core.transform_history import TransformHistory
from .alignment_dock import AlignmentDock
from .alignment_mouse import AlignmentMouse
from .registration_dialog import BoxSource, RegistrationDialog
from .registration_files import choose_layer, export_registration, import_registration


class RegistrationMenu(QObject):
    def __init__(self, window, state, box_source: BoxSource, report: Callable[[str], None] | None = None):
        super().__init__(window)
        self.window, self.state, self.box_source = window, state, box_source
        self.report = report
        self._history: TransformHistory | None = None
        self.dialog: RegistrationDialog | None = None
        self.dock = AlignmentDock(state, self.history, window)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.mouse = AlignmentMouse(state, lambda: self.history, self.dock.layer, self)
        self.dock.mouse_mode_changed.connect(self.mouse.set_active)
        state.subscribe(lambda what: what == "volume" and self._study_changed())

    def attach_views(self, views) -> None:
        """Stand in front of the slice views' interactors (call after the others attached)."""
        for view in views:
            self.mouse.attach(view)

    @property
    def history(self) -> TransformHistory:
        study = self.state.study
        if self._history is None or self._history.study is not study:
            self._history = TransformHistory(study)
        return self._history

    def _study_changed(self) -> None:
        self.dock.history = self.history
        if self.dialog is not None:
            self.dialog.history = self.history
            self.dialog.refresh()

    # --- menus ------------------------------------------------------------------------------
    def add_menu(self, menu_bar) -> None:
        menu = menu_bar.addMenu("Re&gistration")
        register = QAction("&Register layer to reference…", self.window)
        register.triggered.connect(self.open_dialog)
        adjust = QAction("&Adjust layer by hand…", self.window)
        adjust.triggered.connect(self.show_dock)
        undo = QAction("&Undo last transform change", self.window)
        undo.triggered.connect(lambda: self.state.study is not None and self.history.undo())
        for action in (register, adjust, undo):
            menu.addAction(action)

    def add_file_actions(self, file_menu) -> None:
        export = QAction("Export re&gistration…", self.window)
        export.triggered.connect(self.export)
        load = QAction("Import registrat&ion…", self.window)
        load.triggered.connect(self.import_)
        file_menu.addAction(export)
        file_menu.addAction(load)

    # --- actions ----------------------------------------------------------------------------
    def open_dialog(self) -> RegistrationDialog:
        if self.dialog is None:
            self.dialog = RegistrationDialog(self.state, self.history, self.box_source, self.window)
            self.dialog.registered.connect(lambda result: self.dock.show_layer())
        self.dialog.history = self.history
        self.dialog.refresh()
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def show_dock(self) -> AlignmentDock:
        self.dock.history = self.history
        self.dock.refresh()
        self.dock.show()
        self.dock.raise_()
        return self.dock

    def export(self, path=None):
        layer = choose_layer(self.window, self.state.study, "export")
        return None if layer is None else export_registration(self.window, self.state.study, layer, path)

    def import_(self, path=None) -> bool:
        layer = choose_layer(self.window, self.state.study, "register")
        if layer is None:
            return False
        done = import_registration(self.window, self.state.study, layer, self.history, path, self.report)
        self.dock.show_layer()
        return done
