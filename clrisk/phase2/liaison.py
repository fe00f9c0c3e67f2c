"""Step 2 — institutional liaison: the stakeholder register and its gap check.

Why a gap check and not just a list: the lessons of the Mexican pilot are structural — the
municipality depended on the federation to implement, the state secretary of government was a
crucial partner, a memorandum of understanding between the municipality and the ILO gave the
liaison management capacity, and workers' and employers' organisations must take part from the
design onwards (tripartism). Each lesson becomes a check the register either passes or fails,
so the team sees what is missing before the characterisation starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from clrisk.errors import data_error
from clrisk.i18n import _
from clrisk.phase2 import worksheets as ws
from clrisk.schema import SECTORS

TYPES = ("government_national", "government_state", "government_municipal", "employers",
         "workers", "civil_society", "international")
GOVERNMENT_LEVELS = ("government_national", "government_state", "government_municipal")
AGREEMENTS = ("none", "in_negotiation", "mou_signed")
_AGREEMENT_ALIASES = {"mou": "mou_signed", "signed": "mou_signed", "negotiation": "in_negotiation",
                      "": "none"}
_TYPE_ALIASES = {"government_federal": "government_national", "national": "government_national",
                 "state": "government_state", "regional": "government_state",
                 "government_regional": "government_state", "municipal": "government_municipal",
                 "local": "government_municipal", "government_local": "government_municipal",
                 "employer": "employers", "worker": "workers", "trade_union": "workers",
                 "ngo": "civil_society"}
REQUIRED = ("name", "type", "role", "competences", "agreement", "focal_point")


def type_label(code: str) -> str:
    """Translated label of a stakeholder type code."""
    labels = {
        "government_national": _("National government"),
        "government_state": _("State or regional government"),
        "government_municipal": _("Municipal government"),
        "employers": _("Employers' organisation"),
        "workers": _("Workers' organisation"),
        "civil_society": _("Civil society"),
        "international": _("International organisation"),
    }
    return labels.get(code, code)


def agreement_label(code: str) -> str:
    labels = {"none": _("none"), "in_negotiation": _("in negotiation"),
              "mou_signed": _("MoU signed")}
    return labels.get(code, code)


def sector_label(code: str) -> str:
    """Translated label of a canonical sector code."""
    labels = {"education": _("Education"), "social_protection": _("Social protection"),
              "labour": _("Labour"), "health": _("Health")}
    return labels.get(code, code)


def read_stakeholders(path: str | Path) -> pd.DataFrame:
    """Read ``stakeholders.csv`` (one row per organisation) and normalise its codes.

    Columns: ``name``; ``type`` (one of TYPES); ``role`` (free text); ``competences``
    (``;``-separated sectors among education, social_protection, labour, health; may be blank);
    ``agreement`` (none / in_negotiation / mou_signed); ``focal_point`` (yes/no).
    """
    df = ws.read_table(path, REQUIRED)
    if df.empty:
        raise data_error(path, "no stakeholders listed", "add one row per organisation")
    blank = df["name"] == ""
    if blank.any():
        raise data_error(path, "empty name", "give each organisation a name", column="name",
                         rows=ws.rows_where(blank))
    out = pd.DataFrame({"name": df["name"]})
    out["type"] = ws.choice_column(df, "type", path, TYPES, aliases=_TYPE_ALIASES)
    out["role"] = df["role"]
    out["competences"] = ws.list_column(df, "competences", path, SECTORS, what="sector")
    out["agreement"] = ws.choice_column(df, "agreement", path, AGREEMENTS,
                                        aliases=_AGREEMENT_ALIASES)
    out["focal_point"] = ws.bool_column(df, "focal_point", path)
    return out


def register_table(stakeholders: pd.DataFrame) -> pd.DataFrame:
    """The register with translated headers and labels, ready to print."""
    return pd.DataFrame({
        _("Organisation"): stakeholders["name"],
        _("Type"): stakeholders["type"].map(type_label),
        _("Role"): stakeholders["role"],
        _("Competences"): stakeholders["competences"].map(
            lambda t: ", ".join(sector_label(s) for s in t)),
        _("Agreement"): stakeholders["agreement"].map(agreement_label),
        _("Focal point"): stakeholders["focal_point"].map(lambda b: _("yes") if b else _("no")),
    })


def liaison_gaps(stakeholders: pd.DataFrame, priority_sectors: Iterable[str] = (),
                 government_levels: Sequence[str] = GOVERNMENT_LEVELS) -> pd.DataFrame:
    """One row per check: ``check, status ('ok'|'gap'), detail, action``.

    ``priority_sectors`` are the sectors of the chosen territory's top risk factors (from
    instrument 2); each needs at least one stakeholder competent in it. ``government_levels``
    lets a unitary country drop the state level.
    """
    rows: list[dict[str, str]] = []
    types = set(stakeholders["type"])

    def add(check: str, ok: bool, detail: str, action: str) -> None:
        rows.append({"check": check, "status": "ok" if ok else "gap", "detail": detail,
                     "action": "" if ok else action})

    def names(mask: pd.Series) -> str:
        return ", ".join(stakeholders.loc[mask, "name"])

    for code, check, action in (
        ("workers", _("Workers' organisation involved"),
         _("Invite a trade union confederation to the design and evaluation from the start")),
        ("employers", _("Employers' organisation involved"),
         _("Invite the employers' organisation to the design and evaluation from the start")),
    ):
        add(check, code in types, names(stakeholders["type"] == code) or _("none listed"), action)
    for level in government_levels:
        add(_("Government level present: {level}").format(level=type_label(level)),
            level in types, names(stakeholders["type"] == level) or _("none listed"),
            _("Involve this level of government: implementation depends on vertical "
              "coordination between levels"))
    signed = stakeholders["agreement"] == "mou_signed"
    negotiating = stakeholders["agreement"] == "in_negotiation"
    detail = (names(signed) if signed.any() else
              _("in negotiation: {names}").format(names=names(negotiating)) if negotiating.any()
              else _("no agreement"))
    add(_("Formal agreement signed"), bool(signed.any()), detail,
        _("Sign a memorandum of understanding (e.g. municipality and ILO) to give the liaison "
          "management capacity"))
    focal = stakeholders["focal_point"]
    add(_("Focal point designated"), bool(focal.any()), names(focal) or _("none listed"),
        _("Designate a focal point who will carry the strategy"))
    covered = {s for t in stakeholders["competences"] for s in t}
    for sector in sorted(set(priority_sectors), key=lambda s: (SECTORS.index(s)
                                                               if s in SECTORS else 99, s)):
        competent = stakeholders["competences"].map(lambda t, s=sector: s in t)
        add(_("Competent institution for a top-factor sector: {sector}").format(
                sector=sector_label(sector)),
            sector in covered, names(competent) or _("none listed"),
            _("Bring in the institution responsible for this sector"))
    return pd.DataFrame(rows, columns=["check", "status", "detail", "action"])


def gaps_table(gaps: pd.DataFrame) -> pd.DataFrame:
    """Translated headers and status for display/export."""
    return pd.DataFrame({
        _("Check"): gaps["check"],
        _("Status"): gaps["status"].map({"ok": _("ok"), "gap": _("gap")}),
        _("Detail"): gaps["detail"],
        _("Suggested action"): gaps["action"],
    })


def type_counts(stakeholders: pd.DataFrame) -> pd.DataFrame:
    """Number of organisations per type (all types listed, zeros included) for the chart."""
    counts = stakeholders["type"].value_counts()
    return pd.DataFrame({"type": list(TYPES),
                         "label": [type_label(t) for t in TYPES],
                         "n": [int(counts.get(t, 0)) for t in TYPES]})
