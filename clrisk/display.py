"""Show a figure in a chapter with alt text and a caption (issue 15 item 4).

Why a helper: a figure on the site needs alt text that says what it shows (screen readers,
broken images) and a caption that is page text — translatable and searchable — instead of a
title baked into the PNG. ``show_figure`` renders the figure to PNG and attaches ``alt`` and
``caption`` to the image output's metadata (``{"image/png": {"alt": .., "caption": ..}}``).
Jupyter shows the image as usual; the book's tooling turns such outputs into real figures
(``<img alt>`` + ``<figcaption>``). Chapters pass strings already translated with ``_()``.
"""

from __future__ import annotations

import io
from typing import Any

FIGURE_DPI = 110


def take_title(fig: Any) -> str | None:
    """Remove the figure's suptitle (or, failing that, its single axes' centre title) and
    return its text, so it can become the caption instead of pixels in the image."""
    sup = getattr(fig, "_suptitle", None)
    if sup is not None and sup.get_text().strip():
        text = sup.get_text().strip()
        sup.set_text("")
        return text
    axes = list(getattr(fig, "axes", []))
    if len(axes) == 1 and axes[0].get_title("center").strip():
        text = axes[0].get_title("center").strip()
        axes[0].set_title("", loc="center")
        return text
    return None


def figure_png(fig: Any, dpi: int = FIGURE_DPI) -> bytes:
    """PNG bytes of ``fig``; fixed metadata so identical figures give identical bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight",
                metadata={"Software": "clrisk"})
    return buffer.getvalue()


def show_figure(fig: Any, alt: str, caption: str | None = None, *, title_as_caption: bool = True,
                close: bool = True, dpi: int = FIGURE_DPI) -> None:
    """Display ``fig`` with ``alt`` text and a ``caption``.

    ``alt`` says what the figure shows (e.g. "Bar chart: odds ratio of each factor with its
    95% interval; poverty highest"). Without ``caption``, the figure's title is taken out of
    the image and used as the caption (``title_as_caption``). The figure is closed afterwards
    so it is not displayed a second time.
    """
    from IPython.display import Image, display

    if not alt or not alt.strip():
        raise ValueError("show_figure needs alt text that says what the figure shows")
    taken = take_title(fig) if title_as_caption else None
    caption = caption if caption is not None else taken
    metadata = {"alt": " ".join(alt.split())}
    if caption:
        metadata["caption"] = caption.strip()
    display(Image(data=figure_png(fig, dpi), format="png", metadata=metadata))
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
