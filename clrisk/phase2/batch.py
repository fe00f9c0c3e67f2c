"""Phase II from the command line: a ``clrisk run`` results folder + the team's worksheets ->
the five steps' tables as xlsx and markdown (``clrisk phase2``).

Why: the Phase II chapters show the steps on the sample data, but a country team works on its
own results and wants the files, not a website. This module reads the Phase I results that
``clrisk run`` wrote (``territories.csv`` + ``factor_weights.csv``, or ``ivti.csv``), finds the
country's data folder from the run's ``manifest.json`` (names, regions, services, profile
labels), runs selection -> liaison -> characterisation -> services -> intervention with the
same functions as the chapters, and writes every table in the current language. Phase I is
not recomputed, so the plan matches the published results exactly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from clrisk.errors import DataError
from clrisk.i18n import _

RESULT_FILES = ("territories.csv", "factor_weights.csv", "ivti.csv")


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"territory_id": str, "region_id": str})


def data_root(results: Path, data_dir: str | Path | None = None) -> Path:
    """The country's data folder: ``data_dir`` if given, else the ``input_root`` that the
    run's ``manifest.json`` records."""
    if data_dir is not None:
        return Path(data_dir)
    manifest = results / "manifest.json"
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
        root = Path(doc["input_root"])  # relative to the results folder since issue 14
        return root if root.is_absolute() else (results / root).resolve()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(_("{folder}: no readable manifest.json naming the data folder. Fix: "
                          "give the folder written by 'clrisk run', or name the data folder "
                          "with --data-dir").format(folder=results)) from exc


def load_results(results: str | Path, data_dir: str | Path | None = None) -> Any:
    """A :class:`clrisk.phase2.steps.Country` built from a results folder (no Phase I rerun)."""
    from types import SimpleNamespace

    from clrisk.data import load_country
    from clrisk.phase2 import inputs as ip
    from clrisk.phase2 import worksheets as ws
    from clrisk.phase2.steps import Country

    results = Path(results)
    if not any((results / f).is_file() for f in RESULT_FILES):
        raise DataError(_("{folder}: no territories.csv or ivti.csv. Fix: give the output "
                          "folder of 'clrisk run'").format(folder=results))
    data = load_country(data_root(results, data_dir))
    terr, fw = results / "territories.csv", results / "factor_weights.csv"
    if terr.is_file() and fw.is_file():
        result = SimpleNamespace(territories=_read_csv(terr), factor_weights=_read_csv(fw))
        inputs = ip._from_model(data, result)
    else:
        inputs = ip._from_ivti(data, _read_csv(results / "ivti.csv"))
    return Country(str(getattr(data, "key", "")), data, inputs, ws.worksheet_dir(data.root))


def run_phase2(country: Any, out: str | Path, *, territory: str | None = None,
               worksheets: str | Path | None = None,
               formats: tuple[str, ...] = ("xlsx", "md")) -> list[Path]:
    """Run the five steps and write one workbook (and markdown) per step into ``out``.

    ``territory``: the territory to plan for (default: the first-ranked in step 1).
    ``worksheets``: folder of the team's worksheets (default ``<data folder>/phase2``).
    """
    from clrisk.phase2 import characterisation as ch
    from clrisk.phase2 import export, steps
    from clrisk.phase2 import intervention as iv
    from clrisk.phase2 import liaison as li
    from clrisk.phase2 import selection as se
    from clrisk.phase2 import services as sv

    if worksheets is not None:
        country.folder = Path(worksheets)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = country.inputs.source == "risk_model"
    sel = steps.selection(country)
    tid = str(territory or sel.chosen)
    if tid not in set(country.inputs.territory_ids):
        raise DataError(_("territory {tid} is not in the results. Fix: give a territory_id of "
                          "territories.csv").format(tid=tid))
    lia = steps.liaison(country, tid)
    cha = steps.characterisation(country, tid)
    smap = steps.service_map(country, tid)
    plan = steps.intervention(country, tid, smap)
    books: dict[str, dict[str, pd.DataFrame]] = {
        "1_selection": {_("Candidates"): se.selection_table(sel.scored, model),
                        _("Weights"): se.weights_table(sel.weights),
                        _("Sensitivity"): se.top_choices_table(sel.top, sel.risk_weight)},
        "2_liaison": {_("Stakeholders"): li.register_table(lia.stakeholders),
                      _("Gaps"): li.gaps_table(lia.gaps)},
        "3_characterisation": {_("Facts"): ch.facts_table(cha.facts),
                               _("Comparison"): ch.comparison_table(cha.comparison, model),
                               _("Factors"): ch.factor_table(cha.factors, model)},
        "4_services": {_("Coverage"): sv.coverage_table(smap.coverage)},
    }
    written: list[Path] = []
    for stem, sheets in books.items():
        if "xlsx" in formats:
            written.append(export.export_workbook(sheets, out / f"{stem}.xlsx"))
        if "md" in formats:
            text = "\n\n".join(f"## {name}\n\n"
                               + export.markdown_table(export.localised(df))
                               for name, df in sheets.items())
            path = out / f"{stem}.md"
            from clrisk.io import atomic_write

            with atomic_write(path) as fh:
                fh.write(text + "\n")
            written.append(path)
    if "md" in formats:
        from clrisk.io import atomic_write

        path = out / "3_characterisation_profile.md"
        with atomic_write(path) as fh:
            fh.write(cha.markdown + "\n")
        written.append(path)
    for fmt in formats:
        written.append(iv.export_plan(plan, out / f"5_intervention_{tid}.{fmt}"))
    return written
