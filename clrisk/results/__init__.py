"""Everything about writing a run's results: files, report, folder safety, manifest.

Why a package: ``clrisk.pipeline`` computes; this package decides how results reach the disk
(atomic files, whole-folder swap, lock, provenance manifest). Other areas add writers here.
"""

from clrisk.results.folder import ResultsFolder, check_not_input
from clrisk.results.report import _write_report, sector_name
from clrisk.results.write import (
    _fallback_map,
    _map,
    _write_gpkg,
    coefficient_table,
    input_roots,
    write_files,
    write_outputs,
)


def preflight(data: object) -> list[str]:
    """Raise the first problem ``clrisk check`` would report for ``data`` (shared validation);
    return the notes ``check`` shows as warnings (survey-vs-census harmonisation).

    Why here: ``clrisk run`` must refuse exactly what ``clrisk check`` refuses, before
    anything is computed or written (see :mod:`clrisk.data.semantic_checks`).
    """
    from clrisk.data.semantic_checks import harmonisation_notes, raise_first, run_checks

    raise_first(run_checks(data))
    return harmonisation_notes(data)


__all__ = ["ResultsFolder", "_fallback_map", "_map", "_write_gpkg", "_write_report",
           "check_not_input", "coefficient_table", "input_roots", "preflight", "sector_name",
           "write_files", "write_outputs"]
