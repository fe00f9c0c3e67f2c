"""Loading, validating and harmonising a country's data (see ``country.load_country``).

Why a package: readers, validation checks, national mapping rules and the country loader are
separate jobs, each small enough to test on its own.
"""

from __future__ import annotations

from clrisk.data.country import CountryData, data_root, inspect_country, load_country

__all__ = ["CountryData", "data_root", "inspect_country", "load_country"]
