"""``python -m clrisk.synth --all | --country KEY [--out DIR] [--seed N]``.

Why a module entry point: ``make samples`` and the reproducibility test regenerate the sample
folders with exactly this command, and the result must be byte-identical.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from clrisk.i18n import _
from clrisk.synth.build import DEFAULT_SEED, simulate_country, write_country
from clrisk.synth.countries import COUNTRY_KEYS

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "data_samples"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m clrisk.synth",
        description=_("Regenerate the synthetic country samples (data_samples/)."))
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help=_("generate every country"))
    which.add_argument("--country", action="append", choices=COUNTRY_KEYS,
                       help=_("generate this country (repeatable)"))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=_("output folder (one sub-folder per country)"))
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=_("random seed"))
    parser.add_argument("--quiet", action="store_true", help=_("print nothing"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    keys = list(COUNTRY_KEYS) if args.all else sorted(set(args.country))
    for key in keys:
        start = time.perf_counter()
        sc = simulate_country(key, seed=args.seed)
        folder = write_country(sc, args.out)
        if not args.quiet:
            survey_n = 0 if sc.survey is None else len(sc.survey)
            print(f"{key:<11} {folder}  {_('territories')}={len(sc.territories)} "
                  f"{_('survey children')}={survey_n} "
                  f"{_('census children')}={len(sc.population)} "
                  f"({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
