"""Checks of meaning, shared by ``clrisk check`` and ``clrisk run`` (one validation).

Why a module of its own: the loader's checks ask "is this a well-formed table?"; these ask
"do these data mean what the model assumes?" — the same 0/1 coding in survey and census, no
"don't know" code inside a yes/no covariate, plausible magnitudes, a sampling design that can
give a variance, cut-offs that are probabilities, a profile a person has finished, and the
model pre-flight (separation, constant covariates, an outcome that varies). ``clrisk check``
lists every problem; ``clrisk run`` calls the same :func:`run_checks` before computing and stops
at the first, so the two commands can never disagree about what is acceptable.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from clrisk.errors import DataError, ModelError, data_error
from clrisk.i18n import _
from clrisk.schema import COVARIATES, PSU, STRATUM, TERRITORY_ID, WEIGHT

# Plausible ranges of catalogue covariates (inclusive). Why fixed here: a household of 10^15
# people or 80 years of schooling is an export error, never a fact; the model would accept it
# and silently distort every territory's probability.
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "age": (0, 25),
    "head_schooling": (0, 30),
    "household_size": (1, 60),
    "n_children": (0, 40),
}
# No expansion factor represents more people than this; larger values are unit errors (or
# overflow the weighted sums: 10^308 turns every total into infinity).
MAX_WEIGHT = 1e9
# Markers a starter profile from ``clrisk init-profile`` leaves for a person to replace.
TODO_MARKERS = ("TODO", "PENDIENTE", "À FAIRE")


def _rows(mask: np.ndarray | pd.Series) -> list[int]:
    """1-based data rows (header excluded) of the True entries."""
    return [int(i) + 1 for i in np.flatnonzero(np.asarray(mask))]


# ---------------------------------------------------------------------------------------------
# Profile
# ---------------------------------------------------------------------------------------------
def _walk_strings(node: Any, path: tuple) -> Iterator[tuple[tuple, str]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk_strings(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk_strings(v, (*path, i))
    elif isinstance(node, str):
        yield path, node


def profile_unfinished(profile: Any) -> list[DataError]:
    """A starter profile still holding TODO placeholders or ``confirmed: false``."""
    errors: list[DataError] = []
    raw = getattr(profile, "raw", {}) or {}
    where = Path(profile.path).name if profile.path else "profile.yaml"
    todo = [(p, v) for p, v in _walk_strings(raw, ()) if any(m in v for m in TODO_MARKERS)]
    if todo:
        first = todo[0][0]
        keys = sorted({".".join(str(x) for x in p[:2]) for p, _v in todo})
        errors.append(DataError(_(
            "{file}, line {line}: the profile still holds placeholders ({keys}); it is a starter "
            "profile, not the country's. Fix: replace every TODO value with the real one "
            "(country name, child labour definition, outcome expression), then set "
            "'confirmed: true'").format(file=where, line=profile.line_of(*first) or "?",
                                        keys=", ".join(keys[:8]))))
    if raw.get("confirmed") is False:
        errors.append(DataError(_(
            "{file}, line {line}: 'confirmed: false' — the guesses of 'clrisk init-profile' "
            "(design columns, outcome, covariate codes) have not been checked by a person. Fix: "
            "check every line marked TODO, then set 'confirmed: true'").format(
                file=where, line=profile.line_of("confirmed") or "?")))
    return errors


def risk_level_settings(profile: Any) -> list[DataError]:
    """Risk-level settings must be ones the classification code accepts (schema = code)."""
    from clrisk.phase1.classify import class_bounds

    levels = dict(profile.risk_levels or {})
    method, k = levels.get("method", "quantiles"), int(levels.get("k", 3))
    cutoffs = levels.get("cutoffs")
    where = Path(profile.path).name if profile.path else "profile.yaml"
    line = profile.line_of("risk_levels") or "?"
    errors: list[DataError] = []
    if cutoffs is not None:
        bad = [c for c in cutoffs if not 0 < float(c) < 1]
        if bad:
            errors.append(DataError(_(
                "{file}, line {line}: risk_levels.cutoffs {bad} are not probabilities between 0 "
                "and 1 (percentages?). Fix: write them as proportions, e.g. 0.1 for 10%").format(
                    file=where, line=line, bad=", ".join(f"{c:g}" for c in bad))))
            return errors
        if method != "fixed":
            errors.append(DataError(_(
                "{file}, line {line}: risk_levels.cutoffs are only used with method: fixed "
                "(method is {method}). Fix: remove cutoffs or set method: fixed").format(
                    file=where, line=line, method=method)))
    labels = levels.get("labels")
    if labels is not None and len(labels) != k:
        errors.append(DataError(_(
            "{file}, line {line}: risk_levels.labels has {n} entries for k = {k} levels. Fix: "
            "give one label per level").format(file=where, line=line, n=len(labels), k=k)))
    try:
        class_bounds(np.linspace(0.01, 0.99, 50), method, k, cutoffs)
        if profile.has_ivti:
            class_bounds(np.linspace(0.01, 0.99, 50),
                         method if method != "fixed" else "quantiles", k)
    except ValueError as exc:
        errors.append(DataError(_("{file}, line {line}: risk_levels: {problem}. Fix: change "
                                  "method or k in the profile").format(
                                      file=where, line=line, problem=exc)))
    return errors


def ivti_settings(profile: Any) -> list[DataError]:
    """IVTI dimension weights the schema allows must be ones the index code accepts."""
    if not profile.has_ivti:
        return []
    dim_w = (profile.ivti or {}).get("dimension_weights")
    if not isinstance(dim_w, dict) or not dim_w:
        return []
    where = Path(profile.path).name if profile.path else "profile.yaml"
    if sum(float(v) for v in dim_w.values()) <= 0:
        return [DataError(_(
            "{file}, line {line}: ivti.dimension_weights are all 0, so the index would be "
            "empty. Fix: give at least one dimension a positive weight, or write "
            "'dimension_weights: equal'").format(
                file=where, line=profile.line_of("ivti", "dimension_weights") or "?"))]
    return []


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------
BATCH_ROWS = 1_000_000  # a census on disk is checked in batches (census-scale files)


def _census_batches(data: Any, columns: list[str]) -> Iterator[tuple[int, pd.DataFrame]]:
    """(first row, frame) batches of the census columns needed (memory or Parquet on disk)."""
    if data.census is not None:
        yield 0, data.census[[c for c in columns if c in data.census.columns]]
        return
    if data.census_path is None:
        return
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(data.census_path)
    cols = [c for c in columns if c in pf.schema_arrow.names]
    offset = 0
    for batch in pf.iter_batches(batch_size=BATCH_ROWS, columns=cols):
        df = batch.to_pandas()
        yield offset, df
        offset += len(df)


def _has_census(data: Any) -> bool:
    return data.census is not None or data.census_path is not None


class _Hits:
    """Offending rows of one rule: the first few row numbers, the count, the first values."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.count = 0
        self.values: set[float] = set()

    def add(self, mask: np.ndarray, x: np.ndarray, offset: int) -> None:
        if not mask.any():
            return
        idx = np.flatnonzero(mask)
        self.count += len(idx)
        if len(self.rows) < 5:
            self.rows += [int(i) + offset + 1 for i in idx[:5 - len(self.rows)]]
        if len(self.values) < 5:
            self.values |= set(np.unique(x[mask])[:5].tolist())

    def vals(self) -> str:
        return ", ".join(f"{v:g}" for v in sorted(self.values)[:5])


def _spec(profile: Any, name: str) -> dict[str, Any]:
    return next((c for c in profile.covariate_specs if c.get("name") == name), {})


def _rules(profile: Any, cov: str) -> tuple[list[float], list[float], bool,
                                            tuple[float, float] | None]:
    spec = _spec(profile, cov)
    missing_codes = [float(v) for v in spec.get("missing_codes") or []]
    domain = [float(v) for v in spec.get("values") or []]
    cat = COVARIATES.get(cov)
    binary = (cat is not None and cat.kind == "binary") or sorted(domain) == [0.0, 1.0]
    return missing_codes, domain, binary, PLAUSIBLE.get(cov)


def _scan(frames: Iterable[tuple[int, pd.DataFrame]], profile: Any, covs: list[str]
          ) -> tuple[dict[str, dict[str, _Hits]], dict[str, set[float]]]:
    """One pass over a table: offending rows per (covariate, rule) and the distinct values of
    each covariate (kept up to 3, enough to compare 0/1 codings)."""
    hits = {c: {r: _Hits() for r in ("missing", "domain", "binary", "range")} for c in covs}
    seen: dict[str, set[float]] = {}
    for offset, df in frames:
        for cov in covs:
            if cov not in df.columns:
                continue
            missing_codes, domain, binary, rng = _rules(profile, cov)
            x = pd.to_numeric(df[cov], errors="coerce").to_numpy(dtype=float)
            finite = np.isfinite(x)
            s = seen.setdefault(cov, set())
            if len(s) <= 2:
                s |= set(np.unique(x[finite])[:3].tolist())
            h = hits[cov]
            miss = np.isin(x, missing_codes) if missing_codes else np.zeros(len(x), bool)
            h["missing"].add(miss, x, offset)
            ok = finite & ~miss
            if domain:
                h["domain"].add(ok & ~np.isin(x, domain), x, offset)
            if binary:
                h["binary"].add(ok & ~np.isin(x, [0.0, 1.0]), x, offset)
            if rng is not None:
                h["range"].add(ok & ((x < rng[0]) | (x > rng[1])), x, offset)
    return hits, seen


def covariate_domains(data: Any) -> list[DataError]:
    """Codes of each covariate: declared missing codes, declared domain, 0/1 binaries agreeing
    between survey and census, plausible ranges (the census is read in batches)."""
    profile = data.profile
    errors: list[DataError] = []
    covs = [c for c in profile.covariates if not _spec(profile, c).get("expression")]
    scans: list[tuple[str, Path | None, dict[str, dict[str, _Hits]], dict[str, set[float]]]] = []
    if data.survey is not None:
        scans.append(("survey", profile.file("survey"),
                      *_scan([(0, data.survey)], profile, covs)))
    if _has_census(data):
        scans.append(("census", profile.file("census"),
                      *_scan(_census_batches(data, [TERRITORY_ID, *covs]), profile, covs)))
    for cov in covs:
        missing_codes, domain, _binary, rng = _rules(profile, cov)
        for _kind, path, hits, _seen in scans:
            h = hits[cov]
            if h["missing"].count:
                errors.append(data_error(path, _(
                    "holds code(s) {codes} that the profile declares as missing "
                    "(missing_codes)").format(codes=h["missing"].vals()),
                    _("drop these rows with a mapping filter (e.g. '{c} != {v:g}') or "
                      "recode them; the model never guesses a missing answer").format(
                          c=cov, v=min(h["missing"].values)), column=cov,
                    rows=h["missing"].rows, total=h["missing"].count))
            elif h["domain"].count:
                errors.append(data_error(path, _(
                    "values {vals} are outside the codes the profile allows ({domain})").format(
                        vals=h["domain"].vals(), domain=", ".join(f"{v:g}" for v in domain)),
                    _("recode them under mapping, or declare them in missing_codes"),
                    column=cov, rows=h["domain"].rows, total=h["domain"].count))
            elif h["binary"].count:
                errors.append(data_error(path, _(
                    "'{c}' is a yes/no covariate and must be coded 0/1 (found {vals})").format(
                        c=cov, vals=h["binary"].vals()),
                    _("recode it under mapping (e.g. 'recode: [{{column: {c}, from: {c}, "
                      "map: {{1: 0, 2: 1}}}}]'); a 'don't know' code such as 9 must be "
                      "dropped or declared in missing_codes").format(c=cov),
                    column=cov, rows=h["binary"].rows, total=h["binary"].count))
            elif h["range"].count and rng is not None:
                errors.append(data_error(path, _(
                    "implausible values {vals} (expected between {lo:g} and {hi:g})").format(
                        vals=h["range"].vals(), lo=rng[0], hi=rng[1]),
                    _("check the export (units, a missing-value code, a shifted column)"),
                    column=cov, rows=h["range"].rows, total=h["range"].count))
        if len(scans) == 2:
            a, b = scans[0][3].get(cov, set()), scans[1][3].get(cov, set())
            if (0 < len(a) <= 2 and 0 < len(b) <= 2 and a != b
                    and not (a < b or b < a)):
                errors.append(data_error(profile.file("census"), _(
                    "'{c}' is coded {cv} in the census but {sv} in the survey").format(
                        c=cov, cv="/".join(f"{v:g}" for v in sorted(b)),
                        sv="/".join(f"{v:g}" for v in sorted(a))),
                    _("use the same codes in both files (recode one of them under mapping)"),
                    column=cov))
    return errors


def design(data: Any) -> list[DataError]:
    """Design columns, weights that overflow, and a PSU/stratum structure that gives a variance."""
    survey = data.survey
    if survey is None:
        return []
    profile = data.profile
    path = profile.file("survey")
    errors: list[DataError] = []
    for role, canon in (("weight", WEIGHT), ("stratum", STRATUM), ("psu", PSU)):
        if canon not in survey.columns:
            col = (profile.design or {}).get(role, canon)
            errors.append(data_error(path, _(
                "the design column '{col}' named in the profile (design.{role}) is not in the "
                "file").format(col=col, role=role),
                _("correct design.{role} in the profile to the file's column name").format(
                    role=role), column=col))
    if errors:
        return errors
    w = pd.to_numeric(survey[WEIGHT], errors="coerce").to_numpy(dtype=float)
    huge = np.isfinite(w) & (w > MAX_WEIGHT)
    if huge.any() or not np.isfinite(np.sum(w[np.isfinite(w)])):
        errors.append(data_error(path, _(
            "weights larger than {max:g} (found {v:g}); no expansion factor is that large and "
            "the weighted sums overflow").format(max=MAX_WEIGHT, v=float(np.nanmax(w))),
            _("check the weight variable and its units (a scaled or corrupted export?)"),
            column=WEIGHT, rows=_rows(huge)))
    big = _Hits()
    for offset, census in _census_batches(data, [WEIGHT]):
        if WEIGHT in census.columns:
            cw = pd.to_numeric(census[WEIGHT], errors="coerce").to_numpy(dtype=float)
            big.add(np.isfinite(cw) & (cw > MAX_WEIGHT), cw, offset)
    if big.count:
        errors.append(data_error(profile.file("census"), _(
            "weights larger than {max:g} (found {v:g}); no expansion factor is that large "
            "and the weighted sums overflow").format(max=MAX_WEIGHT, v=max(big.values)),
            _("check the weight variable and its units (a scaled or corrupted export?)"),
            column=WEIGHT, rows=big.rows, total=big.count))
    psu_id = survey[STRATUM].astype(str) + "\x1f" + survey[PSU].astype(str)
    n_psu = psu_id.nunique()
    n_strata = survey[STRATUM].nunique()
    if survey[PSU].nunique() < 2 and len(survey) > 1:
        errors.append(data_error(path, _(
            "the PSU column holds a single value for every row, so no design-based variance "
            "can be computed"), _("design.psu must name the sampling clusters (primary sampling "
                                  "units), not a constant"), column=(profile.design or {}).get(
                                      "psu", PSU)))
    elif n_psu - n_strata < 1:
        errors.append(data_error(path, _(
            "every stratum has a single PSU ({n} strata, {m} PSUs), so the design gives no "
            "variance").format(n=n_strata, m=n_psu),
            _("check design.stratum and design.psu (are they swapped, or is the PSU the "
              "household?)"), column=(profile.design or {}).get("psu", PSU)))
    return errors


def coverage(data: Any) -> list[DataError]:
    """Every territory of the map must have census children (and the census no others)."""
    if not data.profile.has_risk_model or data.territories is None:
        return []
    have: set[str] = set()
    for _offset, census in _census_batches(data, [TERRITORY_ID]):
        if TERRITORY_ID not in census.columns:
            return []
        have |= set(pd.unique(census[TERRITORY_ID].astype(str)))
    if not have:
        return []
    ids = data.territories[TERRITORY_ID].astype(str)
    missing = ids[~ids.isin(have)].tolist()
    if not missing:
        return []
    head = ", ".join(missing[:5])
    more = " " + _("(and {n} more)").format(n=len(missing) - 5) if len(missing) > 5 else ""
    return [data_error(data.profile.file("territories"), _(
        "territory {ids}{more} has no children in the census, so its probability cannot be "
        "computed").format(ids=head, more=more),
        _("remove the extra territories from the map, or check the territory codes in the "
          "census against the map"), column=TERRITORY_ID)]


def model_preflight(data: Any) -> list[DataError]:
    """Fit the risk model exactly as ``run`` does (its own checks: separation, constant
    covariates, outcome always one value, PSUs); reports the first problem it raises."""
    if not data.profile.has_risk_model or data.survey is None:
        return []
    from clrisk.phase1.model import fit_risk_model

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit_risk_model(data.survey, list(data.profile.covariates), outcome="child_labour",
                           weight=WEIGHT, strata=STRATUM, psu=PSU,
                           source=Path(str(data.profile.file("survey") or "survey")).name)
    except (DataError, ModelError) as exc:
        return [DataError(translate_model_message(str(exc)))]
    except (ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
        return [DataError(_("{file}: the risk model cannot be estimated on these data "
                            "({problem}). Fix: run 'clrisk check' and correct the values it "
                            "names").format(file=Path(str(data.profile.file("survey"))).name,
                                            problem=exc))]
    return []


def _model_patterns() -> list[tuple[str, str]]:
    """(regex over model.py's English message, translated template) — why here: the model's
    checks are called, not copied, and their messages reach users through this boundary."""
    return [
        (r"^(?P<src>[^:]+), column '(?P<y>[^']+)': the outcome is always (?P<v>[01]) .*$",
         _("{src}, column '{y}': the outcome is always {v} in the survey, so a logit cannot "
           "be estimated. Fix: check the outcome definition and the age filter")),
        (r"^(?P<src>[^:]+): covariate\(s\) (?P<c>.+) take a single value in the survey .*$",
         _("{src}: covariate(s) {c} take a single value in the survey (no variance), so their "
           "effect cannot be estimated. Fix: drop them from the covariate list")),
        (r"^(?P<src>[^:]+): covariates (?P<c>.+) are collinear .*$",
         _("{src}: covariates {c} are collinear (one is an exact linear combination of the "
           "others), so their effects are not identified. Fix: drop one of them")),
        (r"^(?P<src>[^:]+): perfect or quasi-complete separation by covariate '(?P<c>[^']+)': "
         r"every child with (?P=c) = (?P<v>\S+) has (?P<y>\S+) = (?P<o>\S+), .*$",
         _("{src}: perfect or quasi-complete separation by covariate '{c}': every child with "
           "{c} = {v} has {y} = {o}, so its coefficient diverges to infinity. Fix: drop or "
           "regroup '{c}', or check how {y} was coded for that group")),
        (r"^(?P<src>[^:]+): the logit did not converge .* most likely by (?P<c>[^.]+)\. .*$",
         _("{src}: the logit did not converge (fitted probabilities of 0 or 1): perfect or "
           "quasi-complete separation, most likely by {c}. Fix: drop or regroup these "
           "covariate(s), or check how the outcome was coded")),
    ]


def translate_model_message(message: str) -> str:
    """The model pre-flight's message in the current language (unchanged if unknown)."""
    import re

    for pattern, template in _model_patterns():
        m = re.match(pattern, message, flags=re.S)
        if m:
            return template.format(**m.groupdict())
    return message


def run_checks(data: Any) -> list[DataError]:
    """Every semantic problem of a loaded country, in the order a team should fix them."""
    profile = data.profile
    errors = profile_unfinished(profile) + risk_level_settings(profile) + ivti_settings(profile)
    dom = covariate_domains(data)
    des = design(data)
    errors += dom + des + coverage(data)
    if not dom and not des:  # the model would only repeat a domain or design problem
        errors += model_preflight(data)
    return errors


def harmonisation_notes(data: Any) -> list[str]:
    """Survey-vs-census comparison of each covariate (the survey engineer's
    :func:`clrisk.phase1.harmonisation.check_files`), as warnings: a difference in means may be
    real, so it is reported, never refused."""
    if not data.profile.has_risk_model or data.survey is None:
        return []
    census = data.census if data.census is not None else data.census_path
    if census is None:
        return []
    try:
        from clrisk.phase1.harmonisation import check_files
    except ImportError:  # pragma: no cover - module being developed in parallel
        return []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _table, notes = check_files(data.survey, census, list(data.profile.covariates),
                                        source=data.profile.file("survey"),
                                        regions=data.territories)
    except (DataError, ModelError, ValueError):
        return []  # the errors above already say what is wrong
    return list(notes)


def raise_first(errors: list[DataError]) -> None:
    """Raise the first problem (with a count of the others), as ``load_country`` does."""
    if not errors:
        return
    first = errors[0]
    extra = len(errors) - 1
    if extra:
        raise DataError(str(first) + " " + _("({n} more problem(s): run 'clrisk check' to "
                                             "list them all)").format(n=extra)) from first
    raise first
