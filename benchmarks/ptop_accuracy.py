"""Accuracy of the second-order expansion used for P(top level) on censuses that do not
collapse (``clrisk.phase1.classify.draw_mean_probabilities``), against the exact
recomputation of every draw on every child (float64).

For every sample country (``data_samples/``, model fitted as ``clrisk run`` does) and for the
1-million-child benchmark census (if cached in ``bench_data/``), prints the maximum absolute
difference of the territory mean probabilities over all draws, and of P(top level) for the
country's classification method (and for quantiles, Fisher-Jenks and mean +/- sd on the
benchmark census). Usage: ``python benchmarks/ptop_accuracy.py [--draws 200]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def compare(model, census, scores, weight, method, k, cutoffs, draws, seed=1) -> dict:
    from clrisk.phase1 import classify as cl
    from clrisk.phase1.rowpass import row_sums
    from clrisk.phase1.scoring import model_arrays

    covs, beta, V = model_arrays(model)
    B = cl.draw_coefficients(beta, V, draws, seed)
    exact = cl._draw_rows(covs, B, census, weight, 20_000_000)
    sums = row_sums(beta, covs, census, weight=weight, hessian=True, cov=V)
    approx = cl.draw_expansion(sums, beta, B)[exact.columns]
    out = {"max_abs_pbar": float(np.abs(exact.to_numpy() - approx.to_numpy()).max()),
           "error_bound": float(sums.expansion_error().max())}
    for meth in ([method] if method else ["quantiles", "fisher_jenks", "mean_sd"]):
        tops = []
        for P in (exact.to_numpy(), approx.to_numpy()):
            fj = cl.FJ_DRAW_POINTS if meth == "fisher_jenks" else cl.FJ_MAX_POINTS
            top = np.zeros(P.shape[1])
            for b in range(P.shape[0]):
                top += P[b] > cl.class_bounds(P[b], meth, k, cutoffs, fj_points=fj)[-1]
            tops.append(top / P.shape[0])
        out[f"max_abs_p_top_{meth}"] = float(np.abs(tops[0] - tops[1]).max())
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--draws", type=int, default=200)
    args = p.parse_args(argv)
    warnings.simplefilter("ignore")
    from clrisk.data import load_country
    from clrisk.phase1.model import RiskModel, fit_risk_model
    from clrisk.pipeline import census_source, census_weight
    from clrisk.schema import PSU, STRATUM, WEIGHT

    rows = []
    for folder in sorted((ROOT / "data_samples").iterdir()):
        if not (folder / "profile.yaml").exists():
            continue
        data = load_country(folder.name)
        census = census_source(data)
        if not data.profile.has_risk_model or data.survey is None or census is None:
            continue
        covs = list(data.profile.covariates)
        model = fit_risk_model(data.survey, covs, outcome="child_labour", weight=WEIGHT,
                               strata=STRATUM, psu=PSU)
        levels = dict(data.profile.risk_levels or {})
        res = compare(model, census, None, census_weight(census),
                      levels.get("method", "quantiles"), int(levels.get("k", 3)),
                      levels.get("cutoffs"), args.draws)
        rows.append({"census": folder.name, **res})
        print(json.dumps(rows[-1]), file=sys.stderr)
    bench = ROOT / "bench_data" / "census_1000000.parquet"
    if bench.exists():
        model = RiskModel.from_json((ROOT / "bench_data" / "model.json").read_text("utf-8"))
        rows.append({"census": "benchmark 1M", **compare(model, bench, None, None, None, 3,
                                                         None, args.draws)})
    print(pd.DataFrame(rows).to_markdown(index=False) if _has_tabulate() else
          pd.DataFrame(rows).to_string(index=False))
    return 0


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    raise SystemExit(main())
