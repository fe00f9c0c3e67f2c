"""Writing a run's tables, GeoPackage and maps into a results folder.

Why a separate module: computing (``clrisk.pipeline.run_country``) and writing are different
jobs; everything about how results reach the disk (atomic files, the folder swap, the manifest)
lives in :mod:`clrisk.results`, so the computation can change without touching file safety.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from clrisk import io as _io
from clrisk.i18n import _, get_language
from clrisk.io import atomic_path, write_csv, write_json
from clrisk.reproduce import reproducible_environment
from clrisk.results.folder import ResultsFolder, translate_os_errors
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
    _io.before_write(path)
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


def write_outputs(result: Any, data: Any, out_dir: str | Path | ResultsFolder, *,
                  lang: str | None = None, maps: bool = True,
                  parameters: Mapping[str, Any] | None = None) -> list[Path]:
    """Write the run's files and ``manifest.json`` into ``out_dir`` as one unit.

    Everything is written into a hidden staging folder beside ``out_dir`` and swapped in at
    the end (:class:`~clrisk.results.folder.ResultsFolder`): afterwards the folder holds this
    run's files and nothing else, or — if anything failed — the previous result untouched.
    ``out_dir`` may be a :class:`ResultsFolder` the caller already holds (locked before the
    computation, as ``clrisk run`` does). Returns the final paths (manifest last).
    """
    if isinstance(out_dir, ResultsFolder):
        return _write_into(out_dir, result, data, lang=lang, maps=maps, parameters=parameters)
    with ResultsFolder(out_dir, inputs=input_roots(data)) as folder:
        return _write_into(folder, result, data, lang=lang, maps=maps, parameters=parameters)


def input_roots(data: Any) -> list[Path]:
    """Inputs an output folder must not overlap: the data folder and every input file."""
    from clrisk.results.manifest import input_paths

    return [Path(data.profile.root), *input_paths(data)]


def _write_into(folder: ResultsFolder, result: Any, data: Any, *, lang: str | None, maps: bool,
                parameters: Mapping[str, Any] | None) -> list[Path]:
    from clrisk.results.manifest import MANIFEST, build_run_manifest, run_methods

    lang = lang or get_language()
    with translate_os_errors(folder.given):
        stage = folder.staging
        written = write_files(result, data, stage, lang=lang, maps=maps)
        params = {"draws": None, "seed": None, **dict(parameters or {}), "lang": lang,
                  "maps": bool(maps)}
        manifest = build_run_manifest(data, stage, parameters=params, methods=run_methods(data),
                                      results=folder.target)
        write_json(manifest, stage / MANIFEST)
        folder.commit()
    final = [folder.target / p.name for p in written] + [folder.target / MANIFEST]
    result.files = final
    return final


def write_files(result: Any, data: Any, out: Path, *, lang: str | None = None,
                maps: bool = True) -> list[Path]:
    """Write the run's tables, GeoPackage, maps and report into the folder ``out``.

    Callers normally use :func:`write_outputs` (whole-folder atomic); this is its body, where
    new output files are added.
    """
    from clrisk.maps import join_results

    lang = lang or get_language()
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
    if getattr(result, "markers", None) is not None:  # who is at risk (instrument 2 markers)
        files.append(write_csv(result.markers, out / "markers.csv"))
    bench = getattr(getattr(result, "estimates", None), "benchmark", None)
    if bench is not None:  # profile small_area: {benchmark: national|region}: before/after
        files.append(write_csv(bench, out / "benchmark.csv"))
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
