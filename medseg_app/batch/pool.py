"""Where the tasks of a batch run, and the progress bar that follows them.

* in this process, one task after another (the default when the machine's pool would have one worker: one GPU, or
  a CPU with fewer than four cores; no start-up cost, the loaded model is reused);
* on a local Dask cluster (``LocalCluster(n_workers=N, threads_per_worker=1, processes=True)``): the default pool
  when it would have more than one worker, and what ``--workers N`` asks for;
* on an existing Dask distributed cluster (``--scheduler ADDRESS``).

A task is a top-level function of plain arguments returning a small dict; it catches its own errors, so an
exception here means the task never ran to its end (its worker died, or the cluster could not run it).
"""

from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from typing import Callable, Iterator

from ..core.errors import MedSegError, exception_clause


CONNECT_TIMEOUT = "20s"  # how long --scheduler ADDRESS is tried before the batch gives up (exit status 2)


class PoolError(MedSegError):
    """The cluster cannot be reached or started (a bad command line: exit status 2)."""


def gpu_count() -> int:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return 0
    return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0


def default_workers(n_tasks: int, gpus: int) -> int:
    """One worker per GPU when there are GPUs, else half the cores; never more than there are tasks."""
    pool = gpus if gpus else (os.cpu_count() or 1) // 2
    return max(1, min(pool, n_tasks))


def threads_per_worker(workers: int) -> int:
    """Torch threads for each of ``workers`` processes sharing this machine's cores."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def task_failure(exc: BaseException) -> str:
    """Why a task that raised (rather than returning its own failure) did not finish, in one sentence."""
    if type(exc).__name__ == "KilledWorker":
        return "the worker running it died each time it was tried (out of memory, or a crash in a library)."
    if isinstance(exc, (ImportError, ModuleNotFoundError)):
        return f"a worker cannot import MedSeg ({exception_clause(exc)}); install medseg-app on every worker."
    return f"the task did not finish ({exception_clause(exc)})."


class InProcess:
    description = "in this process"

    def __init__(self, workers: int = 1):
        self.workers = workers

    def run(self, fn: Callable, arguments: list[tuple]) -> Iterator[tuple[int, object]]:
        for index, args in enumerate(arguments):
            try:
                yield index, fn(*args)
            except Exception as exc:  # noqa: BLE001 - reported per task, the batch goes on
                yield index, exc

    def close(self) -> None:
        pass


class DaskPool:
    """Tasks on a Dask distributed cluster: a new local one of ``workers`` processes, or the one at ``address``."""

    def __init__(self, workers: int | None = None, address: str | None = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - a dependency
            raise PoolError(f"Dask distributed is not installed ({exc}); pip install 'dask[distributed]'.") from None
        self.cluster = None
        try:
            if address:
                self.client = Client(address, timeout=CONNECT_TIMEOUT)
                count = len(self.client.scheduler_info().get("workers", {}))
                self.workers = count
                self.description = f"on the Dask cluster at {address} ({count} worker{'s' * (count != 1)} now)"
            else:
                self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                            dashboard_address=None, silence_logs=logging.CRITICAL)
                self.client = Client(self.cluster)
                self.workers = workers
                self.description = f"on a local Dask cluster of {workers} worker{'s' * (workers != 1)}"
        except (OSError, TimeoutError, ValueError, RuntimeError) as exc:  # RuntimeError: a worker failed to start
            self.close()
            what = f"reach the Dask scheduler at {address}" if address else "start a local Dask cluster"
            raise PoolError(f"cannot {what} ({exception_clause(exc)}).") from None

    def run(self, fn: Callable, arguments: list[tuple]) -> Iterator[tuple[int, object]]:
        from distributed import as_completed

        tag = uuid.uuid4().hex[:8]
        futures = {self.client.submit(fn, *args, key=f"medseg-{fn.__name__}-{tag}-{index}", pure=False): index
                   for index, args in enumerate(arguments)}
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # noqa: BLE001 - a worker that died, a task the cluster cancelled or
                outcome = exc  # could not run (Dask's cancellation is a BaseException)
            future.release()
            yield futures[future], outcome

    def close(self) -> None:
        client, cluster = getattr(self, "client", None), self.cluster
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def open_pool(workers: int | None, address: str | None, default_size: int):
    """``--scheduler`` → that cluster; ``--workers N`` → a local Dask cluster of N; else the default pool."""
    if address:
        return DaskPool(address=address)
    if workers is not None:
        return DaskPool(workers=workers)
    return InProcess() if default_size == 1 else DaskPool(workers=default_size)


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """``label [#####.....] 3/10  30%  1 failed  elapsed 0:00:12  ETA 0:00:28  <last event>`` on stderr.

    On a terminal the line is redrawn in place; otherwise (a log file, CI) each update is a line of its own.
    The ETA assumes the tasks still to come take as long as those finished so far (skipped ones not counted).
    """

    WIDTH = 24

    def __init__(self, total: int, label: str = "batch", stream=None, skipped: int = 0, failed: int = 0):
        """``skipped``: tasks settled before the run (done before, or failed without running, ``failed`` of them)."""
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total, self.label, self.skipped = total, label, skipped
        self.finished, self.failed = 0, failed
        self.started = time.perf_counter()

    def update(self, failed: bool, message: str) -> None:
        self.finished += 1
        self.failed += int(failed)
        self._draw(message)

    def line(self, message: str = "") -> str:
        count = self.finished + self.skipped
        filled = int(self.WIDTH * count / self.total) if self.total else self.WIDTH
        elapsed = time.perf_counter() - self.started
        left = self.total - count
        eta = clock(elapsed / self.finished * left) if self.finished else "-:--:--"
        percent = 100 * count // self.total if self.total else 100
        failed = f"  {self.failed} failed" if self.failed else ""
        return (f"{self.label} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {count}/{self.total} {percent:3d}%"
                f"{failed}  elapsed {clock(elapsed)}  ETA {eta}" + (f"  {message}" if message else ""))

    def _draw(self, message: str) -> None:
        text = self.line(message)
        if self.tty:
            self.stream.write("\r" + text + "\x1b[K")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
