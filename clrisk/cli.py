"""Command line: ``clrisk run | check | init-profile``.

Why a thin dispatcher: each sub-command lives in ``clrisk/commands/<name>.py`` with a
``register(subparsers)`` function, so commands are developed and tested independently.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from clrisk.errors import DataError, ModelError
from clrisk.i18n import _, set_language

COMMANDS = ("run", "check", "init_profile")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clrisk", description=_("Child Labour Risk Identification Model (CLRISK)")
    )
    parser.add_argument("--lang", default="en", choices=["en", "es", "fr"],
                        help=_("language of messages, tables and figures"))
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"clrisk.commands.{name}")
        except ModuleNotFoundError as exc:  # a command not yet installed must not break the rest
            if exc.name != f"clrisk.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Language must be known before the parser's help texts are translated.
    if "--lang" in argv[:-1]:
        set_language(argv[argv.index("--lang") + 1])
    parser = build_parser()
    args = parser.parse_args(argv)
    set_language(args.lang)
    try:
        return int(args.func(args) or 0)
    except (DataError, ModelError) as exc:
        print(f"{_('Error')}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
