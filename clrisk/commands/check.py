"""``clrisk check``: validate a country's profile and data without fitting anything.

Why a separate command: a country team adapting the model to its own files needs a fast loop —
edit the profile, run check, read what is wrong and how to fix it — before any estimation.
All problems are listed at once (not only the first), then the exit code says pass (0) / fail (2).
After the loader's checks it runs :func:`clrisk.data.semantic_checks.run_checks` — the very
validation ``clrisk run`` runs before computing (value domains, design, cut-offs, unfinished
starter profile, model pre-flight) — so "Everything is fine" means ``run`` will accept the data.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from clrisk.i18n import _, get_language

OK, FAIL, NOTE = "✓", "✗", "i"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("check", help=_("validate a profile and its data files"))
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--profile", help=_("path of a profile.yaml (or of its folder)"))
    src.add_argument("--country", help=_("a sample country under data_samples/, e.g. peru"))
    p.add_argument("--max-census-rows", type=int, default=2_000_000,
                   help=_("larger Parquet censuses are checked in batches, not loaded"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from clrisk.data.country import inspect_country

    out = out or sys.stdout
    target = args.profile or args.country
    data, report = inspect_country(target, max_census_rows=args.max_census_rows)
    if data is not None:
        from clrisk.data.semantic_checks import run_checks

        semantic = run_checks(data)
        for err in semantic:
            report.fail(err)
        if not semantic:
            from clrisk.data.semantic_checks import harmonisation_notes

            for note in harmonisation_notes(data):
                report.note(note)
            if data.profile.has_risk_model:
                report.ok(_("meaning: codes agree between survey and census, plausible "
                            "values, a design that gives a variance, an estimable model"))
            else:
                report.ok(_("meaning: settings the code accepts (levels, IVTI weights)"))
    title = data.profile.name(get_language()) if data is not None else str(target)
    print(_("Checking {what}").format(what=title), file=out)
    for msg in report.passed:
        print(f"  {OK} {msg}", file=out)
    for err in report.errors:
        print(f"  {FAIL} {err}", file=out)
    for note in report.notes:
        print(f"  {NOTE} {note}", file=out)
    if report.errors:
        print(_("{n} problem(s) found: fix them and run 'clrisk check' again.").format(
            n=len(report.errors)), file=out)
        return 2
    print(_("Everything is fine: the data are ready for 'clrisk run'."), file=out)
    return 0
