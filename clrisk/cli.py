"""Command line: ``clrisk run | check | init-profile | verify | phase2``.

Why a thin dispatcher: each sub-command lives in ``clrisk/commands/<name>.py`` with a
``register(subparsers)`` function, so commands are developed and tested independently (a
command module that is not installed yet is simply skipped).

Why argparse's own texts go through :mod:`clrisk.i18n`: a team working in Spanish or French
must not meet "usage:", "error:" or "the following arguments are required" in English.
Global options (``--lang``) are accepted before or after the sub-command.

Exit codes (also in ``clrisk --help`` and the README): 0 success; 1 ``verify`` found a file
that differs; 2 bad input (data, profile or options; nothing written); 3 the output folder
cannot be written (file system / OS; nothing changed); 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from collections.abc import Iterator

from clrisk.errors import (
    EXIT_BAD_INPUT,
    EXIT_OUTPUT,
    DataError,
    ModelError,
    OutputError,
)
from clrisk.i18n import LANGUAGES, _, set_language

COMMANDS = ("run", "check", "init_profile", "verify", "phase2")
EXIT_INTERRUPTED = 130


def _ngettext(singular: str, plural: str, n: int) -> str:
    return _(singular) if n == 1 else _(plural)


@contextlib.contextmanager
def translated_argparse() -> Iterator[None]:
    """While parsing, argparse's messages ("usage:", "error:", ...) come from our catalogs."""
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._ = _  # type: ignore[attr-defined]
    argparse.ngettext = _ngettext  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


def _version() -> str:
    import clrisk
    from clrisk.results.manifest import git_commit

    commit = git_commit()
    return f"clrisk {clrisk.__version__}" + (f" ({commit[:12]})" if commit else "")


def epilog() -> str:
    """The exit codes, shown at the end of ``clrisk --help``."""
    return _("Exit codes: 0 success; 1 'verify' found a different file; 2 bad input (data, "
             "profile or options; nothing written); 3 the output folder cannot be written "
             "(nothing changed); 130 interrupted.")


def build_parser() -> argparse.ArgumentParser:
    with translated_argparse():
        parser = argparse.ArgumentParser(
            prog="clrisk", description=_("Child Labour Risk Identification Model (CLRISK)"),
            epilog=epilog())
        parser.add_argument("--lang", default="en", choices=list(LANGUAGES),
                            help=_("language of messages, tables and figures (before or after "
                                   "the command)"))
        parser.add_argument("--version", action="version", version=_version(),
                            help=_("show the clrisk version and exit"))
        sub = parser.add_subparsers(dest="command", required=True,
                                    title=_("commands"), metavar="COMMAND")
        for name in COMMANDS:
            try:
                module = importlib.import_module(f"clrisk.commands.{name}")
            except ModuleNotFoundError as exc:  # a command not installed must not break the rest
                if exc.name != f"clrisk.commands.{name}":
                    raise
                continue
            module.register(sub)
    return parser


def hoist_global_options(argv: list[str]) -> list[str]:
    """Move ``--lang X`` / ``--lang=X`` found anywhere to the front (argparse only accepts
    top-level options before the sub-command)."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest += argv[i:]
            break
        if arg == "--lang" and i + 1 < len(argv):
            front += [arg, argv[i + 1]]
            i += 2
            continue
        if arg.startswith("--lang="):
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


def _early_language(argv: list[str]) -> None:
    """Select the language before the parser's help texts are built."""
    for i, arg in enumerate(argv):
        value = argv[i + 1] if arg == "--lang" and i + 1 < len(argv) else (
            arg.split("=", 1)[1] if arg.startswith("--lang=") else None)
        if value in LANGUAGES:
            set_language(value)


def main(argv: list[str] | None = None) -> int:
    argv = hoist_global_options(list(sys.argv[1:] if argv is None else argv))
    _early_language(argv)
    parser = build_parser()
    with translated_argparse():
        args = parser.parse_args(argv)
    set_language(args.lang)
    with _terminate_as_interrupt(), _warnings_as_lines():
        return _dispatch(args)


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Data warnings print as one translated line ("Warning: ..."), not as Python's
    file:line: Category: text."""
    import warnings

    from clrisk.errors import DataWarning

    def show(message: Warning | str, category: type[Warning], *args: object,
             **kwargs: object) -> None:
        if issubclass(category, DataWarning):
            print(f"{_('Warning')}: {message}", file=sys.stderr)
        else:
            saved(message, category, *args, **kwargs)  # type: ignore[arg-type]

    saved = warnings.showwarning
    warnings.showwarning = show  # type: ignore[assignment]
    try:
        yield
    finally:
        warnings.showwarning = saved


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler or ``kill``) unwinds like Ctrl-C, so the staging folder of a run
    is removed and the previous result stays (SIGKILL cannot be caught: the next run cleans)."""
    import signal

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (embedded use): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _dispatch(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args) or 0)
    except (DataError, ModelError) as exc:
        print(f"{_('Error')}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OutputError as exc:
        print(f"{_('Error')}: {exc}", file=sys.stderr)
        return EXIT_OUTPUT
    except OSError as exc:  # a file-system failure outside the guarded writers
        print(f"{_('Error')}: " + _("{path}: {reason}. Fix: check that it exists and that you "
                                    "may read (inputs) or write (--out) it").format(
                                        path=exc.filename or "?", reason=exc.strerror or exc),
              file=sys.stderr)
        return EXIT_OUTPUT
    except KeyboardInterrupt:
        print(_("Interrupted: nothing was changed in the output folder."), file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
