"""MedSeg's log file and crash reports, both free of patient names, IDs and birth dates.

:func:`configure_logging` sends the ``medseg`` logger (and its children ``medseg.load``, ``medseg.export``, ...) to
``medseg.log`` in :func:`log_dir` (rotated at 1 MB, five old files kept) through
:class:`~medseg_app.core.privacy.RedactingFilter`: every study's patient identifiers are registered when it is read,
and the filter replaces them, and any ``PatientName=...``-like field, by ``[redacted]`` in messages, arguments and
exception text. MedSeg's loggers (:func:`~medseg_app.core.privacy.get_logger`) redact each record before any
handler sees it; the file's handler redacts again, and the records do not propagate to the root logger.

:func:`install_crash_handler` sets ``sys.excepthook`` and ``threading.excepthook``: an exception nobody caught
writes ``crash-<time>-<pid>.txt`` (traceback, MedSeg version, Python and platform; redacted the same way) next to
the log, logs that it did, prints the redacted traceback on stderr and tells the listeners added with
:func:`add_crash_listener` (the GUI shows a message box).

Folder: ``MEDSEG_LOG_DIR`` if set, else ``$XDG_STATE_HOME/medseg``, else ``~/.local/state/medseg``. Command lines
are not logged (their paths may name a patient); the files are created readable by their owner only.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import platform
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Callable

from . import __version__
from .core.privacy import RedactingFilter, get_logger, redact

LOG_FILE = "medseg.log"
MAX_BYTES = 1_000_000
BACKUPS = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d %(threadName)s] %(message)s"

CrashListener = Callable[[Path | None, str], None]  # (report file or None, one-line summary)

_lock = threading.Lock()
_handler: logging.Handler | None = None
_listeners: list[CrashListener] = []
_installed = False


def log_dir() -> Path:
    """Where the log and the crash reports go."""
    env = os.environ.get("MEDSEG_LOG_DIR")
    if env:
        return Path(env)
    state = os.environ.get("XDG_STATE_HOME")
    return (Path(state) if state else Path.home() / ".local" / "state") / "medseg"


def log_file() -> Path:
    return log_dir() / LOG_FILE


def _private_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    def _open(self):
        stream = super()._open()
        try:
            os.chmod(self.baseFilename, 0o600)
        except OSError:
            pass
        return stream


def configure_logging(directory: str | Path | None = None, level: int = logging.INFO) -> Path | None:
    """Log to ``medseg.log`` in ``directory`` (default :func:`log_dir`); returns the file, or None when it cannot
    be written (MedSeg then runs without a log). Calling it again with another folder moves the log there."""
    global _handler
    path = Path(directory or log_dir()) / LOG_FILE
    logger = get_logger()
    with _lock:
        if _handler is not None and getattr(_handler, "baseFilename", None) == str(path.absolute()):
            return path
        try:
            _private_folder(path.parent)
            handler = _PrivateRotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8",
                                                  delay=False)
        except OSError:
            return None
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(RedactingFilter())
        if _handler is not None:
            logger.removeHandler(_handler)
            _handler.close()
        _handler = handler
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False  # the root logger's handlers would see the records unredacted
    return path


def shutdown_logging() -> None:
    """Close the log file (tests that move it)."""
    global _handler
    with _lock:
        if _handler is not None:
            get_logger().removeHandler(_handler)
            _handler.close()
            _handler = None


def log_started(what: str) -> None:
    """The start line: version, Python, platform and which command (never its arguments)."""
    get_logger().info("MedSeg %s started (%s; Python %s; %s)", __version__, what, platform.python_version(),
                      platform.platform(terse=True))


# --- crash reports ------------------------------------------------------------------------------------
def crash_report_text(exc_type, exc, tb, thread_name: str | None = None) -> str:
    """The report, already redacted."""
    lines = [
        "MedSeg crash report",
        f"time: {time.strftime('%Y-%m-%d %H:%M:%S %z')}",
        f"version: {__version__}",
        f"python: {platform.python_version()} ({platform.python_implementation()})",
        f"platform: {platform.platform()}",
        f"thread: {thread_name or threading.current_thread().name}",
        f"log: {log_file()}",
        "",
        "".join(traceback.format_exception(exc_type, exc, tb)).rstrip(),
        "",
    ]
    return redact("\n".join(lines))


def write_crash_report(exc_type, exc, tb, thread_name: str | None = None,
                       directory: str | Path | None = None) -> Path | None:
    """Write a redacted crash report; returns its path, or None when it could not be written."""
    folder = Path(directory or log_dir())
    text = crash_report_text(exc_type, exc, tb, thread_name)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        _private_folder(folder)
        for n in range(100):
            path = folder / f"crash-{stamp}-{os.getpid()}{f'-{n}' if n else ''}.txt"
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as stream:
                stream.write(text)
            return path
    except OSError:
        pass
    return None


def _summary(exc_type, exc) -> str:
    text = " ".join(str(exc).split())[:200]
    return redact(f"{exc_type.__name__}: {text}" if text else exc_type.__name__)


def handle_crash(exc_type, exc, tb, thread_name: str | None = None) -> Path | None:
    """Report an exception nobody caught: the report file, a log line, the redacted traceback on stderr, and the
    listeners (each in a try, so a broken listener cannot hide the report)."""
    path = write_crash_report(exc_type, exc, tb, thread_name)
    summary = _summary(exc_type, exc)
    get_logger("crash").error("unexpected error in thread %s: %s; crash report: %s",
                              thread_name or threading.current_thread().name, summary, path or "not written")
    try:
        sys.stderr.write(redact("".join(traceback.format_exception(exc_type, exc, tb))))
        if path is not None:
            sys.stderr.write(f"medseg: a crash report was written to {path}\n")
        sys.stderr.flush()
    except Exception:
        pass
    for listener in list(_listeners):
        try:
            listener(path, summary)
        except Exception:
            pass
    return path


def _excepthook(exc_type, exc, tb) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    handle_crash(exc_type, exc, tb)


def _thread_excepthook(args) -> None:
    if args.exc_type is SystemExit:
        return
    handle_crash(args.exc_type, args.exc_value, args.exc_traceback,
                 args.thread.name if args.thread is not None else None)


def install_crash_handler() -> None:
    """Route uncaught exceptions (main thread, other threads, Qt slots) to :func:`handle_crash`; once."""
    global _installed
    with _lock:
        if _installed and sys.excepthook is _excepthook:
            return
        sys.excepthook = _excepthook
        threading.excepthook = _thread_excepthook
        _installed = True


def add_crash_listener(listener: CrashListener) -> None:
    """Call ``listener(report_path, summary)`` after each crash report (from the thread that crashed)."""
    if listener not in _listeners:
        _listeners.append(listener)


def remove_crash_listener(listener: CrashListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)
