"""Writing a run's tables, GeoPackage and maps into a results folder.

Why a separate module: computing (``clrisk.pipeline.run_country``) and writing are different
jobs; everything about how results reach the disk (atomic files, the folder swap, the manifest)
lives in :mod:`clrisk.results`, so the computation can change without touching file safety.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from clrisk.i18n import _, get_language
from clrisk.io import atomic_path, write_csv, write_json
from clrisk.reproduce import reproducible_environment
from clrisk.results.report import _write_report
from clrisk.schema import NAME, REGION_ID, TERRITORY_ID


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


def write_outputs(result: Any, data: Any, out_dir: str | Path, *, lang: str | None = None,
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
