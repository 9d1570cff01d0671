"""What every ``medseg`` command shares: the argument parser (numbers that may be negative taken as values), the
options of the model-running commands, the exit status of a bad command line.
"""

from __future__ import annotations

import argparse
import re

EXIT_BAD_INPUT = 2

# A value made of numbers, possibly negative, separated by commas: "-120.5,34,-800,-60,90,-740", "-1e3", "-.5".
# argparse takes any word starting with "-" (other than one plain negative number) for an option, so
# "--box -120.5,34,..." would fail with "expected one argument" and a user had to write "--box=-120.5,...".
_NUMBERS = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?(,\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)*$")


class MedSegParser(argparse.ArgumentParser):
    """An ArgumentParser whose options take a value that starts with "-" when that value is numbers (a box, a
    coordinate, an offset): ``--box -120.5,34,-800,-60,90,-740`` is read as ``--box=-120.5,34,...``."""

    def parse_known_args(self, args=None, namespace=None):
        import sys

        words = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(self._join_numeric_values(words), namespace)

    def _join_numeric_values(self, words: list[str]) -> list[str]:
        joined: list[str] = []
        i = 0
        while i < len(words):
            word = words[i]
            action = self._option_string_actions.get(word)
            if word == "--":
                joined.extend(words[i:])
                break
            if (action is not None and action.nargs is None and action.option_strings and _takes_value(action)
                    and i + 1 < len(words) and _NUMBERS.match(words[i + 1])):
                joined.append(f"{word}={words[i + 1]}")
                i += 2
                continue
            joined.append(word)
            i += 1
        return joined


def _takes_value(action: argparse.Action) -> bool:
    return not isinstance(action, (argparse._StoreConstAction, argparse._CountAction, argparse._HelpAction,
                                   argparse._VersionAction, argparse.BooleanOptionalAction))


def trusted_bundle(args: argparse.Namespace):
    """The model ``--model`` names; one whose configs run Python code needs ``--trust`` (given once, it is kept)."""
    from ..ai.bundle import find_bundle
    from ..ai.trust import is_trusted, trust
    from ..core.errors import CommandError

    bundle = find_bundle(args.model)
    if bundle.needs_trust and not is_trusted(bundle):
        if not args.trust:
            raise CommandError(f"model {bundle.name} runs Python code from its configs; rerun with --trust if you "
                               "trust where it came from.")
        trust(bundle)
    return bundle


def add_model_run_options(p: argparse.ArgumentParser) -> None:
    """--model, --device and --trust, shared by ``medseg segment`` and ``medseg batch``."""
    p.add_argument("--model", required=True, help="model name (see 'medseg models') or a bundle folder")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--trust", action="store_true", help="allow a bundle whose configs hold Python expressions")
