"""Machinery that turns the chapter sources into the three language sites.

Why a package of small modules: execution (papermill), assembly of the Sphinx source tree, the
Sphinx/Jupyter Book build, translation catalogs and the browser check each change for different
reasons and are tested separately. ``clrisk.bookbuild`` is the command line that chains them.
"""
