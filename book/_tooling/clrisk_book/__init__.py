"""The book's own tooling: turns the chapter sources into the three language sites.

Why outside the ``clrisk`` package: a country team installs ``clrisk`` to run its data; the
Sphinx, papermill and Chromium machinery that builds this manual is not part of that install
(issue 15 item 8). It lives beside ``book/`` and is put on ``sys.path`` by the Makefile
(``PYTHONPATH=book/_tooling``), by ``pytest`` (``pythonpath`` in ``pyproject.toml``) and by
``scripts/``; its dependencies come from ``requirements.txt`` or ``pip install clrisk[book]``.

Why a package of small modules: execution (papermill), assembly of the Sphinx source tree, the
Sphinx/Jupyter Book build, translation catalogs and the browser check each change for different
reasons and are tested separately. ``clrisk_book.build`` is the command line that chains them
(``python -m clrisk_book``).
"""
