"""The ``medseg`` command, one module per command family, each loaded only when its command runs (so that
``medseg info`` starts without Qt, torch or Dask):

| module | commands |
|---|---|
| ``viewer`` | ``medseg [PATH] [--series UID] [--screenshot OUT.png]`` |
| ``info`` | ``medseg info PATH ...``, ``medseg stats IMAGE --seg SEGMENTATION ...`` |
| ``convert`` | ``medseg convert --image IMAGE --seg INPUT --out OUTPUT ...`` |
| ``models`` | ``medseg models``, ``medseg segment``, ``medseg train`` |
| ``batch`` | ``medseg batch``, ``medseg batch-stats`` |
| ``register`` | ``medseg register FIXED MOVING --out REG.dcm|transform.tfm ...`` |
| ``common`` | the argument parser they share (negative numbers as values), shared options |

Bad input ends in one sentence on stderr and exit status 2, never a traceback. Nothing imports this package.
"""

from __future__ import annotations

import sys
from importlib import import_module

from ..app_logging import configure_logging, get_logger, install_crash_handler, log_started
from ..core.errors import MedSegError
from .common import EXIT_BAD_INPUT

COMMAND_MODULES = {"info": "info", "stats": "info", "convert": "convert", "models": "models", "segment": "models",
                   "train": "models", "batch": "batch", "batch-stats": "batch", "register": "register"}


def _command(name: str):
    """(parser factory, run) of a command, its module (and its torch / MONAI / Dask imports) loaded now."""
    return import_module(f".{COMMAND_MODULES[name]}", __package__).COMMANDS[name]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMAND_MODULES:
        command = argv[0]
        make_parser, run = _command(command)
        args = make_parser().parse_args(argv[1:])
    else:
        from .viewer import cmd_open, open_parser

        command = "viewer"
        args, run = open_parser().parse_args(argv), cmd_open
    configure_logging()  # medseg.log in the state folder, patient identifiers redacted (see app_logging)
    install_crash_handler()
    log_started(f"medseg {command}")  # never the arguments: a path may name the patient
    try:
        return run(args)
    except MedSegError as exc:
        get_logger().warning("medseg %s failed: %s", command, exc)
        print(f"medseg: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


__all__ = ["EXIT_BAD_INPUT", "main"]

if __name__ == "__main__":
    sys.exit(main())
