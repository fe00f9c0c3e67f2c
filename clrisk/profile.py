"""Read and validate a country's ``profile.yaml``.

Why a dedicated reader instead of ``yaml.safe_load``: a country team edits this file by hand,
so a mistake must be reported at the YAML line where it is, in words that say how to fix it
(unknown keys come with the nearest valid key). We compose the YAML node tree to keep the line
of every key, validate the structure against ``profile_schema.json`` (the published contract)
and then check the meaning (age range order, factor sectors, files each instrument needs).
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from clrisk.errors import DataError
from clrisk.i18n import _

SCHEMA_PATH = Path(__file__).with_name("profile_schema.json")
FILE_KINDS = ("survey", "census", "territories", "admin_records", "services", "truth")

# A path into the YAML document: keys (str) and list indices (int).
YamlPath = tuple[str | int, ...]


@functools.cache
def profile_schema() -> dict[str, Any]:
    """The JSON schema of profile.yaml (also used by the chapter and editors)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@dataclass
class Profile:
    """A validated country profile. ``raw`` keeps the parsed YAML for anything not surfaced."""

    key: str
    path: Path | None
    names: dict[str, str]
    admin_levels: dict[str, dict[str, str]]
    instruments: list[str]
    files: dict[str, Any]
    age_range: tuple[int, int] = (5, 17)
    crs: str = "EPSG:4326"
    projected_crs: str | None = None
    synthetic: bool = False
    design: dict[str, str] = field(default_factory=dict)
    outcome: str = "child_labour"
    child_labour_definition: dict[str, str] = field(default_factory=dict)
    covariate_specs: list[dict[str, Any]] = field(default_factory=list)
    risk_levels: dict[str, Any] = field(default_factory=lambda: {"method": "quantiles", "k": 3})
    ivti: dict[str, Any] = field(default_factory=dict)
    mapping: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    lines: dict[YamlPath, int] = field(default_factory=dict, repr=False)

    # -- names and labels ------------------------------------------------------------------
    @property
    def country(self) -> str:
        return self.key

    def name(self, lang: str = "en") -> str:
        """Country name in ``lang`` (English if the language is unknown)."""
        return self.names.get(lang) or self.names["en"]

    def level_name(self, level: str, lang: str = "en") -> str:
        """Name of an administrative level ("region" or "territory") in ``lang``."""
        labels = self.admin_levels[level]
        return labels.get(lang) or labels["en"]

    def label(self, name: str, lang: str = "en") -> str:
        """Label of a covariate or IVTI indicator in ``lang``; the name itself if unlabelled."""
        for spec in self.covariate_specs + self.ivti_indicator_specs:
            if spec["name"] == name and spec.get("labels"):
                return spec["labels"].get(lang) or spec["labels"]["en"]
        return name

    def definition(self, lang: str = "en") -> str:
        """The national child-labour definition in ``lang`` ("" if the profile has none)."""
        d = self.child_labour_definition
        return d.get(lang) or d.get("en", "")

    # -- covariates and factors ------------------------------------------------------------
    @property
    def covariates(self) -> list[str]:
        """Measured covariates (columns the survey and census files hold); derived terms
        (entries with ``expression``) are in :attr:`model_terms` only."""
        return [c["name"] for c in self.covariate_specs if not c.get("expression")]

    @property
    def model_terms(self) -> list[str]:
        """Every design column of the risk model: measured covariates and derived terms."""
        return [c["name"] for c in self.covariate_specs]

    @property
    def derived_terms(self) -> dict[str, str]:
        """Derived design columns: name -> expression over other covariates."""
        return {c["name"]: str(c["expression"]) for c in self.covariate_specs
                if c.get("expression")}

    @property
    def expected_signs(self) -> dict[str, int]:
        return {c["name"]: int(c.get("expected_sign", 0)) for c in self.covariate_specs}

    def factor_kind(self, name: str) -> str:
        """``modifiable``, ``marker`` or ``derived`` (see :func:`covariate_kind`)."""
        for c in self.covariate_specs:
            if c["name"] == name:
                return covariate_kind(c)
        return "marker"

    @property
    def markers(self) -> list[str]:
        """Measured covariates that describe who is at risk (never a risk to reduce)."""
        return [c["name"] for c in self.covariate_specs if covariate_kind(c) == "marker"]

    @property
    def factors(self) -> dict[str, float]:
        """Modifiable factors (instrument 2): name -> protective reference value."""
        return {c["name"]: float(_factor_spec(c)["reference"]) for c in self.covariate_specs
                if covariate_kind(c) == "modifiable"}

    @property
    def factor_sectors(self) -> dict[str, str]:
        return {c["name"]: _factor_spec(c)["sector"] for c in self.covariate_specs
                if covariate_kind(c) == "modifiable"}

    @property
    def factor_roles(self) -> dict[str, str]:
        """``risk`` (children above the reference are lowered to it) or ``protective``
        (children below it are raised to it), per modifiable factor."""
        return {c["name"]: factor_role(c) for c in self.covariate_specs
                if covariate_kind(c) == "modifiable"}

    # -- instruments, files ----------------------------------------------------------------
    @property
    def small_area(self) -> dict[str, Any]:
        """``small_area:`` options with their defaults (see :mod:`clrisk.phase1.sae`)."""
        return {"estimator": "auto", "mse": "analytic", "bootstrap_B": 200,
                "scaling": "size", "benchmark": "none", **(self.raw.get("small_area") or {})}

    @property
    def has_risk_model(self) -> bool:
        return "risk_model" in self.instruments

    @property
    def has_ivti(self) -> bool:
        return "ivti" in self.instruments

    @property
    def ivti_indicator_specs(self) -> list[dict[str, Any]]:
        return list((self.ivti or {}).get("indicators") or [])

    @property
    def ivti_indicators(self) -> list[str]:
        return [i["name"] for i in self.ivti_indicator_specs]

    @property
    def ivti_dimensions(self) -> dict[str, str]:
        return {i["name"]: i["dimension"] for i in self.ivti_indicator_specs}

    @property
    def ivti_directions(self) -> dict[str, int]:
        return {i["name"]: int(i.get("direction", 1)) for i in self.ivti_indicator_specs}

    @property
    def root(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def file(self, kind: str) -> Path | None:
        """Absolute path of a data file (``None`` if the profile does not list it)."""
        entry = self.files.get(kind)
        if entry is None:
            return None
        rel = entry if isinstance(entry, str) else entry["path"]
        return (self.root / rel).resolve()

    def file_options(self, kind: str) -> dict[str, str]:
        """Reading options for a file (decimal, sep, encoding, layer)."""
        entry = self.files.get(kind)
        return {} if not isinstance(entry, dict) else {k: v for k, v in entry.items() if k != "path"}

    def design_column(self, role: str) -> str:
        """National column holding a design variable (weight, stratum, psu)."""
        return self.design.get(role, role)

    def table_mapping(self, kind: str) -> dict[str, Any]:
        return dict((self.mapping or {}).get(kind) or {})

    def line_of(self, *path: str | int) -> int | None:
        """1-based YAML line of a key (for messages that point back at the profile)."""
        return self.lines.get(tuple(path))

    def where(self, *path: str | int) -> str:
        """``profile.yaml, line 12`` for a key, to cite in data messages."""
        name = self.path.name if self.path else "profile.yaml"
        line = self.line_of(*path) if path else None
        return f"{name}, line {line}" if line else name


class NonModifiableWarning(UserWarning):
    """A profile declares as modifiable a covariate that describes who a child is."""


def covariate_kind(spec: dict[str, Any]) -> str:
    """Kind of a profile covariate entry: ``derived`` (has an expression), else the explicit
    ``kind``, else ``modifiable`` when it has a ``factor:`` entry and ``marker`` otherwise."""
    if spec.get("expression"):
        return "derived"
    if spec.get("kind"):
        return str(spec["kind"])
    return "modifiable" if spec.get("factor") else "marker"


def _factor_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The ``factor:`` entry of a modifiable covariate, completed from the catalogue."""
    from clrisk.schema import COVARIATES

    fac = dict(spec.get("factor") or {})
    cat = COVARIATES.get(spec["name"])
    if cat is not None:
        fac.setdefault("reference", cat.reference)
        fac.setdefault("sector", cat.sector)
    return fac


def factor_role(spec: dict[str, Any]) -> str:
    """``risk`` or ``protective``: the ``factor.role``, else from the expected sign (profile,
    then catalogue); ``risk`` when nothing says otherwise."""
    from clrisk.schema import COVARIATES

    role = (spec.get("factor") or {}).get("role")
    if role:
        return str(role)
    sign = spec.get("expected_sign")
    if sign is None and spec["name"] in COVARIATES:
        sign = COVARIATES[spec["name"]].expected_sign
    return "protective" if (sign or 0) < 0 else "risk"


# ---------------------------------------------------------------------------------------------
# YAML with line numbers
# ---------------------------------------------------------------------------------------------
def _profile_error(file: Path | str, line: int | None, problem: str, fix: str) -> DataError:
    where = Path(file).name + (", " + _("line {line}").format(line=line) if line else "")
    return DataError(f"{where}: {problem}. {_('Fix')}: {fix}")


def _walk(node: yaml.Node, path: YamlPath, lines: dict[YamlPath, int], file: Path) -> None:
    """Record the line of every key/item; reject duplicated keys (YAML keeps the last silently)."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _profile_error(
                    file, line,
                    _("key '{key}' appears twice (first at line {first})").format(
                        key=key, first=seen[key]),
                    _("keep one of the two entries"))
            seen[key] = line
            lines[path + (key,)] = line
            _walk(value_node, path + (key,), lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[path + (i,)] = item.start_mark.line + 1
            _walk(item, path + (i,), lines, file)


def read_yaml_with_lines(path: Path) -> tuple[Any, dict[YamlPath, int]]:
    """Parse YAML, returning the data and the 1-based line of every key and list item."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise _profile_error(path, None, _("the file is not UTF-8 text ({err})").format(err=exc),
                             _("save the profile as UTF-8 in your editor")) from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        from clrisk.i18n import get_language

        # The parser's own text is English: other languages get the position instead.
        problem = (_("invalid YAML: {problem}").format(problem=exc.problem or exc)
                   if get_language() == "en" or mark is None else
                   _("invalid YAML near column {col}").format(col=mark.column + 1))
        raise _profile_error(
            path, line, problem,
            _("check indentation (spaces, not tabs), colons after keys and closing brackets"),
        ) from exc
    lines: dict[YamlPath, int] = {}
    if node is not None:
        _walk(node, (), lines, path)
    return data, lines


# ---------------------------------------------------------------------------------------------
# Schema validation with readable messages
# ---------------------------------------------------------------------------------------------
def _dotted(path: YamlPath) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _nearest_line(lines: dict[YamlPath, int], path: YamlPath) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def _schema_properties(schema: dict[str, Any]) -> list[str]:
    root = profile_schema()

    def resolve(s: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in s:
            s = root["$defs"][s["$ref"].split("/")[-1]]
        return s

    s = resolve(schema)
    props = list(s.get("properties", {}))
    for alt in s.get("oneOf", []):
        props += list(resolve(alt).get("properties", {}))
    return props


def _explain(error: Any, lines: dict[YamlPath, int], file: Path) -> DataError:
    """Turn one jsonschema error into a message at the YAML line, with the fix."""
    path: YamlPath = tuple(error.absolute_path)
    where = _dotted(path)
    v = error.validator
    if v in ("oneOf", "anyOf") and error.context:
        # Errors of the branch that "almost" matched are the informative ones: drop the type
        # mismatches of the other branches (e.g. "is not null") and explain the deepest.
        subs = [e for e in error.context
                if not (e.validator == "type" and len(e.absolute_path) <= len(path))]
        if subs and all(e.validator == "required" and len(e.absolute_path) == len(path)
                        for e in subs):
            options = ", ".join(f"'{e.validator_value[0]}'" for e in subs)
            return _profile_error(file, _nearest_line(lines, path),
                                  _("{where} needs one of {options}").format(
                                      where=where, options=options),
                                  _("add one of them (see profile_schema.json)"))
        if subs:
            sub = max(subs, key=lambda e: len(e.absolute_path))
            return _explain(sub, lines, file)
    if v == "additionalProperties":
        allowed = _schema_properties(error.schema)
        extra = sorted(set(error.instance) - set(allowed))
        key = extra[0]
        near = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
        hint = (_("did you mean '{near}'?").format(near=near[0]) if near
                else _("valid keys here are: {keys}").format(keys=", ".join(allowed)))
        return _profile_error(
            file, _nearest_line(lines, path + (key,)),
            _("unknown key '{key}' in {where}").format(key=key, where=where),
            hint + " " + _("(keys are case-sensitive; see the profile format in CONTRIBUTING.md)"))
    if v == "required":
        missing = next((r for r in error.validator_value if r not in error.instance), "?")
        return _profile_error(
            file, _nearest_line(lines, path),
            _("'{key}' is missing in {where}").format(key=missing, where=where),
            _("add the key '{key}' (see the profile format in CONTRIBUTING.md)").format(
                key=missing))
    line = _nearest_line(lines, path)
    value = error.instance
    if v == "enum":
        choices = ", ".join(json.dumps(c, ensure_ascii=False) for c in error.validator_value)
        options = [str(c) for c in error.validator_value]
        near = difflib.get_close_matches(str(value), options, 1, cutoff=0.5) or [
            c for c in options if str(value) in c or c in str(value)][:1]
        fix = _("use one of: {choices}").format(choices=choices)
        if near:
            fix += " " + _("(did you mean '{near}'?)").format(near=near[0])
        return _profile_error(file, line, _("{where} is {value!r}, which is not allowed").format(
            where=where, value=value), fix)
    if v == "type":
        kinds = {"object": _("a mapping (key: value)"), "array": _("a list"),
                 "string": _("text"), "integer": _("a whole number"), "number": _("a number"),
                 "boolean": _("true or false"), "null": _("null")}
        want = error.validator_value
        kind = (" / ".join(kinds.get(w, w) for w in want) if isinstance(want, list)
                else kinds.get(want, want))
        return _profile_error(
            file, line,
            _("{where} should be {kind} but is {value!r}").format(
                where=where, kind=kind, value=value),
            _("write {kind} (lists use [a, b] or '- item' lines; mappings use 'key: value')"
              ).format(kind=kind))
    if v == "pattern":
        return _profile_error(
            file, line, _("{where} is {value!r}, which is not a valid name").format(
                where=where, value=value),
            _("use letters, digits and underscores only, starting with a letter"))
    if v in ("minItems", "maxItems"):
        return _profile_error(
            file, line, _("{where} has the wrong number of items ({n})").format(
                where=where, n=len(value)),
            _("see the profile format in CONTRIBUTING.md; e.g. age_range: [5, 17]"))
    if v in ("exclusiveMinimum", "exclusiveMaximum") and "cutoffs" in where:
        return _profile_error(
            file, line, _("{where} is {value!r}: cut-offs are probabilities between 0 and 1 "
                          "(percentages?)").format(where=where, value=value),
            _("write them as proportions, e.g. 0.1 for 10%"))
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return _profile_error(
            file, line, _("{where} is {value!r}, out of the allowed range").format(
                where=where, value=value),
            _("use a value between the limits in profile_schema.json ({v} {limit})").format(
                v=v, limit=error.validator_value))
    return _profile_error(file, line, f"{where}: {error.message}",
                          _("see profile_schema.json for the expected format"))


def _schema_errors(data: Any) -> Iterator[Any]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(profile_schema())
    yield from sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))


# ---------------------------------------------------------------------------------------------
# Meaning checks (beyond structure)
# ---------------------------------------------------------------------------------------------
def _semantic_checks(data: dict[str, Any], lines: dict[YamlPath, int], file: Path) -> None:
    lo, hi = data.get("age_range", [5, 17])
    if lo > hi:
        raise _profile_error(file, lines.get(("age_range",)),
                             _("age_range [{lo}, {hi}] starts after it ends").format(lo=lo, hi=hi),
                             _("write the youngest age first, e.g. [5, 17]"))
    names = [c["name"] for c in data.get("covariates") or []]
    for i, n in enumerate(names):
        if n in names[:i]:
            raise _profile_error(file, lines.get(("covariates", i)),
                                 _("covariate '{name}' is listed twice").format(name=n),
                                 _("remove the second entry"))
    _check_kinds(data, lines, file)
    files = data.get("files") or {}
    instruments = data.get("instruments") or []
    if "risk_model" in instruments:
        for kind in ("survey", "census"):
            if kind not in files:
                raise _profile_error(
                    file, lines.get(("files",)),
                    _("the risk model needs a {kind} file but files has no '{kind}'").format(
                        kind=kind),
                    _("add 'files: {{{kind}: <file>}}' or remove risk_model from instruments "
                      "and use the ivti instrument").format(kind=kind))
        if not names:
            raise _profile_error(file, lines.get(("instruments",)),
                                 _("the risk model needs covariates but none are listed"),
                                 _("list the covariates measured in both survey and census"))
    if "ivti" in instruments:
        inds = (data.get("ivti") or {}).get("indicators") or []
        if "admin_records" not in files or not inds:
            raise _profile_error(
                file, lines.get(("instruments",)),
                _("the ivti instrument needs files.admin_records and ivti.indicators"),
                _("add both, or remove ivti from instruments"))
        ind_names = [i["name"] for i in inds]
        for i, n in enumerate(ind_names):
            if n in ind_names[:i]:
                raise _profile_error(file, lines.get(("ivti", "indicators", i)),
                                     _("indicator '{name}' is listed twice").format(name=n),
                                     _("remove the second entry"))
        weights = (data.get("ivti") or {}).get("dimension_weights")
        if isinstance(weights, dict):
            dims = {i["dimension"] for i in inds}
            for d in weights:
                if d not in dims:
                    near = difflib.get_close_matches(d, sorted(dims), 1)
                    raise _profile_error(
                        file, lines.get(("ivti", "dimension_weights", d)),
                        _("dimension_weights names '{d}', which no indicator uses").format(d=d),
                        (_("did you mean '{near}'?").format(near=near[0]) if near else
                         _("use one of: {choices}").format(choices=", ".join(sorted(dims)))))
    rl = data.get("risk_levels") or {}
    if rl.get("method") == "fixed":
        cut = rl.get("cutoffs") or []
        k = rl.get("k", 3)
        if len(cut) != k - 1 or list(cut) != sorted(cut):
            raise _profile_error(
                file, lines.get(("risk_levels",)),
                _("fixed risk levels need k-1 increasing cutoffs (k={k}, got {cut})").format(
                    k=k, cut=cut),
                _("e.g. risk_levels: {method: fixed, k: 3, cutoffs: [0.05, 0.10]}"))
    mapping = data.get("mapping") or {}
    for kind, rules in mapping.items():
        for key in ("territory_id", "region_id"):
            spec = (rules or {}).get(key)
            if spec and len(spec["columns"]) != len(spec["widths"]):
                raise _profile_error(
                    file, lines.get(("mapping", kind, key)),
                    _("mapping.{kind}.{key} has {c} columns but {w} widths").format(
                        kind=kind, key=key, c=len(spec["columns"]), w=len(spec["widths"])),
                    _("give one width per column, e.g. columns: [ccdd, ccpp, ccdi], "
                      "widths: [2, 2, 2]"))
        for i, rec in enumerate((rules or {}).get("recode") or []):
            if "labels" in rec and "bins" in rec and len(rec["labels"]) != len(rec["bins"]) - 1:
                raise _profile_error(
                    file, lines.get(("mapping", kind, "recode", i)),
                    _("recode of '{col}': {b} bins make {n} ranges but {m} labels are given"
                      ).format(col=rec["column"], b=len(rec["bins"]), n=len(rec["bins"]) - 1,
                               m=len(rec["labels"])),
                    _("give one label per range (number of bins minus one)"))
        for name, expr in ((rules or {}).get("derive") or {}).items():
            _check_expression_syntax(expr, file, lines.get(("mapping", kind, "derive", name)))
        for i, expr in enumerate((rules or {}).get("filter") or []):
            _check_expression_syntax(expr, file, lines.get(("mapping", kind, "filter", i)))


def _check_kinds(data: dict[str, Any], lines: dict[YamlPath, int], file: Path) -> None:
    """Factor kinds and derived terms: a modifiable covariate needs a reference and a sector;
    a derived term uses only covariates listed before it; declaring a marker (sex, age,
    ethnicity, rurality, female headship) modifiable is allowed but warned about."""
    import warnings

    from clrisk.schema import NON_MODIFIABLE

    seen: list[str] = []
    for i, c in enumerate(data.get("covariates") or []):
        line = lines.get(("covariates", i))
        kind = covariate_kind(c)
        if kind == "derived":
            expr = str(c["expression"])
            _check_expression_syntax(expr, file, lines.get(("covariates", i, "expression")))
            from clrisk.data.expressions import parse_expression

            unknown = sorted(parse_expression(expr) - set(seen))
            if unknown:
                raise _profile_error(
                    file, line,
                    _("derived term '{name}' uses {cols}, which no covariate above it "
                      "defines").format(name=c["name"], cols=", ".join(unknown)),
                    _("list the covariates it uses before it, e.g. poverty and rural before "
                      "'poverty * rural'"))
        elif kind == "modifiable":
            fac = _factor_spec(c)
            if fac.get("reference") is None or fac.get("sector") is None:
                raise _profile_error(
                    file, line,
                    _("covariate '{name}' is modifiable but has no reference value and "
                      "sector").format(name=c["name"]),
                    _("add 'factor: {{reference: <protective value>, sector: <sector>}}' or "
                      "write 'kind: marker'"))
            if c["name"] in NON_MODIFIABLE:
                warnings.warn(_(
                    "{where}: '{name}' describes who a child is (sex, age, ethnicity, rurality "
                    "or female headship) but is declared a modifiable factor; it will be "
                    "ranked and planned as a risk to reduce. Write 'kind: marker' unless a "
                    "policy really changes it").format(
                        where=f"{Path(file).name}, line {line}" if line else Path(file).name,
                        name=c["name"]), NonModifiableWarning, stacklevel=4)
        seen.append(c["name"])


def _check_expression_syntax(expr: str, file: Path, line: int | None) -> None:
    from clrisk.data.expressions import ExpressionError, parse_expression

    try:
        parse_expression(expr)
    except ExpressionError as exc:
        raise _profile_error(file, line, str(exc), exc.fix) from exc


# ---------------------------------------------------------------------------------------------
def load_profile(path: str | Path) -> Profile:
    """Read ``profile.yaml`` (or a folder holding one) into a validated :class:`Profile`."""
    path = Path(path)
    if path.is_dir():
        path = path / "profile.yaml"
    if not path.is_file():
        raise DataError(f"{path}: " + _("profile not found") + ". " + _("Fix") + ": " +
                        _("give the path of a profile.yaml, or a country folder that holds one"))
    data, lines = read_yaml_with_lines(path)
    if not isinstance(data, dict):
        raise _profile_error(path, 1, _("the profile is empty or not a mapping of keys"),
                             _("start from 'clrisk init-profile' or a sample profile"))
    for error in _schema_errors(data):
        raise _explain(error, lines, path)
    _semantic_checks(data, lines, path)
    return Profile(
        key=data["country"],
        path=path.resolve(),
        names=dict(data["names"]),
        admin_levels={k: dict(v) for k, v in data["admin_levels"].items()},
        instruments=list(data["instruments"]),
        files=dict(data["files"]),
        age_range=tuple(data.get("age_range") or (5, 17)),  # type: ignore[arg-type]
        crs=data.get("crs") or "EPSG:4326",
        projected_crs=data.get("projected_crs"),
        synthetic=bool(data.get("synthetic", False)),
        design=dict(data.get("design") or {}),
        outcome=data.get("outcome") or "child_labour",
        child_labour_definition=dict(data.get("child_labour_definition") or {}),
        covariate_specs=[dict(c) for c in data.get("covariates") or []],
        risk_levels={"method": "quantiles", "k": 3, **(data.get("risk_levels") or {})},
        ivti=dict(data.get("ivti") or {}),
        mapping=dict(data.get("mapping") or {}),
        raw=data,
        lines=lines,
    )

