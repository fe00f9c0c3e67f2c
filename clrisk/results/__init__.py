"""Everything about writing a run's results: files, report, folder safety, manifest.

Why a package: ``clrisk.pipeline`` computes; this package decides how results reach the disk
(atomic files, whole-folder swap, lock, provenance manifest). Other areas add writers here.
"""

from clrisk.results.report import _write_report, sector_name
from clrisk.results.write import (
    _fallback_map,
    _map,
    _write_gpkg,
    coefficient_table,
    write_outputs,
)

__all__ = ["_fallback_map", "_map", "_write_gpkg", "_write_report", "coefficient_table",
           "sector_name", "write_outputs"]
