"""Offline maths: render formulas to SVG at build time with matplotlib's mathtext.

Why: Sphinx's default MathJax renderer loads MathJax from a CDN, so an offline reader would see
raw TeX. mathtext (already a dependency) covers the TeX subset a methodology book uses; a few
constructs it lacks are rewritten (``\\bigl(`` → ``(``, ``\\mathcal B`` → ``\\mathcal{B}``,
``aligned`` → one image per line). A formula mathtext still cannot parse is shown as its TeX
source in ``<code>``, never dropped. SVGs go to ``_images/math/<hash>.svg`` (shared by pages,
identical across builds).
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from pathlib import Path
from typing import Any

FONT_SIZE = 12.0  # pt; the theme's body text is ~16 px
_METRICS: dict[str, tuple[float, float]] = {}  # digest -> (width, depth) in pt

_SIZED = re.compile(r"\\(?:big|Big|bigg|Bigg)[lrm]?\s*")
_MATHCAL = re.compile(r"\\mathcal\s*([A-Za-z])")
_ENV = re.compile(r"\\(?:begin|end)\{(?:aligned|align\*?|split|gathered)\}")


def tex_lines(tex: str) -> list[str]:
    """Rewrite ``tex`` into mathtext-compatible lines (one per ``\\\\`` of an aligned block)."""
    tex = _MATHCAL.sub(r"\\mathcal{\1}", _SIZED.sub("", tex))
    tex = tex.replace(r"\operatorname", r"\mathrm")
    lines = _ENV.sub("", tex).split(r"\\")
    return [" ".join(line.replace("&", " ").split()) for line in lines if line.strip()]


def render_svg(tex: str) -> tuple[bytes, float, float, float]:
    """(svg bytes, width, height, depth below the baseline; all in pt) of one line of TeX."""
    from matplotlib import mathtext  # no pyplot: the caller's backend is left alone
    from matplotlib.font_manager import FontProperties

    prop = FontProperties(size=FONT_SIZE)
    width, height, depth, _g, _r = mathtext.MathTextParser("path").parse(f"${tex}$", dpi=72,
                                                                      prop=prop)
    buffer = io.BytesIO()
    mathtext.math_to_image(f"${tex}$", buffer, prop=prop, format="svg")
    return buffer.getvalue(), float(width), float(height), float(depth)


def _images(translator: Any, tex: str) -> str | None:
    """HTML <img> tags for ``tex`` (one per line), or None when mathtext cannot parse it."""
    builder = translator.builder
    tags = []
    for line in tex_lines(tex):
        digest = hashlib.sha256(line.encode("utf-8")).hexdigest()[:20]
        target = Path(builder.outdir) / "_images" / "math" / f"{digest}.svg"
        try:
            if digest not in _METRICS or not target.is_file():
                svg, width, _height, depth = render_svg(line)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(svg)
                _METRICS[digest] = (width, depth)
            width, depth = _METRICS[digest]
        except Exception:  # mathtext lacks a construct: caller shows the TeX source
            return None
        src = f"{builder.imgpath}/math/{digest}.svg"
        em = 1 / FONT_SIZE
        tags.append(f'<img class="clrisk-math" src="{src}" alt="{html.escape(line)}" '
                    f'style="width:{width * em:.3f}em;vertical-align:{-depth * em:.3f}em">')
    return "".join(tags) if tags else None


def visit_math(translator: Any, node: Any) -> None:
    tex = node.astext()
    rendered = _images(translator, tex)
    translator.body.append(rendered or f'<code class="math">{html.escape(tex)}</code>')
    raise _skip()


def visit_displaymath(translator: Any, node: Any) -> None:
    tex = node.astext()
    rendered = _images(translator, tex)
    number = ""
    if node.get("number"):
        number = f'<span class="eqno">({node["number"]})</span>'
    body = rendered or f'<pre class="math">{html.escape(tex)}</pre>'
    translator.body.append(f'<div class="math notranslate clrisk-math-block">{number}{body}'
                           f"</div>\n")
    raise _skip()


def _skip() -> Exception:
    from docutils import nodes

    return nodes.SkipNode()


def setup(app: Any) -> None:
    """Register the renderer; select it with ``html_math_renderer: clrisk_svg``."""
    app.add_html_math_renderer("clrisk_svg", (visit_math, None), (visit_displaymath, None))
