"""Run MedSeg's benchmarks: ``python benchmarks/run.py [--json] [--repeat N] [--list] [NAME...]``.

Each benchmark reports the median of N runs of our code and, where it has one, of a peer library's
code run in the same process, interleaved round by round so that drift (page cache, CPU clock,
other load) hits both; ratio = ours / peer. A benchmark whose data is absent is skipped (exit code 0);
one that fails (e.g. its two readers disagree) is reported and makes the exit code 1.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import statistics
import sys
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make "benchmarks" and "medseg_app" importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.registry import DATA, REGISTRY, Benchmark, Case, Skip  # noqa: E402


def _significant(value: float, digits: int = 4) -> float:
    """Four significant digits: a 1 ms redraw and a 5 s inference both stay readable in seconds."""
    return float(f"{value:.{digits}g}")


def load_modules() -> None:
    for path in sorted(Path(__file__).resolve().parent.glob("bench_*.py")):
        importlib.import_module(f"benchmarks.{path.stem}")


def _once(fn, timed: bool) -> float:
    gc.collect()
    if not timed:
        return float(fn())
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    del result  # freeing the result is not part of the measurement
    return elapsed


def measure(case: Case, repeat: int) -> tuple[list[float], list[float]]:
    """A warm-up (and verification) run of each side, then ``repeat`` interleaved rounds."""
    first_ours = case.ours()
    first_peer = case.peer() if case.peer is not None else None
    if case.verify is not None:
        case.verify(first_ours, first_peer)
    del first_ours, first_peer
    ours, peer = [], []
    for n in range(repeat):
        sides = [(case.ours, ours)] + ([(case.peer, peer)] if case.peer is not None else [])
        if n % 2:
            sides.reverse()  # alternate who goes first, too
        for fn, values in sides:
            values.append(_once(fn, case.timed))
    return ours, peer


def run_one(bench: Benchmark, repeat: int) -> dict:
    missing = bench.missing(DATA)
    if missing:
        return {"name": bench.name, "skipped": f"data not found: {DATA / missing[0]}"}
    gen = bench.func(DATA)
    try:
        case = next(gen)
        ours, peer = measure(case, repeat)
    except Skip as exc:
        return {"name": bench.name, "skipped": str(exc)}
    finally:
        gen.close()  # the benchmark's teardown (its finally blocks) runs here
    out = {"name": bench.name, "value": _significant(statistics.median(ours)), "unit": case.unit,
           "spread": (min(ours), max(ours))}
    if peer:
        out.update(peer=case.peer_name or "peer", peer_value=_significant(statistics.median(peer)),
                   ratio=round(statistics.median(ours) / statistics.median(peer), 3),
                   peer_spread=(min(peer), max(peer)))
    return out


def _row(r: dict) -> str:
    if "skipped" in r:
        return f"{r['name']:<24} skipped: {r['skipped']}"
    if "error" in r:
        return f"{r['name']:<24} FAILED: {r['error']}"
    value = f"{r['value']:.4g} {r['unit']}"
    spread = "{:.3g}–{:.3g}".format(*r["spread"])
    line = f"{r['name']:<24} {value:>12}  [{spread:>13}]"
    if "peer" in r:
        peer = f"{r['peer_value']:.4g} {r['unit']}"
        peer_spread = "{:.3g}–{:.3g}".format(*r["peer_spread"])
        line += f"  {r['peer']:<12} {peer:>12}  [{peer_spread:>13}]  ratio {r['ratio']:.3f}"
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per side (median reported; default 5)")
    parser.add_argument("--list", action="store_true", help="list the registered benchmarks and exit")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    load_modules()
    if args.list:
        for bench in REGISTRY.values():
            print(f"{bench.name:<24} {bench.doc}")
        return 0
    unknown = [n for n in args.names if n not in REGISTRY]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    status = 0
    for name in args.names or list(REGISTRY):
        try:
            result = run_one(REGISTRY[name], args.repeat)
        except Exception as exc:  # noqa: BLE001 - report, go on with the others, fail at the end
            traceback.print_exc(file=sys.stderr)
            result, status = {"name": name, "error": f"{type(exc).__name__}: {exc}"}, 1
        if args.json:
            print(json.dumps({k: v for k, v in result.items() if not k.endswith("spread")}), flush=True)
        else:
            print(_row(result), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
