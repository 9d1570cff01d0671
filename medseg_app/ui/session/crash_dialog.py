"""A short message box when MedSeg hits an error nobody caught (the crash report itself is written by
:mod:`medseg_app.app_logging`, redacted). The report may come from any thread: it is shown on the GUI thread, one
box at a time, never blocking and not modal, so the user can still save their work."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from ...app_logging import add_crash_listener


class CrashNotifier(QObject):
    crashed = Signal(str, str)  # report path ("" when it could not be written), redacted summary

    def __init__(self, app: QApplication):
        super().__init__(app)
        self.box: QMessageBox | None = None
        self.crashed.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def notify(self, path, summary: str) -> None:
        """Called from the crashing thread."""
        self.crashed.emit(str(path or ""), summary)

    def _show(self, path: str, summary: str) -> None:
        if self.box is not None and self.box.isVisible():
            return
        where = (f"A crash report (without patient names, IDs or birth dates) was saved to {path}." if path
                 else "The crash report could not be saved.")
        self.box = QMessageBox(QMessageBox.Icon.Critical, "MedSeg: unexpected error",
                               f"MedSeg ran into an unexpected error ({summary}). {where}",
                               QMessageBox.StandardButton.Ok, QApplication.activeWindow())
        self.box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.box.setWindowModality(Qt.WindowModality.NonModal)  # the user may still save their work
        self.box.destroyed.connect(lambda: setattr(self, "box", None))
        self.box.show()


def install_crash_dialog(app: QApplication) -> CrashNotifier:
    """Show a message box after each crash report (once per application)."""
    notifier = getattr(app, "_medseg_crash_notifier", None)
    if notifier is None:
        notifier = CrashNotifier(app)
        app._medseg_crash_notifier = notifier
        add_crash_listener(notifier.notify)
    return notifier
