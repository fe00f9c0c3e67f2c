"""``clrisk verify DIR``: re-run a results folder from its manifest, file by file.

Why a command: the reproducibility chapter asks readers of a published map to check it; one
command that names every input and output as identical or different is that check.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from clrisk.i18n import _


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "verify", help=_("re-run a results folder from its manifest and compare every file"),
        description=_("Check a folder written by 'clrisk run': re-hash the inputs its "
                      "manifest.json names, re-hash its files, re-run with the recorded "
                      "settings into a temporary folder and compare every output."),
        epilog=_("Exit codes: 0 every file identical; 1 a file differs (named above); 2 not a "
                 "results folder."))
    p.add_argument("folder", type=Path, help=_("results folder written by 'clrisk run'"))
    p.add_argument("--data-dir", type=Path,
                   help=_("where the input files are now (if they were moved since the run)"))
    p.add_argument("--no-rerun", action="store_true",
                   help=_("only re-hash inputs and files, do not re-run"))
    p.set_defaults(func=main)


def status_word(status: str) -> str:
    """Translated status of a file."""
    return {"identical": _("identical"), "different": _("different"), "missing": _("missing"),
            "extra": _("extra")}.get(status, status)


def main(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from clrisk.results.verify import verify_folder

    out = out or sys.stdout
    table, notes = verify_folder(args.folder, rerun=not args.no_rerun,
                                 data_dir=args.data_dir)
    roles = {"input": _("input"), "folder": _("in the folder"), "rerun": _("re-run")}
    print(_("Verifying {folder}").format(folder=args.folder), file=out)
    for row in table.itertuples(index=False):
        mark = "✓" if row.status == "identical" else "✗"
        print(f"  {mark} {roles[row.role]:<14} {row.file}: {status_word(row.status)}", file=out)
    for note in notes:
        print(f"  i {note}", file=out)
    bad = table[table["status"] != "identical"]
    if len(bad):
        names = ", ".join(dict.fromkeys(bad["file"].tolist()))
        print(_("{n} file(s) differ from the manifest: {files}").format(n=len(bad),
                                                                        files=names), file=out)
        return 1
    print(_("Every file is identical to the manifest: the results are reproduced."), file=out)
    return 0
