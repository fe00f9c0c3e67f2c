"""Replicate study of the territory estimators (issue 12): fresh synthetic populations.

For each replicate a new population, census and survey are drawn with ``clrisk.synth``
(seed 10_000 + r; the committed samples use 2017) and both estimators are computed exactly as
``clrisk run`` does (``territory_estimates``). Against the true territory rates
(``truth.territory_probability``) we record, per replicate: coverage of the 95% intervals,
Spearman(estimate, truth), the share truly in the top third among territories with
P(top) >= 0.9, and the RMSE reported by the estimator against the empirical RMSE. The
official synthetic projection's figures use its coefficients-only band, unretouched.

``make validate`` runs it in full (50 replicates x 2 countries) and writes
``benchmarks/results/sae_replicates.json`` (per-replicate rows and the summary table) for the
validation chapter; ``tests/test_sae.py`` runs a reduced size.

Usage: python benchmarks/sae_replicates.py [--replicates 50] [--countries chile guatemala]
       [--out benchmarks/results/sae_replicates.json] [--mse analytic]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def one_replicate(country: str, seed: int, mse: str = "analytic", draws: int = 200
                  ) -> list[dict]:
    """Both estimators' figures on one fresh synthetic population."""
    from clrisk.phase1.census_source import resolve_census
    from clrisk.phase1.model import fit_risk_model
    from clrisk.phase1.sae_run import territory_estimates
    from clrisk.phase1.scoring import score_territories
    from clrisk.synth.build import simulate_country

    sc = simulate_country(country, seed=seed)
    covs = [c for c in sc.census.columns if c != "territory_id"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = fit_risk_model(sc.survey, covs, outcome="child_labour", weight="weight",
                               strata="stratum", psu="psu")
        src = resolve_census(sc.census, covs)
        scores = score_territories(model, src)
        est = territory_estimates(scores, model, src, sc.survey, options={"mse": mse},
                                  draws=draws, seed=seed)
    t = est.table
    tp = t["territory_id"].map(sc.truth["territory_probability"]).to_numpy()
    top = tp > np.quantile(tp, 2 / 3)
    rows = []
    for name, mean, lo, hi, ptop, rmse in (
            ("sae", "mean_probability", "ci_low", "ci_high", "p_top", "rmse"),
            ("synthetic", "synthetic_mean_probability", "synthetic_low_coef_only",
             "synthetic_high_coef_only", "synthetic_p_top", "synthetic_se_coef_only")):
        e = t[mean].to_numpy()
        sel = t[ptop].to_numpy() >= 0.9
        rows.append({
            "country": country, "seed": seed, "estimator": name,
            "sigma_hat": est.sae.fit.sigma if est.sae is not None else float("nan"),
            "coverage": float(np.mean((tp >= t[lo]) & (tp <= t[hi]))),
            "spearman": float(spearmanr(e, tp)[0]),
            "top_share_among_ptop90": float(top[sel].mean()) if sel.any() else float("nan"),
            "n_ptop90": int(sel.sum()),
            "reported_rmse": float(np.sqrt(np.mean(t[rmse].to_numpy() ** 2))),
            "empirical_rmse": float(np.sqrt(np.mean((e - tp) ** 2))),
        })
    return rows


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """Mean over replicates per country and estimator (the validation chapter's table)."""
    g = df.groupby(["country", "estimator"], sort=True)
    out = g.agg(replicates=("seed", "nunique"), coverage=("coverage", "mean"),
                spearman=("spearman", "mean"),
                top_share_among_ptop90=("top_share_among_ptop90", "mean"),
                reported_rmse=("reported_rmse", "mean"),
                empirical_rmse=("empirical_rmse", "mean")).reset_index()
    out["rmse_ratio"] = out["reported_rmse"] / out["empirical_rmse"]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=50)
    ap.add_argument("--countries", nargs="+", default=["chile", "guatemala"])
    ap.add_argument("--mse", default="analytic", choices=["analytic", "bootstrap"])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" /
                                          "sae_replicates.json"))
    args = ap.parse_args(argv)
    rows = []
    t0 = time.time()
    for c in args.countries:
        for r in range(args.replicates):
            rows += one_replicate(c, 10_000 + r, args.mse)
            print(f"{c} replicate {r + 1}/{args.replicates} ({time.time() - t0:.0f} s)",
                  file=sys.stderr, flush=True)
    df = pd.DataFrame(rows)
    summary = summarise(df)
    print(summary.round(4).to_string(index=False))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"mse": args.mse, "replicates": args.replicates,
                               "summary": summary.to_dict(orient="records"),
                               "rows": df.to_dict(orient="records")}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
