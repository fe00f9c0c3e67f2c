"""Regional atlas: the nine sample countries' risk maps on one page and a comparison table.

Why a light path and a cache: the atlas page is executed like every chapter (for each country
and language of a build), and it needs all nine countries' results. It computes what the
comparison needs — the design-based model, census projection, risk levels, the national factor
ranking and a draw-based interval for the mean territory risk; not the small-area estimator nor
P(top) — once per set of input files, and caches the summary (JSON) in the user's clrisk cache,
keyed by a digest of the input files, so the other executions of the page only read it.

Shared legend convention: every country is classified with its own profile's method and number
of levels; on the atlas the colours mean the *rank* of a level within its country (lightest =
lowest level, darkest = top level), so "the darkest territories" means the same thing in every
panel. IVTI-only countries (Costa Rica, Jamaica) are classified by their vulnerability index
and drawn with hatching.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clrisk.i18n import _

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"
CACHE_VERSION = 1
INPUT_FILES = ("profile.yaml", "survey.csv", "census.parquet", "admin_records.csv",
               "territories.geojson")
DRAWS = 100
SEED = 12345


def _digest(folders: list[Path]) -> str:
    h = hashlib.sha256(f"atlas-v{CACHE_VERSION}-{DRAWS}-{SEED}".encode())
    for folder in folders:
        for name in INPUT_FILES:
            path = folder / name
            if path.exists():
                h.update(f"{folder.name}/{name}".encode())
                h.update(path.read_bytes())
    return h.hexdigest()[:20]


def _risk_summary(data: Any) -> dict[str, Any]:
    """Model route: levels per territory, mean territory risk with a draw-based interval,
    share of children in top-level territories, top modifiable factor."""
    from scipy.special import expit

    from clrisk.phase1.classify import classify_risk
    from clrisk.phase1.factors import default_factors, national_factor_ranking, score_and_factors
    from clrisk.phase1.model import fit_risk_model
    from clrisk.phase1.patterns import collapse_census
    from clrisk.phase1.scoring import score_territories
    from clrisk.pipeline import census_source, census_weight
    from clrisk.schema import OUTCOME, PSU, STRATUM, WEIGHT

    prof = data.profile
    covs = list(prof.covariates)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = fit_risk_model(data.survey, covs, outcome=OUTCOME, weight=WEIGHT,
                               strata=STRATUM, psu=PSU)
    census = census_source(data)
    weight = census_weight(census)
    table = collapse_census(census, covs, weight=weight)
    refs, sectors = default_factors(covs, prof)
    if refs:
        scores, fw = score_and_factors(model, table, refs, sectors=sectors, weight=weight)
        ranking = national_factor_ranking(fw).sort_values("rank")
        top_factor = str(ranking.iloc[0]["factor"]) if len(ranking) else None
    else:
        scores, top_factor = score_territories(model, table, weight=weight), None
    levels_cfg = dict(prof.risk_levels or {})
    method, k = levels_cfg.get("method", "quantiles"), int(levels_cfg.get("k", 3))
    levels = classify_risk(scores, method, k, cutoffs=levels_cfg.get("cutoffs"))
    # Mean territory risk under coefficient draws (the interval of the national figure).
    beta = model.params.to_numpy(float)
    cov = model.cov.loc[model.params.index, model.params.index].to_numpy(float)
    rng = np.random.default_rng(SEED)
    B = rng.multivariate_normal(beta, cov, size=DRAWS)
    X = table.design(model.covariates)
    children = table.children
    means = np.array([float(np.mean((table.counts @ expit(X @ b)) / children)) for b in B])
    top = levels["risk_level"].to_numpy() == levels["risk_level"].max()
    kids = levels["children"].to_numpy(float)
    return {
        "route": "model", "k": k,
        "levels": dict(zip(levels["territory_id"].astype(str), levels["risk_level"].astype(int),
                           strict=True)),
        "children": float(kids.sum()),
        "mean_risk": float(scores["mean_probability"].mean()),
        "mean_risk_low": float(np.quantile(means, 0.025)),
        "mean_risk_high": float(np.quantile(means, 0.975)),
        "top_share": float(kids[top].sum() / kids.sum()),
        "top_factor": top_factor,
    }


def _ivti_summary(data: Any) -> dict[str, Any]:
    from clrisk.ivti import vulnerability_index

    prof = data.profile
    cfg = dict(prof.risk_levels or {})
    method, k = cfg.get("method", "quantiles"), int(cfg.get("k", 3))
    iv = vulnerability_index(data.admin_records, prof.ivti_indicator_specs, k=k,
                             classify_method=method if method != "fixed" else "quantiles")
    return {"route": "ivti", "k": k,
            "levels": dict(zip(iv["territory_id"].astype(str), iv["risk_level"].astype(int),
                               strict=True)),
            "children": None, "mean_risk": None, "mean_risk_low": None,
            "mean_risk_high": None, "top_share": None, "top_factor": None}


def country_summary(folder: Path) -> dict[str, Any]:
    """The atlas figures for one country folder (computed, not cached)."""
    from clrisk.data import load_country

    data = load_country(folder)
    prof = data.profile
    out = _risk_summary(data) if prof.has_risk_model and data.survey is not None \
        else _ivti_summary(data)
    out["n_territories"] = len(data.territories)
    return out


def regional_summaries(keys: list[str] | None = None, samples: Path = SAMPLES,
                       cache: bool = True) -> dict[str, dict[str, Any]]:
    """{country key: summary} for the sample countries, from the cache when the files match."""
    from clrisk.data.census_stream import cache_dir
    from clrisk.io import atomic_write
    from clrisk.synth.countries import COUNTRY_KEYS

    keys = list(keys or COUNTRY_KEYS)
    folders = [samples / k for k in keys]
    path = cache_dir() / "atlas" / f"{_digest(folders)}.json"
    if cache and path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    result = {k: country_summary(f) for k, f in zip(keys, folders, strict=True)}
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as fh:
            fh.write(json.dumps(result, sort_keys=True))
    return result


def comparison_table(summaries: dict[str, dict[str, Any]], lang: str | None = None
                     ) -> pd.DataFrame:
    """Display table: children, mean territory risk (95% interval), share of children in
    top-level territories, top modifiable factor."""
    from clrisk.profile import load_profile
    from clrisk.tables import fmt_int, fmt_percent

    rows = []
    for key, s in summaries.items():
        prof = load_profile(SAMPLES / key / "profile.yaml")
        if s["route"] == "model":
            risk = _("{mean} ({low} to {high})", lang).format(
                mean=fmt_percent(s["mean_risk"], 1, lang),
                low=fmt_percent(s["mean_risk_low"], 1, lang),
                high=fmt_percent(s["mean_risk_high"], 1, lang))
            children = fmt_int(s["children"], lang)
            share = fmt_percent(s["top_share"], 1, lang)
            factor = prof.label(s["top_factor"], lang) if s["top_factor"] else "—"
        else:
            risk, children, share = _("IVTI route (no rate)", lang), "—", "—"
            factor = "—"
        rows.append({_("Country", lang): prof.name(lang or "en"),
                     _("Territories", lang): fmt_int(s["n_territories"], lang),
                     _("Children", lang): children,
                     _("Mean territory risk (95% interval)", lang): risk,
                     _("Children in top-level territories", lang): share,
                     _("Top modifiable factor", lang): factor})
    return pd.DataFrame(rows)


def atlas_figure(summaries: dict[str, dict[str, Any]], lang: str | None = None):
    """3 x 3 small multiples with the shared level-rank colours and one legend."""
    import geopandas as gpd
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex
    from matplotlib.patches import Patch

    from clrisk.profile import load_profile

    cmap = plt.get_cmap("YlOrRd")
    fig, axes = plt.subplots(3, 3, figsize=(10, 11))
    for ax, (key, s) in zip(axes.flat, summaries.items(), strict=False):
        g = gpd.read_file(SAMPLES / key / "territories.geojson")
        k = int(s["k"])
        lev = g["territory_id"].astype(str).map(s["levels"]).fillna(0).astype(int)
        colours = [to_hex(cmap(0.15 + 0.8 * (v - 1) / max(k - 1, 1))) if v > 0 else "#dddddd"
                   for v in lev]
        g.plot(ax=ax, color=colours, linewidth=0.05 if len(g) > 500 else 0.2,
               edgecolor="white", hatch="///" if s["route"] == "ivti" else None)
        ax.set_title(load_profile(SAMPLES / key / "profile.yaml").name(lang or "en"), fontsize=10)
        ax.set_axis_off()
        ax.set_aspect("equal")
    for ax in list(axes.flat)[len(summaries):]:
        ax.set_axis_off()
    handles = [Patch(facecolor=to_hex(cmap(0.15)), label=_("Lowest level", lang)),
               Patch(facecolor=to_hex(cmap(0.55)), label=_("Middle levels", lang)),
               Patch(facecolor=to_hex(cmap(0.95)), label=_("Top level", lang)),
               Patch(facecolor="white", edgecolor="grey", hatch="///",
                     label=_("Classified by the IVTI", lang))]
    fig.legend(handles=handles, loc="lower center", ncol=4, frameon=False, fontsize=9,
               bbox_to_anchor=(0.5, 0.02))
    fig.text(0.01, 0.005, _("Source: synthetic sample data (clrisk.synth); outer boundary "
                            "Natural Earth, inner boundaries synthetic; computed with clrisk.",
                            lang), fontsize=7, color="#555555")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def atlas_png(summaries: dict[str, dict[str, Any]], lang: str | None = None,
              cache: bool = True) -> bytes:
    """The atlas figure as PNG bytes, cached next to the summaries (drawing some 12,000
    polygons is the page's main cost; every execution after the first per language reuses it).
    """
    import io

    import matplotlib.pyplot as plt

    from clrisk.data.census_stream import cache_dir
    from clrisk.io import atomic_path

    key = hashlib.sha256(json.dumps(summaries, sort_keys=True).encode()).hexdigest()[:20]
    path = cache_dir() / "atlas" / f"{key}-{lang or 'en'}.png"
    if cache and path.exists():
        return path.read_bytes()
    fig = atlas_figure(summaries, lang)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    data = buf.getvalue()
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            Path(tmp).write_bytes(data)
    return data
