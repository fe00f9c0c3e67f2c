"""The Phase I pipeline used by ``clrisk run`` and the chapters.

load -> fit (survey) -> collapse census once -> score -> classify (+ P(top)) -> factor weights
-> IVTI (when the profile asks for it) -> write outputs.

Why one function chain: the command line and the book must produce the same numbers from the
same data; both call :func:`run_country`. The census is collapsed to its pattern table once and
that table feeds scoring, the coefficient draws and the factor counterfactuals, so a large
Parquet census is read a single time.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from clrisk.i18n import _, get_language
from clrisk.io import atomic_path, write_csv, write_json
from clrisk.reproduce import reproducible_environment
from clrisk.schema import NAME, OUTCOME, PSU, REGION_ID, STRATUM, TERRITORY_ID, WEIGHT

DEFAULT_DRAWS = 200
DEFAULT_SEED = 12345


@dataclass
class RunResult:
    """Everything one run computes (tables keep canonical column names)."""

    country: str
    model: Any = None
    territories: pd.DataFrame | None = None
    factor_weights: pd.DataFrame | None = None
    national_factors: pd.DataFrame | None = None
    ivti: pd.DataFrame | None = None
    files: list[Path] = field(default_factory=list)


def _progress(total: int | None, desc: str, enabled: bool):
    """A tqdm bar on stderr for steps with a known size; a one-line note for the others."""
    from tqdm.auto import tqdm

    if total is None:
        if enabled:
            print(f"… {desc}", file=sys.stderr, flush=True)
        return contextlib.nullcontext()
    return tqdm(total=total, desc=desc, file=sys.stderr, disable=not enabled, unit_scale=True,
                leave=False)


def census_source(data: Any) -> Any:
    """The census as the pipeline reads it: the in-memory frame or the Parquet path."""
    return data.census if data.census is not None else data.census_path


def census_weight(census: Any) -> str | None:
    """The census-sample weight column, if the census has one."""
    from clrisk.phase1.patterns import census_columns

    return "weight" if "weight" in census_columns(census) else None


def run_country(data: Any, *, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED,
                progress: bool = False, batch_size: int | None = None) -> RunResult:
    """Compute Phase I results for a loaded country (:class:`clrisk.data.CountryData`)."""
    from clrisk.phase1.classify import classify_risk
    from clrisk.phase1.factors import default_factors, national_factor_ranking, score_and_factors
    from clrisk.phase1.patterns import (
        DEFAULT_BATCH_SIZE,
        TooManyPatterns,
        choose_method,
        collapse_census,
    )
    from clrisk.phase1.scoring import check_coverage, score_territories

    profile = data.profile
    result = RunResult(country=data.key)
    levels = dict(profile.risk_levels or {})
    method, k = levels.get("method", "quantiles"), int(levels.get("k", 3))
    cutoffs = levels.get("cutoffs")
    census = census_source(data)
    if profile.has_risk_model and data.survey is not None and census is not None:
        from clrisk.phase1.model import fit_risk_model

        covs = list(profile.covariates)
        with _progress(None, _("Fitting the risk model"), progress):
            # The loader has already mapped national design columns onto canonical names.
            model = fit_risk_model(data.survey, covs, outcome=OUTCOME, weight=WEIGHT,
                                   strata=STRATUM, psu=PSU)
        result.model = model
        weight = census_weight(census)
        n_rows = len(census) if isinstance(census, pd.DataFrame) else None
        if n_rows is None:
            import pyarrow.parquet as pq

            n_rows = pq.ParquetFile(census).metadata.num_rows
        # Collapse to (territory, pattern) cells only when that compresses; otherwise every
        # step streams the census rows (one read for scores + factor weights).
        how, table = choose_method(census, covs, weight=weight)
        if how == "patterns" and table is None:
            try:
                with _progress(n_rows, _("Reading the census"), progress) as bar:
                    table = collapse_census(census, covs, weight=weight,
                                            batch_size=batch_size or DEFAULT_BATCH_SIZE,
                                            progress=bar.update)
            except TooManyPatterns:
                table = None
        source = table if table is not None else census
        refs, sectors = default_factors(covs, profile)
        with _progress(None, _("Projecting the model onto the census"), progress):
            if refs:
                scores, fw = score_and_factors(model, source, refs, sectors=sectors,
                                               weight=weight)
                result.factor_weights = fw
                result.national_factors = national_factor_ranking(fw)
            else:
                scores = score_territories(model, source, weight=weight)
        territory_ids = data.territories[TERRITORY_ID].astype(str).tolist()
        check_coverage(scores, territory_ids, Path(str(data.census_path or "census")).name)
        with _progress(None, _("Drawing coefficients for P(top level)"), progress):
            classified = classify_risk(scores, method, k, cutoffs=cutoffs, model=model,
                                       census=source, weight=weight, draws=draws, seed=seed)
        names = data.territories[[TERRITORY_ID, NAME, REGION_ID]].copy()
        names[TERRITORY_ID] = names[TERRITORY_ID].astype(str)
        result.territories = names.merge(classified, on=TERRITORY_ID, how="right")
    if profile.has_ivti and data.admin_records is not None:
        from clrisk.ivti import vulnerability_index

        ivti_cfg = dict(profile.ivti or {})
        result.ivti = vulnerability_index(
            data.admin_records, profile.ivti_indicator_specs,
            ivti_cfg.get("dimension_weights"), weighting=ivti_cfg.get("weighting", "equal"),
            k=k, classify_method=method if method != "fixed" else "quantiles")
    return result


def coefficient_table(model: Any) -> pd.DataFrame:
    """Coefficients with design-based SEs and odds ratios (machine-readable names)."""
    ors = model.odds_ratios()
    out = pd.DataFrame({"term": list(model.params.index),
                        "coef": model.params.to_numpy(), "se": model.bse.to_numpy(),
                        "odds_ratio": ors["odds_ratio"].to_numpy(),
                        "or_ci_low": ors["ci_low"].to_numpy(),
                        "or_ci_high": ors["ci_high"].to_numpy(),
                        "p_value": ors["p_value"].to_numpy()})
    return out


def _map(gdf: Any, column: str, kind: str, lang: str, title: str, path: Path, crs: str | None,
         synthetic: bool, k: int | None = None) -> list[Path]:
    try:
        from clrisk.maps import plot_territory_map, save_figure
    except ImportError:  # pragma: no cover - maps module is part of the package
        return _fallback_map(gdf, column, lang, title, path)
    fig = plot_territory_map(gdf, column, kind=kind, lang=lang, title=title, crs=crs,
                             synthetic=synthetic, k=k)
    return save_figure(fig, path)


def _fallback_map(gdf: Any, column: str, lang: str, title: str, path: Path) -> list[Path]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 6))
    ax = fig.add_subplot()
    gdf.plot(column=column, ax=ax, legend=True, cmap="YlOrRd")
    ax.set_axis_off()
    ax.set_title(title)
    out = []
    for ext in (".png", ".svg"):
        target = path.with_suffix(ext)
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=ext[1:], dpi=150)
        out.append(target)
    return out


def _write_gpkg(gdf: Any, path: Path) -> Path:
    """Atomic GeoPackage: written under a hidden temporary folder next to ``path`` (so the
    temporary file keeps the .gpkg extension GDAL expects), then renamed into place."""
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{path.stem}.", dir=path.parent))
    try:
        tmp = tmp_dir / path.name
        # GDAL stamps the current time into a GeoPackage; fix it so reruns are byte-identical.
        with reproducible_environment():
            gdf.to_file(tmp, driver="GPKG", layer="territories")
        os.replace(tmp, path)
    finally:
        for leftover in tmp_dir.glob("*"):
            leftover.unlink()
        tmp_dir.rmdir()
    return path


def write_outputs(result: RunResult, data: Any, out_dir: str | Path, *, lang: str | None = None,
                  maps: bool = True) -> list[Path]:
    """Write the run's files into ``out_dir`` atomically; returns the paths written."""
    from clrisk.maps import join_results

    lang = lang or get_language()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    profile = data.profile
    crs = getattr(profile, "projected_crs", None)
    synthetic = bool(getattr(profile, "synthetic", False))
    country = profile.name(lang)
    files: list[Path] = []
    geo_table = None
    if result.territories is not None:
        files.append(write_csv(result.territories, out / "territories.csv"))
        geo_table = result.territories.drop(columns=[NAME, REGION_ID], errors="ignore")
    if result.ivti is not None:
        files.append(write_csv(result.ivti, out / "ivti.csv"))
        ivti_cols = result.ivti.rename(columns={"risk_level": "ivti_level",
                                                "risk_label": "ivti_label"})
        geo_table = ivti_cols if geo_table is None else geo_table.merge(
            ivti_cols, on=TERRITORY_ID, how="outer")
    if result.model is not None:
        files.append(write_json(json.loads(result.model.to_json()),
                                out / "model.json"))
        files.append(write_csv(coefficient_table(result.model), out / "coefficients.csv"))
    if result.factor_weights is not None:
        files.append(write_csv(result.factor_weights, out / "factor_weights.csv"))
        files.append(write_csv(result.national_factors, out / "national_factors.csv"))
    if geo_table is not None:
        gdf = join_results(data.territories, geo_table)
        files.append(_write_gpkg(gdf, out / "territories.gpkg"))
        if maps:
            k = None
            if result.territories is not None:
                k = int(result.territories["risk_level"].max())
                files += _map(gdf, "mean_probability", "probability", lang,
                              _("Mean probability of child labour") + f" — {country}",
                              out / "map_probability", crs, synthetic)
                files += _map(gdf, "risk_level", "level", lang,
                              _("Risk level") + f" — {country}", out / "map_risk_level", crs,
                              synthetic, k)
                if "p_top" in gdf.columns:
                    files += _map(gdf, "p_top", "p_top", lang,
                                  _("Probability of the highest risk level") + f" — {country}",
                                  out / "map_p_top", crs, synthetic)
            if result.ivti is not None:
                files += _map(gdf, "ivti", "ivti", lang,
                              _("Vulnerability index (IVTI)") + f" — {country}",
                              out / "map_ivti", crs, synthetic)
                files += _map(gdf, "ivti_level", "level", lang,
                              _("IVTI level") + f" — {country}", out / "map_ivti_level", crs,
                              synthetic, int(result.ivti["risk_level"].max()))
    result.files = files
    files.append(_write_report(result, profile, out / "report.md", lang))
    return files


def sector_name(sector: str | None) -> str:
    """Translated display name of a sector (education, social protection, labour, health)."""
    names = {"education": _("Education"), "social_protection": _("Social protection"),
             "labour": _("Labour"), "health": _("Health")}
    return names.get(str(sector), str(sector)) if sector else ""


def _write_report(result: RunResult, profile: Any, path: Path, lang: str) -> Path:
    from clrisk.io import atomic_write

    lines = [f"# {_('Child labour risk identification')} — {profile.name(lang)}", ""]
    if getattr(profile, "synthetic", False):
        lines += [_("These results come from synthetic sample data, not from real surveys."), ""]
    if result.territories is not None:
        t = result.territories
        k = int(t["risk_level"].max())
        lines += [f"## {_('Territories by risk level')}", "",
                  f"| {_('Risk level')} | {_('Territories')} | {_('Children')} | "
                  f"{_('Expected children in child labour')} |", "|---|---:|---:|---:|"]
        for lev in range(1, k + 1):
            g = t[t["risk_level"] == lev]
            label = g["risk_label"].iloc[0] if len(g) else str(lev)
            lines.append(f"| {label} | {len(g)} | {g['children'].sum():.0f} | "
                         f"{g['expected_children'].sum():.0f} |")
        lines.append("")
    if result.national_factors is not None:
        lines += [f"## {_('National ranking of factors')}", "",
                  f"| {_('Rank')} | {_('Factor')} | {_('Sector')} | "
                  f"{_('Children represented')} |", "|---:|---|---|---:|"]
        for r in result.national_factors.itertuples():
            lines.append(f"| {r.rank} | {profile.label(r.factor, lang)} | "
                         f"{sector_name(r.sector)} | {r.children:.0f} |")
        lines.append("")
    if result.ivti is not None:
        lines += [f"## {_('Vulnerability index (IVTI)')}", "",
                  _("Territories per level") + ": " + ", ".join(
                      f"{lab} {n}" for lab, n in result.ivti.groupby(
                          "risk_level")["risk_label"].agg(["first", "size"]).itertuples(
                          index=False)), ""]
    lines += [f"## {_('Files')}", ""] + [f"- `{p.name}`" for p in result.files
                                         if p.name != path.name] + [""]
    with atomic_write(path) as fh:
        fh.write("\n".join(lines))
    return path


def run(country: str | Path, out_dir: str | Path, *, lang: str | None = None,
        draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED, progress: bool = False,
        maps: bool = True) -> RunResult:
    """Load a country (sample key, folder or profile.yaml), compute and write everything."""
    from clrisk.data import load_country

    data = load_country(country)
    result = run_country(data, draws=draws, seed=seed, progress=progress)
    with _progress(None, _("Writing tables and maps"), progress):
        write_outputs(result, data, out_dir, lang=lang, maps=maps)
    return result
