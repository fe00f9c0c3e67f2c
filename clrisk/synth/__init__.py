"""Synthetic samples for the nine countries (placeholder docstring, expanded below)."""

from __future__ import annotations

from clrisk.synth.build import DEFAULT_SEED, SyntheticCountry, simulate_country, write_country
from clrisk.synth.countries import COUNTRIES, COUNTRY_KEYS, CountryParams
from clrisk.synth.dgp import SIGMA_U, iter_census_batches, simulate_census, write_large_census

__all__ = [
    "COUNTRIES", "COUNTRY_KEYS", "DEFAULT_SEED", "SIGMA_U", "CountryParams", "SyntheticCountry",
    "iter_census_batches", "simulate_census", "simulate_country", "write_country",
    "write_large_census",
]
