"""An error nobody caught, in any thread, writes a redacted crash report and shows one short, non-modal message
box on the GUI thread."""

from __future__ import annotations

import threading

from medseg_app.app_logging import handle_crash, remove_crash_listener
from medseg_app.core.privacy import register_patient
from medseg_app.ui.session.crash_dialog import install_crash_dialog


def test_a_crash_in_a_worker_thread_shows_a_message_box(qapp, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("MEDSEG_LOG_DIR", str(tmp_path))
    register_patient("MARLOWE^PIPPA", "PM-88123456")
    notifier = install_crash_dialog(qapp)
    try:
        def crash():
            try:
                raise RuntimeError("cannot segment PM-88123456 (Pippa Marlowe)")
            except RuntimeError as exc:
                handle_crash(type(exc), exc, exc.__traceback__, "worker")

        thread = threading.Thread(target=crash)
        thread.start()
        thread.join()
        qtbot.waitUntil(lambda: notifier.box is not None and notifier.box.isVisible(), timeout=5000)
        text = notifier.box.text()
        [report] = tmp_path.glob("crash-*.txt")
        assert str(report) in text and "RuntimeError" in text and "[redacted]" in text
        assert "88123456" not in text and "Pippa" not in text and "Marlowe" not in report.read_text()
        assert not notifier.box.isModal()
    finally:
        if notifier.box is not None:
            notifier.box.close()
        remove_crash_listener(notifier.notify)
        qapp._medseg_crash_notifier = None
