"""The run's ``report.md``: a short translated summary of what the run found and wrote.

Why its own module: the report is the one human-readable output; keeping it apart from the
table writers lets its wording change without touching file handling.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clrisk.i18n import _


def sector_name(sector: str | None) -> str:
    """Translated display name of a sector (education, social protection, labour, health)."""
    names = {"education": _("Education"), "social_protection": _("Social protection"),
             "labour": _("Labour"), "health": _("Health")}
    return names.get(str(sector), str(sector)) if sector else ""


def _write_report(result: Any, profile: Any, path: Path, lang: str) -> Path:
    from clrisk.io import atomic_write

    lines = [f"# {_('Child labour risk identification')} — {profile.name(lang)}", ""]
    if getattr(profile, "synthetic", False):
        lines += [_("These results come from synthetic sample data, not from real surveys."), ""]
    if result.territories is not None:
        t = result.territories
        k = int(t["risk_level"].max())
        lines += [f"## {_('Territories by risk level')}", "",
                  f"| {_('Risk level')} | {_('Territories')} | {_('Children')} | "
                  f"{_('Expected children in child labour')} |", "|---|---:|---:|---:|"]
        for lev in range(1, k + 1):
            g = t[t["risk_level"] == lev]
            label = g["risk_label"].iloc[0] if len(g) else str(lev)
            lines.append(f"| {label} | {len(g)} | {g['children'].sum():.0f} | "
                         f"{g['expected_children'].sum():.0f} |")
        lines.append("")
    if result.national_factors is not None:
        lines += [f"## {_('National ranking of factors')}", "",
                  f"| {_('Rank')} | {_('Factor')} | {_('Sector')} | "
                  f"{_('Children represented')} |", "|---:|---|---|---:|"]
        for r in result.national_factors.itertuples():
            lines.append(f"| {r.rank} | {profile.label(r.factor, lang)} | "
                         f"{sector_name(r.sector)} | {r.children:.0f} |")
        lines.append("")
    if result.ivti is not None:
        lines += [f"## {_('Vulnerability index (IVTI)')}", "",
                  _("Territories per level") + ": " + ", ".join(
                      f"{lab} {n}" for lab, n in result.ivti.groupby(
                          "risk_level")["risk_label"].agg(["first", "size"]).itertuples(
                          index=False)), ""]
    lines += [f"## {_('Files')}", ""] + [f"- `{p.name}`" for p in result.files
                                         if p.name != path.name] + [""]
    with atomic_write(path) as fh:
        fh.write("\n".join(lines))
    return path
