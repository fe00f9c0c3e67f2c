# Two commands do all set-up on a fresh machine: `make book` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
COUNTRY ?= peru
# Sites for several countries, linked by a country switcher: make site COUNTRIES="peru mexico"
COUNTRIES ?= $(COUNTRY)
BOOK_LANG ?= en
JOBS ?= 2
# The book's own tooling (book/_tooling/clrisk_book) is not part of the clrisk package.
BOOK := PYTHONPATH=book/_tooling $(BIN)/python -m clrisk_book

.PHONY: venv book site test lint bench samples clean browser-check gettext language-check validate validate-bootstrap handouts

# The stamp is rebuilt whenever the pinned requirements or the package metadata change.
$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

venv: $(VENV)/.installed

## Execute every chapter for COUNTRY (papermill) and build the site in BOOK_LANG.
book: venv
	$(BOOK) --country $(COUNTRY) --lang $(BOOK_LANG) --jobs $(JOBS)

## All three sites: _build/html/{en,es,fr}/ (other COUNTRIES: _build/html/<country>/{en,es,fr}/)
site: venv
	$(BOOK) --country $(COUNTRIES) --lang en es fr --jobs $(JOBS)

lint: venv
	$(BIN)/ruff check .

test: venv
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(JOBS) -q --durations=15

bench: venv
	$(BIN)/python benchmarks/run_all.py

## Replicate study of the territory estimators (issue 12), 50 fresh populations x Guatemala and Peru,
## then 10 x the other five survey countries: writes benchmarks/results/sae_replicates.json
## and sae_replicates_countries.json (read by the validation chapter).
validate: venv
	$(BIN)/python benchmarks/sae_replicates.py --replicates 50 --countries guatemala peru
	$(BIN)/python benchmarks/sae_replicates.py --replicates 10 \
		--countries argentina brazil chile colombia mexico \
		--out benchmarks/results/sae_replicates_countries.json

## The bootstrap-MSE rows of the replicate study (B = 100, 10 populations; each population
## refits the model B times: about 5 minutes per Peru population on one core).
validate-bootstrap: venv
	$(BIN)/python benchmarks/sae_replicates.py --replicates 10 --countries chile guatemala peru \
		--mse bootstrap --bootstrap-B 100 --out benchmarks/results/sae_replicates_bootstrap.json

## Regenerate data_samples/ from clrisk.synth (deterministic).
samples: venv
	$(BIN)/python -m clrisk.synth --all
	$(BIN)/python -m clrisk.phase2.examples --all

clean:
	rm -rf _build

## Serve _build/html, open pages in headless Chromium, screenshots + link/image checks.
browser-check: venv
	$(BIN)/python scripts/browser_check.py
	$(BIN)/python scripts/quiz_screenshots.py

## Language check of the built es/fr pages; findings in _build/language_check.txt.
language-check: venv
	$(BIN)/python scripts/language_check.py

## Extract prose messages and update book/locales/{es,fr} catalogs (sphinx-intl).
gettext: venv
	$(BOOK) gettext

## Printable handouts (map, levels, factors, warnings + exercise sheet) per country x language:
## _build/handouts/<lang>/<country>.pdf, printed by headless Chromium (scripts/build_handouts.py).
handouts: venv
	$(BIN)/python scripts/build_handouts.py
