"""Printable handouts per country x language: `make handouts` -> _build/handouts/<lang>/<country>.pdf.

Each PDF has a two-page "how to read your country's risk map" (map, levels, top factors per
region, the three warnings) and an exercise sheet, all computed by ``clrisk.training`` from the
same results as the book.

Why headless Chromium (``--print-to-pdf``) and not WeasyPrint: Chromium is already on the
machine for the browser check (``scripts/browser_check.py``), so handouts add no Python or
system dependency; it renders the same HTML/CSS engine readers use, with the system fonts the
book already relies on, and honours ``@page`` size/margins and page breaks. WeasyPrint would add
a pip dependency plus Pango/Cairo system libraries and a second CSS engine to keep in step.

Usage: ``python scripts/build_handouts.py [--countries peru ...] [--langs en es fr] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import base64
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LANGS = ("en", "es", "fr")
_DATE = re.compile(rb"(/(?:CreationDate|ModDate) \(D:)[0-9]{14}")

CSS = """
@page { size: A4; margin: 14mm 14mm 14mm 14mm; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 10pt;
       color: #111; }
h1 { font-size: 17pt; margin: 0 0 4pt 0; }
h2 { font-size: 12.5pt; margin: 10pt 0 4pt 0; border-bottom: 1px solid #999; }
.sub { color: #444; margin: 0 0 6pt 0; }
.synthetic { border: 1.5px solid #c05a00; background: #fff3e6; padding: 4pt 6pt;
             margin: 4pt 0; font-size: 9pt; }
img.map { display: block; width: 100%; max-height: 165mm; object-fit: contain; }
table { border-collapse: collapse; width: 100%; margin: 3pt 0; font-size: 9pt; }
th, td { border: 1px solid #bbb; padding: 2pt 4pt; text-align: left; vertical-align: top; }
th { background: #eef2f7; }
.warn { border-left: 4px solid #2b4c7e; padding: 2pt 8pt; margin: 4pt 0; }
.page { page-break-after: always; }
.small table { font-size: 7.5pt; } .small td, .small th { padding: 1pt 3pt; }
.q { margin: 6pt 0 2pt 0; }
.lines { border-bottom: 1px dotted #777; height: 16pt; }
"""


def _table(df) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in df.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def handout_html(country: str, lang: str) -> str:
    """The whole handout (three or more A4 pages) as one self-contained HTML document."""
    from clrisk.i18n import _, set_language
    from clrisk.tables import synthetic_note
    from clrisk.training import load_training
    from clrisk.training.handout import handout_facts

    td = load_training(country, lang=lang)
    set_language(lang)
    f = handout_facts(td)
    img = base64.b64encode(f["map_png"]).decode("ascii")
    warn = "".join(f'<div class="warn"><b>{html.escape(t)}.</b> {html.escape(x)}</div>'
                   for t, x in f["warnings"])
    synth = synthetic_note(td.profile, lang) if f["synthetic"] else ""
    synth = f'<div class="synthetic">{synth}</div>' if synth else ""
    qs = "".join(f'<p class="q"><b>{i}.</b> {html.escape(e.question)}</p>'
                 '<div class="lines"></div><div class="lines"></div>'
                 for i, e in enumerate(f["exercises"], 1))
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(f['title'])}</title>
<style>{CSS}</style></head><body>
<section class="page">
<h1>{html.escape(f['title'])}</h1>
<p class="sub">{html.escape(f['instrument'])}</p>
{synth}
<img class="map" alt="{html.escape(_('Map of risk levels'))}" src="data:image/png;base64,{img}">
<h2>{html.escape(_('Territories in each risk level'))}</h2>
{_table(f['levels'])}
</section>
<section class="page">
<h2>{html.escape(_('Three warnings'))}</h2>
{warn}
<h2>{html.escape(_('Factors that weigh most, by region'))}</h2>
<div class="small">{_table(f['regions'])}</div>
</section>
<section>
<h1>{html.escape(_('Exercise sheet: {country}').format(country=f['country']))}</h1>
<p class="sub">{html.escape(_('Answer with the map and the tables of the handout; the '
                               'solutions are in the book, under Training.'))}</p>
{qs}
</section>
</body></html>"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("headless Chromium is needed for `make handouts` (apt install chromium)")


def print_pdf(html_text: str, out: Path) -> Path:
    """Print an HTML document to PDF with headless Chromium (no header/footer, A4)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="clrisk-handout-") as tmp:
        src = Path(tmp) / "handout.html"
        src.write_text(html_text, encoding="utf-8")
        pdf = Path(tmp) / "handout.pdf"
        cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
               "--no-pdf-header-footer", f"--user-data-dir={tmp}/profile",
               f"--print-to-pdf={pdf}", src.as_uri()]
        env = dict(os.environ, TZ="UTC")
        subprocess.run(cmd, check=True, capture_output=True, timeout=180, env=env)
        if not pdf.is_file() or pdf.stat().st_size == 0:
            raise RuntimeError(f"Chromium wrote no PDF for {out}")
        # Chromium stamps the print time; a fixed date of the same length keeps the
        # cross-reference offsets valid and makes reprints byte-identical.
        data = _DATE.sub(lambda m: m.group(1) + b"20260101000000", pdf.read_bytes())
        from clrisk.io import atomic_path

        with atomic_path(out) as target:
            Path(target).write_bytes(data)
    return out


def build(countries: list[str], langs: list[str], out_dir: Path) -> list[Path]:
    written = []
    for country in countries:
        for lang in langs:
            target = out_dir / lang / f"{country}.pdf"
            print_pdf(handout_html(country, lang), target)
            print(f"wrote {target.relative_to(out_dir.parent) if out_dir.parent in target.parents else target}",
                  flush=True)
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    samples = sorted(p.name for p in (ROOT / "data_samples").glob("*")
                     if (p / "profile.yaml").is_file())
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--countries", nargs="+", default=samples)
    p.add_argument("--langs", nargs="+", default=list(LANGS), choices=list(LANGS))
    p.add_argument("--out", type=Path, default=ROOT / "_build" / "handouts")
    args = p.parse_args(argv)
    build(args.countries, args.langs, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
