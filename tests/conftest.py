"""Fixtures shared by the command-line suites (safety, semantic checks, verify, translations).

Why here: those suites each need a small canonical country they may damage (a fresh copy per
test, made from one template per module) and English messages restored around every test;
one definition keeps the four suites from drifting apart.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clrisk.i18n import set_language


@pytest.fixture(scope="module")
def toy_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy country written once per module (never modified by a test)."""
    from clrisk.data.toy import write_toy_country

    folder = tmp_path_factory.mktemp("toy_template") / "toy"
    write_toy_country(folder)
    return folder


@pytest.fixture
def toy(toy_template: Path, tmp_path: Path) -> Path:
    """A private copy of the toy country for one test."""
    dst = tmp_path / "toy"
    shutil.copytree(toy_template, dst)
    return dst


@pytest.fixture
def english_messages():
    """English before and after the test, whatever language the test switches to."""
    set_language("en")
    yield
    set_language("en")
