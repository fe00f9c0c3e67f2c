"""Readers for the file formats national statistics offices publish.

Why one reader per format with the same return shape: tables come back as a DataFrame whose index
is the 0-based data row of the file (so messages can cite 1-based rows), identifiers as strings,
and any value labels (Stata/SPSS) in a side dictionary, whatever the format. CSVs from
Latin-American offices arrive in latin-1/cp1252, with ``;`` separators and decimal commas: we
detect those rather than guess wrong silently, and we never write to the input file.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from clrisk.errors import DataError, data_error
from clrisk.i18n import _

TABLE_SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet",
                  ".pq": "parquet", ".dta": "stata", ".sav": "spss", ".zsav": "spss"}
GEO_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp")
ENCODINGS = ("utf-8", "cp1252", "latin-1")

_DECIMAL_COMMA = re.compile(r"^\s*-?\d+,\d+\s*$")
_NUMBER_COMMA_OR_DOT = re.compile(r"^\s*-?\d+([.,]\d+)?\s*$")


@dataclass
class Table:
    """A table read from disk: data plus what we learnt about the file while reading it."""

    data: pd.DataFrame
    path: Path
    value_labels: dict[str, dict[Any, str]] = field(default_factory=dict)
    column_labels: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    encoding: str | None = None
    sep: str | None = None
    decimal_comma_columns: list[str] = field(default_factory=list)


def _check_not_empty(path: Path) -> None:
    if not path.is_file():
        raise data_error(path, _("file not found ({path})").format(path=path),
                         _("check the file name under 'files:' in the profile (paths are "
                           "relative to the profile's folder)"))
    if path.stat().st_size == 0:
        raise data_error(path, _("the file is empty (0 bytes)"),
                         _("export the table again; the copy may have been interrupted"))


# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------
def detect_encoding(raw: bytes, path: Path, declared: str | None = None) -> str:
    """UTF-8 (with or without BOM) when it decodes, else cp1252, else latin-1.

    A declared encoding that does not decode is an error (with the line of the first bad byte)
    rather than a silent fallback: the profile said something that is not true of the file.
    """
    if declared:
        try:
            raw.decode(declared)
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            guess = detect_encoding(raw, path)
            raise data_error(
                path,
                _("the profile says encoding {enc} but byte {pos} (line {line}) is not valid "
                  "{enc}; the file looks like {guess}").format(
                    enc=declared, pos=exc.start, line=line, guess=guess),
                _("set encoding: {guess} for this file in the profile, or remove 'encoding' "
                  "to detect it").format(guess=guess)) from exc
        return declared
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    for enc in ENCODINGS:
        try:
            raw.decode(enc)
        except UnicodeDecodeError:
            continue
        return enc
    return "latin-1"  # decodes anything


def detect_separator(sample: str) -> str:
    """``,``, ``;``, tab or ``|`` from the header and first lines (csv.Sniffer, then counts)."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
        return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def read_csv(path: Path, string_columns: Iterable[str] = (), decimal: str | None = None,
             sep: str | None = None, encoding: str | None = None) -> Table:
    """Read a CSV with every column as text first, then convert numbers deliberately.

    Identifiers in ``string_columns`` stay text (leading zeros kept). A column whose values are
    all numbers with a decimal comma is converted when the profile says ``decimal: ","`` or the
    separator is ``;``/tab (the convention where the comma is the decimal mark); otherwise it is
    kept as text so validation can point at it.
    """
    _check_not_empty(path)
    raw = path.read_bytes()
    enc = detect_encoding(raw, path, encoding)
    text = raw.decode(enc)
    if not text.strip():
        raise data_error(path, _("the file holds only blank space"),
                         _("export the table again"))
    sep = sep or detect_separator(text[:20000])
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=True,
                         skipinitialspace=True)
    except pd.errors.ParserError as exc:
        raise data_error(path, _("the CSV could not be parsed ({err})").format(err=exc),
                         _("check that every line has the same number of separators "
                           "and that quotes are closed")) from exc
    df.columns = [str(c).strip() for c in df.columns]
    if len(df.columns) == 1:
        other = [d for d in (",", ";", "\t", "|") if d != sep and d in str(df.columns[0])]
        if other:
            shown = "tab" if other[0] == "\t" else other[0]
            raise data_error(path, _("only one column was found; the header contains '{o}', "
                                     "so the separator is probably '{o}'").format(o=shown),
                             _("set sep: '{o}' for this file in the profile (or remove 'sep' "
                               "to detect it)").format(o=shown))
    table = Table(df, path, encoding=enc, sep=sep)
    if enc not in ("utf-8", "utf-8-sig"):
        table.notes.append(_("read {name} as {enc}").format(name=path.name, enc=enc))
    strings = set(string_columns)
    comma_ok = decimal == "," or (decimal is None and sep in (";", "\t"))
    for col in df.columns:
        if col in strings:
            df[col] = df[col].str.strip().astype(object)
            continue
        values = df[col].dropna().str.strip()
        if values.empty:
            df[col] = pd.to_numeric(df[col], errors="coerce")
            continue
        numeric = pd.to_numeric(values, errors="coerce")
        if numeric.notna().all():
            df[col] = pd.to_numeric(df[col].str.strip(), errors="coerce")
        elif comma_ok and values.str.match(_NUMBER_COMMA_OR_DOT).all() and (
                values.str.contains(",", regex=False).any()):
            df[col] = pd.to_numeric(df[col].str.strip().str.replace(",", ".", regex=False),
                                    errors="coerce")
            table.decimal_comma_columns.append(col)
        else:
            df[col] = df[col].astype(object)
    if table.decimal_comma_columns:
        table.notes.append(_("decimal commas converted in {name}: {cols}").format(
            name=path.name, cols=", ".join(table.decimal_comma_columns)))
    return table


# ---------------------------------------------------------------------------------------------
# Parquet, Stata, SPSS
# ---------------------------------------------------------------------------------------------
def parquet_rows(path: Path) -> int:
    """Number of rows from the Parquet footer (no data read); DataError if corrupt."""
    import pyarrow.parquet as pq

    _check_not_empty(path)
    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except Exception as exc:  # pyarrow raises ArrowInvalid / OSError for bad footers
        raise _corrupt(path, exc) from exc


def _corrupt(path: Path, exc: Exception) -> DataError:
    return data_error(path, _("the file is truncated or corrupt ({err})").format(err=exc),
                      _("copy or export the file again and compare its size with the original"))


def read_parquet(path: Path, string_columns: Iterable[str] = (),
                 columns: list[str] | None = None) -> Table:
    _check_not_empty(path)
    try:
        df = pd.read_parquet(path, columns=columns)
    except Exception as exc:
        raise _corrupt(path, exc) from exc
    _ids_as_text(df, string_columns)
    return Table(df.reset_index(drop=True), path)


def _ids_as_text(df: pd.DataFrame, string_columns: Iterable[str]) -> None:
    for col in string_columns:
        if col in df.columns and not pd.api.types.is_object_dtype(df[col]):
            df[col] = _as_id_text(df[col])


def _as_id_text(s: pd.Series) -> pd.Series:
    """Numbers read from a binary format as ids: 150101.0 -> "150101"; missing stays missing."""
    if pd.api.types.is_float_dtype(s) and (s.dropna() == s.dropna().round()).all():
        out = s.map(lambda v: None if pd.isna(v) else str(int(v)))
    else:
        out = s.map(lambda v: None if pd.isna(v) else str(v))
    return out.astype(object)


def read_labelled(path: Path, kind: str, string_columns: Iterable[str] = ()) -> Table:
    """Stata .dta / SPSS .sav with codes kept as numbers and value labels kept aside.

    Why keep codes: recodes in the profile are written over the national codes (``1: 0, 2: 1``),
    and the labels let a message say "code 9 ('No sabe') has no mapping".
    """
    import pyreadstat

    _check_not_empty(path)
    reader = pyreadstat.read_dta if kind == "stata" else pyreadstat.read_sav
    try:
        df, meta = reader(str(path), apply_value_formats=False)
    except Exception as exc:
        raise _corrupt(path, exc) from exc
    _ids_as_text(df, string_columns)
    labels = {}
    for col, labelset in (meta.variable_value_labels or {}).items():
        labels[col] = {_label_key(k): str(v) for k, v in labelset.items()}
    col_labels = {c: lab for c, lab in zip(meta.column_names, meta.column_labels, strict=False)
                  if lab}
    return Table(df, path, value_labels=labels, column_labels=col_labels)


def _label_key(k: Any) -> Any:
    if isinstance(k, float) and k.is_integer():
        return int(k)
    return k


def read_table(path: Path, string_columns: Iterable[str] = (), options: dict | None = None
               ) -> Table:
    """Dispatch on the file suffix (csv/txt/tsv, parquet, dta, sav)."""
    options = options or {}
    kind = TABLE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise data_error(path, _("unsupported table format '{suffix}'").format(
            suffix=path.suffix), _("use .csv, .parquet, .dta (Stata) or .sav (SPSS)"))
    if kind == "csv":
        return read_csv(path, string_columns, decimal=options.get("decimal"),
                        sep=options.get("sep"), encoding=options.get("encoding"))
    if kind == "parquet":
        return read_parquet(path, string_columns)
    return read_labelled(path, kind, string_columns)


# ---------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------
def read_geo(path: Path, string_columns: Iterable[str] = (), layer: str | None = None,
             target_crs: str = "EPSG:4326") -> Table:
    """GeoJSON / GeoPackage / Shapefile; reprojected to ``target_crs`` (noted), never guessed.

    A file without a CRS is an error: guessing degrees vs metres silently misplaces every map.
    """
    import geopandas as gpd

    _check_not_empty(path)
    if path.suffix.lower() not in GEO_SUFFIXES:
        raise data_error(path, _("unsupported geometry format '{suffix}'").format(
            suffix=path.suffix), _("use .geojson, .gpkg or .shp"))
    try:
        gdf = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as exc:
        raise _corrupt(path, exc) from exc
    _ids_as_text(gdf, string_columns)
    for col in string_columns:
        if col in gdf.columns:
            gdf[col] = gdf[col].map(lambda v: v.strip() if isinstance(v, str) else v)
    table = Table(gdf, path)
    gdf.attrs["source_crs"] = gdf.crs.to_string() if gdf.crs is not None else None
    if gdf.crs is None:
        hint = (_("a .prj file next to the .shp") if path.suffix.lower() == ".shp"
                else _("the file's CRS"))
        raise data_error(
            path, _("the geometry has no coordinate reference system (CRS)"),
            _("save the file with its CRS ({hint}), e.g. EPSG:4326 or the national "
              "projection").format(hint=hint))
    if gdf.crs.to_string() != target_crs and not gdf.crs.equals(target_crs):
        table.notes.append(_("territories reprojected from {src} to {dst}").format(
            src=gdf.crs.to_string(), dst=target_crs))
        table.data = gdf.to_crs(target_crs)
        table.data.attrs["source_crs"] = gdf.attrs["source_crs"]
    return table
