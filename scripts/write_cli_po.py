"""Write clrisk/locales/{es,fr}/LC_MESSAGES/cli.po from a table of translations (one-off helper).

Why a script: the CLI domain is generated from one reviewed table so es and fr never drift.
Usage: python scripts/write_cli_po.py TABLE.py   (TABLE.py defines T = {msgid: (es, fr)}).
Existing entries of cli.po are kept unless the table gives a new translation.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]


def main(table: str) -> None:
    T = runpy.run_path(table)["T"]
    for i, lang in enumerate(("es", "fr")):
        path = ROOT / "clrisk" / "locales" / lang / "LC_MESSAGES" / "cli.po"
        old = {}
        if path.is_file():
            with path.open("rb") as fh:
                old = {str(m.id): str(m.string) for m in read_po(fh) if m.id}
        cat = Catalog(locale=lang, domain="cli", project="clrisk", charset="utf-8")
        merged = {**old, **{k: v[i] for k, v in T.items()}}
        for msgid in sorted(merged):
            cat.add(msgid, merged[msgid])
        with path.open("wb") as fh:
            write_po(fh, cat, width=100, omit_header=False, sort_output=True)


if __name__ == "__main__":
    main(sys.argv[1])
