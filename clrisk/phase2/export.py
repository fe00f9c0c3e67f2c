"""Atomic export of Phase II tables to CSV, Excel (openpyxl) and markdown.

Why a module: local teams want the tables in a spreadsheet they can print and annotate; every
file is written through ``clrisk.io.atomic_path`` so an interrupted export never leaves a
half-written workbook that looks complete.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from clrisk.errors import data_error
from clrisk.io import atomic_path, atomic_write, write_csv

_SHEET_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def sheet_name(name: str) -> str:
    """Excel sheet names: at most 31 characters and none of ``[]:*?/\\``."""
    return name.translate(_SHEET_FORBIDDEN).strip()[:31] or "Sheet"


def export_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write one table to ``.csv`` or ``.xlsx`` (chosen by the suffix), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return write_csv(df, path)
    if suffix == ".xlsx":
        return export_workbook({path.stem: df}, path)
    if suffix == ".md":
        with atomic_write(path) as fh:
            fh.write(markdown_table(df) + "\n")
        return path
    raise data_error(path, f"unsupported output format '{suffix}'",
                     "use a file name ending in .csv, .xlsx or .md")


def export_workbook(sheets: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write several tables as the sheets of one Excel workbook, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            used: set[str] = set()
            for name, df in sheets.items():
                sname = sheet_name(name)
                i = 2
                while sname in used:
                    sname = sheet_name(f"{name[:28]} {i}")
                    i += 1
                used.add(sname)
                df.to_excel(writer, sheet_name=sname, index=False)
                sheet = writer.sheets[sname]
                for col_cells in sheet.columns:
                    width = max(len(str(c.value)) if c.value is not None else 0
                                for c in col_cells)
                    sheet.column_dimensions[col_cells[0].column_letter].width = min(
                        max(10, width + 2), 60)
    return path


def markdown_table(df: pd.DataFrame, floatfmt: str = "{:,.2f}") -> str:
    """A GitHub/MyST pipe table without extra dependencies (``tabulate`` is not installed).

    Whole-number floats print without decimals (children counts), others with ``floatfmt``.
    """
    def cell(v: object) -> str:
        if isinstance(v, float | np.floating):
            if pd.isna(v):
                return ""
            return f"{v:,.0f}" if float(v).is_integer() else floatfmt.format(v)
        return str(v).replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(str(c) for c in df.columns) + " |"
    sep = "| " + " | ".join("---" for _ in df.columns) + " |"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([header, sep, *body])


def localised(df: pd.DataFrame, max_digits: int = 2) -> pd.DataFrame:
    """Numbers as text in the current language's style (1,234.5 / 1.234,5 / 1 234,5).

    For display only (exports keep numbers numeric). Each numeric column keeps as many decimals
    as its values need, up to ``max_digits``; missing values show as an em dash.
    """
    from clrisk.i18n import format_number

    out = df.copy()
    for col in out.columns:
        series = out[col]
        if series.dtype == bool or not pd.api.types.is_numeric_dtype(series):
            continue
        values = series.astype(float)
        finite = values[np.isfinite(values)]
        digits = 0
        for d in range(max_digits + 1):
            digits = d
            if np.allclose(finite, finite.round(d), rtol=0, atol=1e-9):
                break
        out[col] = [format_number(v, digits) if np.isfinite(v) else "—" for v in values]
    return out


def show_table(df: pd.DataFrame) -> None:
    """Display a table as HTML in a notebook with localised numbers."""
    from clrisk.tables import show

    show(localised(df))
