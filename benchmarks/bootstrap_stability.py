"""How many bootstrap replicates the MSE needs (issue 12: "B from the profile; default chosen
by measured stability").

For a sample country, the parametric bootstrap RMSE of every territory is computed twice with
independent seeds for each B. The Monte Carlo relative error of one run is estimated from the
two: sd(log RMSE_seed1 − log RMSE_seed2) / √2. A default B should make it small next to the
RMSE itself (a 95% interval moves by about the same relative amount).

Usage: python benchmarks/bootstrap_stability.py [--country chile] [--B 50 100 200 400]
Writes benchmarks/results/bootstrap_stability.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    from clrisk.data import load_country
    from clrisk.phase1.census_source import resolve_census
    from clrisk.phase1.sae import fit_mixed_logit
    from clrisk.phase1.sae_mse import bootstrap_mse
    from clrisk.pipeline import census_source, census_weight

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--country", default="chile")
    ap.add_argument("--B", type=int, nargs="+", default=[50, 100, 200, 400])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" /
                                          "bootstrap_stability.json"))
    args = ap.parse_args(argv)
    data = load_country(args.country)
    covs = list(data.profile.covariates)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_mixed_logit(data.survey, covs)
        census = census_source(data)
        src = resolve_census(census, covs, weight=census_weight(census))
        rows = []
        for B in args.B:
            t0 = time.perf_counter()
            a = np.sqrt(bootstrap_mse(fit, src, B=B, seed=1))
            b = np.sqrt(bootstrap_mse(fit, src, B=B, seed=2))
            secs = (time.perf_counter() - t0) / 2
            mc = float(np.std(np.log(a) - np.log(b)) / np.sqrt(2.0))
            rows.append({"B": B, "mc_relative_error": mc,
                         "max_relative_difference": float(np.max(np.abs(a / b - 1.0))),
                         "seconds_per_run": secs})
            print(f"B={B}: Monte Carlo relative error {mc:.3f}, max |a/b - 1| "
                  f"{rows[-1]['max_relative_difference']:.3f}, {secs:.0f} s per run",
                  file=sys.stderr, flush=True)
    out = Path(args.out)
    out.write_text(json.dumps({"country": args.country, "territories": len(src.territory_ids),
                               "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
