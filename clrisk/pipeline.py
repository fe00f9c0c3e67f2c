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
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from clrisk.i18n import _
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
    estimates: Any = None  # clrisk.phase1.sae_run.TerritoryEstimates (fit, draws, benchmark)
    markers: pd.DataFrame | None = None  # instrument 2: who is at risk (markers.csv)
    factor_joint: dict | None = None  # instrument 2: national joint effect of the factors
    factor_notes: list[str] = field(default_factory=list)  # instrument 2 messages
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
    from clrisk.phase1.census_source import resolve_census
    from clrisk.phase1.patterns import DEFAULT_BATCH_SIZE
    from clrisk.phase1.sae_run import territory_estimates
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
            # Derived terms (interactions, squares) are computed on the survey and travel
            # with the model, so every census consumer rebuilds them (clrisk.phase1.terms).
            from clrisk.phase1.terms import add_derived_columns, attach_terms

            model = fit_risk_model(add_derived_columns(data.survey, profile),
                                   list(profile.model_terms), outcome=OUTCOME, weight=WEIGHT,
                                   strata=STRATUM, psu=PSU, fpc=profile.design.get("fpc"))
            attach_terms(model, profile)
        result.model = model
        # the small-area model is fitted on the survey while the census is read (a second
        # core; the same fit, bit for bit)
        from clrisk.phase1.sae_run import start_small_area_fit

        pending = start_small_area_fit(data.survey, model, profile.small_area)
        weight = census_weight(census)
        n_rows = len(census) if isinstance(census, pd.DataFrame) else None
        if n_rows is None:
            import pyarrow.parquet as pq

            n_rows = pq.ParquetFile(census).metadata.num_rows
        # The census is resolved ONCE: collapsed to (territory, pattern) cells when that
        # compresses, else streamed; every estimator below consumes this one source.
        with _progress(n_rows, _("Reading the census"), progress) as bar:
            src = resolve_census(census, covs, weight=weight,
                                 batch_size=batch_size or DEFAULT_BATCH_SIZE,
                                 progress=getattr(bar, "update", None), keep_in_memory=True)
        with _progress(None, _("Projecting the model onto the census"), progress):
            scores = score_territories(model, src)
        territory_ids = data.territories[TERRITORY_ID].astype(str).tolist()
        check_coverage(scores, territory_ids, Path(str(data.census_path or "census")).name)
        names = data.territories[[TERRITORY_ID, NAME, REGION_ID]].copy()
        names[TERRITORY_ID] = names[TERRITORY_ID].astype(str)
        with _progress(None, _("Small-area estimates and P(top level)"), progress):
            est = territory_estimates(scores, model, src, data.survey,
                                      options=profile.small_area, method=method, k=k,
                                      cutoffs=cutoffs, draws=draws, seed=seed,
                                      regions=names[[TERRITORY_ID, REGION_ID]],
                                      pending=pending)
        result.estimates = est
        classified = est.table
        result.territories = names.merge(classified, on=TERRITORY_ID, how="right")
        if profile.factors:  # instrument 2, with the draws P(top) used
            from clrisk.phase1.factors import apply_instrument2

            with _progress(None, _("Weight of each factor (instrument 2)"), progress):
                apply_instrument2(result, data, src, estimates=est, draws=draws, seed=seed)
    if profile.has_ivti and data.admin_records is not None:
        from clrisk.ivti import vulnerability_index

        ivti_cfg = dict(profile.ivti or {})
        # The schema allows dimension_weights: equal | pca (a weighting scheme) or a mapping.
        dim_w = ivti_cfg.get("dimension_weights")
        weighting = dim_w if isinstance(dim_w, str) else ivti_cfg.get("weighting", "equal")
        result.ivti = vulnerability_index(
            data.admin_records, profile.ivti_indicator_specs,
            None if isinstance(dim_w, str) else dim_w, weighting=weighting,
            k=k, classify_method=method if method != "fixed" else "quantiles")
    return result


# Writing lives in clrisk.results; these names stay importable from here for the chapters.
from clrisk.results.report import _write_report, sector_name  # noqa: E402,F401
from clrisk.results.write import (  # noqa: E402,F401
    _fallback_map,
    _map,
    _write_gpkg,
    coefficient_table,
    write_outputs,
)


def run_country_cached(data: Any, *, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED
                       ) -> RunResult:
    """:func:`run_country`, computed once per set of input files, code, draws, seed and language.

    Why: every chapter that shows Phase I results (and Phase II and the training exercises,
    which build on them) needs the same run of the same country; the book executes them for
    every country and language, and recomputing the fit, the small-area estimates and the
    factor weights in each chapter is most of the build's time. Labels (risk levels) are
    translated when computed, so the language is part of the key.
    """
    from clrisk.cache import cache_path, cached
    from clrisk.i18n import get_language

    root = getattr(data, "root", None)
    path = None if root is None else cache_path(root, "phase1", draws, seed, get_language())
    return cached(path, lambda: run_country(data, draws=draws, seed=seed))


def run(country: str | Path, out_dir: str | Path, *, lang: str | None = None,
        draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED, progress: bool = False,
        maps: bool = True) -> RunResult:
    """Load a country (sample key, folder or profile.yaml), compute and write everything."""
    from clrisk.data import load_country
    from clrisk.results import ResultsFolder, input_roots, preflight

    data = load_country(country)
    # The output folder is checked and locked before computing: a refused --out or a second
    # run into the same folder fails at once, not after the census pass. ``preflight`` is the
    # same validation ``clrisk check`` runs.
    with ResultsFolder(out_dir, inputs=input_roots(data)) as folder:
        import warnings

        from clrisk.errors import DataWarning

        for note in preflight(data):
            warnings.warn(note, DataWarning, stacklevel=2)
        result = run_country(data, draws=draws, seed=seed, progress=progress)
        with _progress(None, _("Writing tables and maps"), progress):
            write_outputs(result, data, folder, lang=lang, maps=maps,
                          parameters={"draws": draws, "seed": seed})
    return result
