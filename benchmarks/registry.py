"""A small registry of benchmarks: each one is a generator that sets up, yields one Case, then cleans up.

    @benchmark("load_dicom_ct", needs=["nsclc_lung1_001/LUNG1-001/image"])
    def load_dicom_ct(data: Path):
        folder = make_series(data)            # setup
        try:
            yield Case(ours=lambda: load(folder), peer=lambda: other(folder), peer_name="SimpleITK")
        finally:
            shutil.rmtree(folder)             # teardown, also when the run fails

``needs`` are paths under the shared data folder; a benchmark whose data is absent is skipped, and one
may also ``raise Skip("why")`` itself. With ``timed=True`` (the default, unit "s") the runner times each
callable; with ``timed=False`` the callable returns its own measurement (e.g. megabytes, unit "MB").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

REPO = Path(__file__).resolve().parent.parent
# Real data sits next to the checkout, read-only: <parent of the repo root>/shared/data.
DATA = REPO.parent / "shared" / "data"


class Skip(Exception):
    """Raised by a benchmark that cannot run here (missing data or package)."""


@dataclass
class Case:
    ours: Callable[[], Any]
    peer: Callable[[], Any] | None = None
    peer_name: str | None = None
    unit: str = "s"
    timed: bool = True  # False: the callable returns the measured value itself
    # Called once with the results of the untimed first (warm-up) run of ours and the peer's;
    # raise to fail the benchmark (e.g. when the two disagree).
    verify: Callable[[Any, Any], None] | None = None


@dataclass
class Benchmark:
    name: str
    func: Callable[[Path], Iterator[Case]]
    needs: list[str] = field(default_factory=list)
    doc: str = ""

    def missing(self, data: Path) -> list[str]:
        return [n for n in self.needs if not (data / n).exists()]


REGISTRY: dict[str, Benchmark] = {}


def benchmark(name: str, needs: list[str] | tuple[str, ...] = ()):
    """Register a generator function ``func(data_dir) -> yields one Case`` under ``name``."""

    def register(func):
        if name in REGISTRY:
            raise ValueError(f"benchmark {name!r} is registered twice")
        REGISTRY[name] = Benchmark(name, func, list(needs), (func.__doc__ or "").strip().split("\n")[0])
        return func

    return register
