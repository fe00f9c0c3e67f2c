"""clrisk — the executable methodology of the ILO–ECLAC Child Labour Risk Identification Model.

Public API (names fixed; chapters, the CLI and outside checks rely on them). Imports are lazy so
that ``import clrisk`` stays cheap and a module under construction never breaks the others.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_country": "clrisk.data",
    "CountryData": "clrisk.data",
    "Profile": "clrisk.profile",
    "fit_risk_model": "clrisk.phase1.model",
    "RiskModel": "clrisk.phase1.model",
    "score_territories": "clrisk.phase1.scoring",
    "classify_risk": "clrisk.phase1.classify",
    "factor_weights": "clrisk.phase1.factors",
    "vulnerability_index": "clrisk.ivti",
    "DataError": "clrisk.errors",
    "ModelError": "clrisk.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'clrisk' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
