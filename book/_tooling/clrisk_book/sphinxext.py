"""Sphinx extension loaded by ``_config.yml``: language switcher context and per-language
myst-nb output folder.

Why translated part captions: sphinx-external-toc inserts the toctrees (with the part captions
of ``_toc.yml``) after Sphinx's gettext transform has run, so the captions — which the gettext
builder does extract into the root page's catalog — would stay English in the sidebar.
``TranslateTocCaptions`` applies the same catalog right after the insertion.

Why ``clrisk_svg`` maths: see ``clrisk_book.mathsvg`` (formulas without a CDN).

Why the output folder: myst-nb writes notebook images to ``<outdir>/../jupyter_execute``, i.e.
a folder shared by the sibling sites ``_build/html/{en,es,fr}`` that are built in parallel — a
Spanish page could pick up an English figure. ``clrisk_nb_output_folder`` gives each language
its own folder outside the published site.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx import addnodes
from sphinx.transforms import SphinxTransform

from clrisk_book import mathsvg
from clrisk_book.switcher import country_links, language_links


class TranslateTocCaptions(SphinxTransform):
    """Translate toctree captions with the page's gettext catalog."""

    default_priority = 150  # after sphinx-external-toc's InsertToctrees (100)

    def apply(self, **kwargs: Any) -> None:
        from sphinx.locale import init as init_locale
        from sphinx.util.i18n import docname_to_domain

        language = self.config.language
        if not language or language == "en":
            return
        dirs = [str(Path(self.env.srcdir) / d) for d in self.config.locale_dirs]
        domain = docname_to_domain(self.env.docname, self.config.gettext_compact)
        catalog, has_catalog = init_locale(dirs, language, domain)
        if not has_catalog:
            return
        for node in self.document.findall(addnodes.toctree):
            caption = node.get("caption")
            if caption:
                node["caption"] = catalog.gettext(caption)


def _page_context(app: Any, pagename: str, templatename: str, context: dict,
                  doctree: Any) -> None:
    current = app.config.language or "en"
    context["clrisk_languages"] = language_links(pagename, current,
                                                 list(app.config.clrisk_languages))
    sites = [tuple(s) for s in app.config.clrisk_country_sites]
    context["clrisk_countries"] = (country_links(pagename, current, app.config.clrisk_country,
                                                 sites) if len(sites) > 1 else [])
    context["clrisk_country_label"] = app.config.clrisk_country_label


def _relocate_nb_output(app: Any) -> None:
    folder = app.config.clrisk_nb_output_folder
    config = getattr(app.env, "mystnb_config", None)
    if folder and config is not None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        app.env.mystnb_config = config.copy(output_folder=str(Path(folder).resolve()))


def _data_tags(app: Any, config: Any) -> None:
    """Tag ``clrisk_own_data`` when the book is built on a team's own (non-synthetic) data
    (``CLRISK_BOOK_DATA_DIR``, set by the build from ``--data-dir``): the home page's
    ``{only}`` blocks then say "your data", not "synthetic data" (issue 15 item 4)."""
    import os

    folder = os.environ.get("CLRISK_BOOK_DATA_DIR")
    if not folder:
        return
    try:
        import yaml

        doc = yaml.safe_load((Path(folder) / "profile.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, ValueError):
        doc = {}
    if not doc.get("synthetic", False):
        app.tags.add("clrisk_own_data")


def setup(app: Any) -> dict[str, Any]:
    app.add_config_value("clrisk_languages", ["en", "es", "fr"], "html")
    app.add_config_value("clrisk_nb_output_folder", "", "env")
    # Country sites of this build: [(key, label, prefix)], the current key and the switcher's
    # label (already translated by the build).
    app.add_config_value("clrisk_country_sites", [], "html")
    app.add_config_value("clrisk_country", "", "html")
    app.add_config_value("clrisk_country_label", "Country", "html")
    app.add_transform(TranslateTocCaptions)
    mathsvg.setup(app)
    app.connect("config-inited", _data_tags)
    app.connect("html-page-context", _page_context)
    app.connect("builder-inited", _relocate_nb_output, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
