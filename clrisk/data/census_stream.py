"""Large national-format censuses: map them batch by batch into a canonical Parquet cache.

Why: a full census (millions of children) must not be loaded in memory, and the scoring engine
streams a *canonical* Parquet file (``CountryData.census_path``). A national census in Stata,
SPSS or Parquet with its own names is therefore read in batches, each batch goes through the
profile's mapping rules and the checks, and the result is appended to a Parquet file in a cache
folder (``$CLRISK_CACHE`` or ``~/.cache/clrisk``), keyed by the input file and the rules so a
changed file or profile is never served stale. The input file is only read.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from clrisk.errors import DataError
from clrisk.i18n import _
from clrisk.io import atomic_path

BATCH_ROWS = 500_000


def cache_dir() -> Path:
    """The user's clrisk cache (``$CLRISK_CACHE`` or ``~/.cache/clrisk``): derived files only,
    never inputs, so deleting it is always safe."""
    return Path(os.environ.get("CLRISK_CACHE") or Path.home() / ".cache" / "clrisk")


def table_rows(path: Path) -> int | None:
    """Row count from the file's metadata (Parquet, Stata, SPSS); None for CSV (unknown)."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        from clrisk.data.readers import parquet_rows

        return parquet_rows(path)
    if suffix in (".dta", ".sav", ".zsav"):
        import pyreadstat

        reader = pyreadstat.read_dta if suffix == ".dta" else pyreadstat.read_sav
        try:
            _df, meta = reader(str(path), metadataonly=True)
        except Exception as exc:
            from clrisk.data.readers import _corrupt

            raise _corrupt(path, exc) from exc
        return int(meta.number_rows) if meta.number_rows is not None else None
    return None


def iter_batches(path: Path, batch_rows: int = BATCH_ROWS
                 ) -> Iterator[tuple[pd.DataFrame, dict[str, dict[Any, str]]]]:
    """(batch, value labels) with the index set to the 0-based file row."""
    suffix = path.suffix.lower()
    offset = 0
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
            df = batch.to_pandas()
            df.index = range(offset, offset + len(df))
            offset += len(df)
            yield df, {}
        return
    import pyreadstat

    from clrisk.data.readers import _label_key

    reader = pyreadstat.read_dta if suffix == ".dta" else pyreadstat.read_sav
    for df, meta in pyreadstat.read_file_in_chunks(reader, str(path), chunksize=batch_rows):
        df.index = range(offset, offset + len(df))
        offset += len(df)
        labels = {c: {_label_key(k): str(v) for k, v in ls.items()}
                  for c, ls in (meta.variable_value_labels or {}).items()}
        yield df, labels


def _cache_file(path: Path, rules: dict[str, Any], key: str) -> Path:
    st = path.stat()
    blob = json.dumps({"file": str(path.resolve()), "size": st.st_size, "mtime": st.st_mtime_ns,
                       "rules": rules}, sort_keys=True, default=str)
    digest = hashlib.sha256(blob.encode()).hexdigest()[:16]
    return cache_dir() / f"{key}-census-{digest}.parquet"


def map_census_to_cache(profile: Any, path: Path, report: Any,
                        batch_rows: int = BATCH_ROWS) -> tuple[Path, set[str]] | None:
    """Map + check a large census in batches; return the canonical Parquet and its ids."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from clrisk.data import validate as V
    from clrisk.data.country import ID_COLUMNS, _canonical_columns, _string_columns
    from clrisk.data.mapping import apply_mapping, code_text, mapped_outputs

    rules = profile.table_mapping("census")
    target = _cache_file(path, {"rules": rules, "design": profile.design,
                                "covariates": profile.covariates}, profile.key)
    if target.is_file():
        ids = set(pq.read_table(target, columns=["territory_id"]).column(0).to_pylist())
        report.note(_("census mapped earlier into {f} (cache reused)").format(f=target))
        return target, ids
    ids: set[str] = set()
    n_in = n_out = 0
    strings = _string_columns(profile, "census")
    writer = None
    try:
        with atomic_path(target) as tmp:
            for chunk, labels in iter_batches(path, batch_rows):
                n_in += len(chunk)
                for col in strings:
                    if col in chunk.columns and not pd.api.types.is_object_dtype(chunk[col]):
                        chunk[col] = code_text(chunk[col])
                df, _notes = apply_mapping(chunk, rules, path, "census", labels,
                                           design=profile.design, outcome=profile.outcome,
                                           profile_where=profile.where("mapping", "census"))
                df = df[_canonical_columns(profile, "census", df, mapped_outputs(rules))]
                for col in ID_COLUMNS:
                    if col in df.columns:
                        df[col] = code_text(df[col])
                first = n_out == 0
                if first and report.fail(V.missing_columns(df, ["territory_id"], path, "census")):
                    return None
                covs = [c for c in profile.covariates if c in df.columns]
                if report.fail(V.numeric(df, covs, path, "census")) or report.fail(
                        V.ages(df, profile.age_range, path)):
                    return None
                V.integral_to_int(df, [c for c in df.columns if c not in ID_COLUMNS])
                ids |= set(df["territory_id"].dropna())
                n_out += len(df)
                table = pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table.cast(writer.schema))
            if writer is not None:
                writer.close()
                writer = None
    except DataError as exc:
        report.fail(exc)
        return None
    finally:
        if writer is not None:
            writer.close()
    report.note(_("census has {n} rows: mapped in batches into {f} ({m} rows kept), not loaded "
                  "in memory").format(n=n_in, f=target, m=n_out))
    report.ok(_("census: {n} children in {t} territories (checked in batches)").format(
        n=n_out, t=len(ids)))
    return target, ids
