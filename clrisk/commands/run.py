"""``clrisk run``: the whole Phase I pipeline for one country, written to a folder.

Why a thin command: the computation lives in :mod:`clrisk.pipeline` (shared with the chapters);
this module only parses options, shows progress on stderr and lists what it wrote. The folder
safety (inputs read-only, whole-folder swap, lock, manifest) is :mod:`clrisk.results`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clrisk.i18n import _, get_language


def int_at_least(minimum: int):
    """An argparse type: an integer >= ``minimum`` (a translated message otherwise)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(_("'{v}' is not a whole number").format(v=text)) \
                from None
        if value < minimum:
            raise argparse.ArgumentTypeError(_("{v} is less than {m}").format(v=value,
                                                                             m=minimum))
        return value

    parse.__name__ = "int"
    return parse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run", help=_("fit the risk model, score and classify territories, write tables and "
                      "maps"),
        description=_("Run Phase I for a country: model, territory probabilities, risk levels, "
                      "factor weights and the vulnerability index; write CSV, GeoPackage, "
                      "JSON and maps (PNG, SVG), and manifest.json. The output folder is "
                      "replaced as a whole at the end: it holds the previous complete result "
                      "or the new one, never a mix."),
        epilog=_("Exit codes: 0 success; 2 bad input (data, profile or options; nothing "
                 "written); 3 the output folder cannot be written (nothing changed)."))
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--country", help=_("sample country key (e.g. peru)"))
    src.add_argument("--data-dir", type=Path, help=_("folder holding profile.yaml and the data"))
    src.add_argument("--profile", type=Path, help=_("path to a profile.yaml"))
    p.add_argument("--out", type=Path, required=True,
                   help=_("output folder (new, empty, or an earlier clrisk results folder; "
                          "never inside the data folder)"))
    p.add_argument("--draws", type=int_at_least(1), default=200,
                   help=_("coefficient draws for P(top level) (default 200)"))
    p.add_argument("--seed", type=int_at_least(0), default=12345,
                   help=_("random seed (default 12345)"))
    p.add_argument("--no-maps", action="store_true", help=_("skip the PNG/SVG maps"))
    p.add_argument("--quiet", action="store_true", help=_("no progress display"))
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from clrisk.pipeline import run

    target = args.country or args.data_dir or args.profile
    result = run(target, args.out, lang=get_language(), draws=args.draws, seed=args.seed,
                 progress=not args.quiet, maps=not args.no_maps)
    if not args.quiet:
        print(_("Wrote {n} files to {folder}:").format(n=len(result.files), folder=args.out),
              file=sys.stderr)
        for f in result.files:
            print(f"  {f.name}", file=sys.stderr)
    return 0
