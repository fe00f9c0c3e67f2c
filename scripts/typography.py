"""Typography of the Spanish and French catalogs, fixed at the source (issue 15).

Why a script: Sphinx's smart-quotes transform curls straight quotes by language, but it sees
each text node separately, so an apostrophe just before markup (``l'**IVTI**``, ``d'`code```)
ends a node and is curled as a French closing quote: "l”IVTI". Writing the typographic
characters in the catalogs themselves leaves smart quotes nothing to guess. The script:

* French: apostrophe ' -> ’; "..." -> « ... » with no-break spaces;
* Spanish: "..." -> «...»; an opening » -> «;
* both: a no-break space before % (as the tables print "12,3 %"), decimal commas in prose.

Only ``msgstr`` text outside code spans, maths, links' targets, HTML tags and placeholders is
touched. Run ``python scripts/typography.py [--check] [files...]``; ``--check`` lists what
would change and exits 1 (used by tests/test_terminology.py).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBSP = "\u00a0"
# spans never touched: code, maths, role/link targets, HTML tags, placeholders, URLs, DOIs
_PROTECT = re.compile(r"`[^`]*`|\$\$.*?\$\$|\$[^$]*\$|\]\([^)]*\)|<[^>\n]*>|\{[^{}\s]*\}"
                      r"|https?://\S+|doi:\S+|\{\{[^}]*\}\}", re.S)
_LETTER = "A-Za-zÀ-ÖØ-öø-ÿŒœ"
_FR_APOS = re.compile(rf"(?<=[{_LETTER}])'(?=[{_LETTER}0-9*_\[«])")
_DQUOTE = re.compile(r'"([^"\n]{1,200}?)"')
_PERCENT = re.compile(r"(?<=\d) ?%")
# a decimal number written with a point, not part of a version, code, section or SDG target
_DECIMAL = re.compile(r"(?<![\w.,/-])(\d+)\.(\d+)(?![\w.]|\.\d)")
_KEEP_DECIMAL_BEFORE = re.compile(r"(meta|cible|target|objetivo|ODS|ODD|SDG|Python|versión|"
                                  r"version|capítulo|chapitre|sección|section)\s*$", re.I)


def _fix_text(text: str, lang: str, package: bool = False) -> str:
    if lang == "fr":
        text = _FR_APOS.sub("’", text)
    if package:  # CLI/error messages: only the apostrophe (see fix_file)
        return text
    if lang == "fr":
        text = _DQUOTE.sub(lambda m: f"«{NBSP}{m.group(1).strip()}{NBSP}»", text)
        text = re.sub(r"« +", f"«{NBSP}", text)
        text = re.sub(r" +»", f"{NBSP}»", text)
    else:
        text = _DQUOTE.sub(lambda m: f"«{m.group(1).strip()}»", text)
        text = re.sub(rf"(^|[\s(])»(?=[{_LETTER}0-9*])", r"\1«", text)
    text = _PERCENT.sub(NBSP + "%", text)

    def decimal(m: re.Match[str]) -> str:
        if _KEEP_DECIMAL_BEFORE.search(text[:m.start()]):
            return m.group(0)
        return f"{m.group(1)},{m.group(2)}"

    return _DECIMAL.sub(decimal, text)


def fix_string(s: str, lang: str, package: bool = False) -> str:
    """``s`` with the language's typography, protected spans unchanged."""
    if "\\" in s or s.lstrip().startswith("$$"):  # LaTeX blocks: leave alone
        return s
    if lang == "fr":  # an apostrophe just before a role or code span: l'{term}`...`, d'`x`
        s = re.sub(rf"(?<=[{_LETTER}])'(?=[{{`])", "’", s)
    out, pos = [], 0
    for m in _PROTECT.finditer(s):
        out.append(_fix_text(s[pos:m.start()], lang, package))
        out.append(m.group(0))
        pos = m.end()
    out.append(_fix_text(s[pos:], lang, package))
    return "".join(out)


def _unescape(seg: str) -> str:
    out, i = [], 0
    while i < len(seg):
        if seg[i] == "\\" and i + 1 < len(seg):
            out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(seg[i + 1], seg[i + 1]))
            i += 2
        else:
            out.append(seg[i])
            i += 1
    return "".join(out)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")


def _new_index(opcodes: list[tuple[str, int, int, int, int]], i: int) -> int:
    """Position in the new string of position ``i`` of the old one."""
    for _op, a1, a2, b1, b2 in opcodes:
        if a1 <= i < a2 or (i == a2 and a1 == a2):
            return b1 + min(i - a1, b2 - b1)
    return opcodes[-1][4] if opcodes else i


def fix_file(path: Path, write: bool = True, package: bool | None = None
             ) -> list[tuple[str, str]]:
    """Fix one catalog in place, line by line (the file keeps its wrapping, so the diff shows
    only the characters that changed); return (old, new) msgstr pairs that changed.

    In the package catalogs (CLI and error messages) only French apostrophes are fixed: their
    quotes and decimal points are often values a user types (``decimal: ","``).
    """
    import difflib

    lang = "fr" if "/fr/" in path.as_posix() else "es"
    if package is None:
        package = "/clrisk/locales/" in path.as_posix()
    lines = path.read_text(encoding="utf-8").split("\n")
    changed: list[tuple[str, str]] = []
    i = 0
    in_header = True
    while i < len(lines):
        line = lines[i]
        if line.startswith("msgid "):
            in_header = line == 'msgid ""' and (i + 1 >= len(lines) or
                                                 not lines[i + 1].startswith('"'))
        if not line.startswith("msgstr "):
            i += 1
            continue
        start = i
        segs = [line[len("msgstr "):]]
        i += 1
        while i < len(lines) and lines[i].startswith('"'):
            segs.append(lines[i])
            i += 1
        if in_header:
            continue
        parts = [_unescape(sg[1:-1]) for sg in segs]
        old = "".join(parts)
        new = fix_string(old, lang, package=package)
        if new == old:
            continue
        changed.append((old, new))
        ops = difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
        bounds, pos = [], 0
        for part in parts[:-1]:
            pos += len(part)
            bounds.append(_new_index(ops, pos))
        cuts = [0] + bounds + [len(new)]
        pieces = [new[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
        out = ['msgstr "' + _escape(pieces[0]) + '"'] + ['"' + _escape(pc) + '"' for pc in pieces[1:]]
        lines[start:i] = out
        i = start + len(out)
    if changed and write:
        path.write_text("\n".join(lines), encoding="utf-8")
    return changed


def catalogs() -> list[Path]:
    """Every Spanish and French catalog of the book and the package."""
    found = []
    for base in (ROOT / "book" / "locales", ROOT / "clrisk" / "locales"):
        for lang in ("es", "fr"):
            found += sorted((base / lang).rglob("*.po"))
    return found


def main(argv: list[str]) -> int:
    check = "--check" in argv
    files = [Path(a) for a in argv if not a.startswith("--")] or catalogs()
    total = 0
    for f in files:
        changes = fix_file(f, write=not check)
        total += len(changes)
        for old, new in changes:
            print(f"{f.relative_to(ROOT) if f.is_absolute() else f}:\n  - {old[:160]}\n"
                  f"  + {new[:160]}")
    return 1 if check and total else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
