"""``clrisk phase2``: the Phase II steps on a ``clrisk run`` results folder and the team's
worksheets, written as xlsx and markdown (logic in :mod:`clrisk.phase2.batch`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clrisk.i18n import _


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "phase2", help=_("run the Phase II steps on a results folder and the team's worksheets"),
        description=_("Run Phase II (selection, liaison, characterisation, services, "
                      "intervention plan) on the results of 'clrisk run' and the team's "
                      "worksheets; write one xlsx workbook and one markdown file per step, in "
                      "the language chosen with --lang."),
        epilog=_("Exit codes: 0 success; 2 bad input (results, worksheets or options)."))
    p.add_argument("results", type=Path, help=_("folder written by 'clrisk run'"))
    p.add_argument("--out", type=Path, required=True, help=_("output folder for the files"))
    p.add_argument("--data-dir", type=Path, default=None,
                   help=_("the country's data folder (default: the one named in the results' "
                          "manifest.json)"))
    p.add_argument("--worksheets", type=Path, default=None,
                   help=_("folder of the team's worksheets (default: <data folder>/phase2)"))
    p.add_argument("--territory", default=None,
                   help=_("territory_id to plan for (default: the first-ranked in step 1)"))
    p.add_argument("--format", nargs="+", choices=["xlsx", "md"], default=["xlsx", "md"],
                   dest="formats", help=_("file formats to write (default: xlsx md)"))
    p.add_argument("--quiet", action="store_true", help=_("no list of files written"))
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from clrisk.phase2.batch import load_results, run_phase2

    country = load_results(args.results, args.data_dir)
    files = run_phase2(country, args.out, territory=args.territory,
                       worksheets=args.worksheets, formats=tuple(args.formats))
    if not args.quiet:
        print(_("Wrote {n} files to {folder}:").format(n=len(files), folder=args.out),
              file=sys.stderr)
        for f in files:
            print(f"  {f.name}", file=sys.stderr)
    return 0
