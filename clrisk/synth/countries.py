"""National parameters of the nine synthetic samples.

Why one table: every number that makes a sample "look like" its country (territory count,
rural share, approximate child-labour prevalence, coordinates, code format, language) sits
here, so the book page can cite it and a reviewer can change it in one place. Figures are
orders of magnitude inspired by published national surveys (ILO/ECLAC country reports,
roughly 2010-2019), not estimates: the data are synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The population (and therefore outcome) model shares one coefficient vector across countries;
# each country perturbs it slightly (see dgp.country_beta) so samples are not clones.
BASE_BETA: dict[str, float] = {
    "age": 0.17,
    "female": -0.45,
    "indigenous": 0.50,
    "head_schooling": -0.08,
    "female_head": 0.20,
    "household_size": 0.06,
    "n_children": 0.12,
    "poverty": 0.60,
    "social_programme": -0.30,
    "adult_unemployed": 0.30,
    "rural": 0.90,
    "school_attendance": -0.80,
    "health_insurance": -0.25,
}

CORE_COVARIATES: tuple[str, ...] = (
    "age", "female", "indigenous", "head_schooling", "female_head", "household_size",
    "n_children", "poverty", "social_programme", "adult_unemployed", "rural",
)


@dataclass(frozen=True)
class CountryParams:
    """Everything the generator needs to know about one country.

    The outline is the real one (:mod:`clrisk.synth.outlines`); ``cities`` are the real
    coordinates of the main city and two others, around which territories are small and many.
    ``region_codes`` are the (real) first-level codes used to build national-style ids.
    ``census_households`` (None = full count) turns the census into a weighted census sample
    of that many households per territory, as statistics offices publish for large countries.
    """

    key: str
    names: dict[str, str]
    region_level: dict[str, str]
    territory_level: dict[str, str]
    n_territories: int
    region_codes: tuple[str, ...]
    id_style: str  # how territory ids are built, see geography.territory_ids
    rural_share: float
    prevalence: float
    indigenous_share: float
    poverty_share: float
    cities: tuple[tuple[float, float], ...]  # lon, lat of the main city and two others
    language: str  # es | pt | en: synthetic names and institution names
    projected_crs: str
    min_working_age: int
    instruments: tuple[str, ...] = ("risk_model", "ivti")
    extra_covariates: tuple[str, ...] = ()
    children_per_territory: tuple[int, int] = (200, 800)
    # Approximate number of children interviewed. Why these sizes: the real national surveys
    # of Brazil, Colombia, Mexico and Peru interview tens of thousands of households a year
    # (Brazil's PNAD Contínua over 200,000 a quarter), so 36,000-54,000 children (about
    # 20,000-28,000 households) is still on the small side there. Until round 6 these four
    # samples held 12,000-18,000 children, about one surveyed PSU per surveyed territory: the
    # territory variance sigma_u was then not identified (measured: sigma_u-hat 0.36-0.56
    # for a true 0.25, intervals covering 98-99.6%). At the realistic size many more
    # territories hold two or more surveyed PSUs (Peru: 643 instead of 60) and sigma_u is
    # recovered where they are many (Peru, Colombia: sigma_u-hat 0.27-0.28). Argentina, Chile
    # and Guatemala keep their sizes: their surveys are already 5-7% of the (scaled-down)
    # synthetic population.
    survey_children: int = 10_000
    census_households: int | None = None  # households per territory in the census sample
    mean_territory_risk: float | None = None  # calibrate to this unweighted territory mean
    households_per_psu: int = 10
    risk_levels: dict[str, object] = field(default_factory=lambda: {"method": "quantiles", "k": 3})
    singleton_stratum: bool = False

    @property
    def covariates(self) -> tuple[str, ...]:
        if "risk_model" not in self.instruments:
            return ()
        return CORE_COVARIATES + self.extra_covariates

    @property
    def center(self) -> tuple[float, float]:
        """(lon, lat) of the main city."""
        return self.cities[0]

    @property
    def n_regions(self) -> int:
        return len(self.region_codes)


def _codes(values: list[int], width: int = 2) -> tuple[str, ...]:
    return tuple(f"{v:0{width}d}" for v in values)


COUNTRIES: dict[str, CountryParams] = {
    c.key: c
    for c in (
        CountryParams(
            key="argentina",
            names={"en": "Argentina", "es": "Argentina", "fr": "Argentine"},
            region_level={"en": "Province", "es": "Provincia", "fr": "Province"},
            territory_level={"en": "Department", "es": "Departamento", "fr": "Département"},
            n_territories=511,
            region_codes=_codes([2, 6, 10, 14, 18, 22, 26, 30, 34, 38, 42, 46, 50, 54, 58, 62,
                                 66, 70, 74, 78, 82, 86, 90, 94]),
            id_style="prov2_dep3_step7",
            rural_share=0.09, prevalence=0.07, indigenous_share=0.04, poverty_share=0.22,
            cities=((-58.38, -34.60), (-64.18, -31.42), (-60.65, -32.95)),
            language="es", projected_crs="EPSG:32720", min_working_age=16,
            survey_children=12_000, mean_territory_risk=0.0654,
        ),
        CountryParams(
            key="brazil",
            names={"en": "Brazil", "es": "Brasil", "fr": "Brésil"},
            region_level={"en": "State", "es": "Estado", "fr": "État"},
            territory_level={"en": "Municipality", "es": "Municipio", "fr": "Municipalité"},
            n_territories=5570,
            region_codes=_codes([11, 12, 13, 14, 15, 16, 17, 21, 22, 23, 24, 25, 26, 27, 28,
                                 29, 31, 32, 33, 35, 41, 42, 43, 50, 51, 52, 53]),
            id_style="uf2_mun4_check1",
            rural_share=0.15, prevalence=0.05, indigenous_share=0.08, poverty_share=0.25,
            cities=((-46.63, -23.55), (-43.20, -22.91), (-38.50, -12.97)),
            language="pt", projected_crs="EPSG:5880", min_working_age=16,
            extra_covariates=("school_attendance",),
            children_per_territory=(120, 600),
            survey_children=54_000, census_households=30,
            risk_levels={"method": "quantiles", "k": 4},
        ),
        CountryParams(
            key="chile",
            names={"en": "Chile", "es": "Chile", "fr": "Chili"},
            region_level={"en": "Region", "es": "Región", "fr": "Région"},
            territory_level={"en": "Commune", "es": "Comuna", "fr": "Commune"},
            n_territories=345,
            region_codes=_codes(list(range(1, 17))),
            id_style="reg2_prov1_com2",
            rural_share=0.12, prevalence=0.05, indigenous_share=0.10, poverty_share=0.14,
            cities=((-70.65, -33.45), (-71.62, -33.05), (-73.05, -36.82)),
            language="es", projected_crs="EPSG:32719", min_working_age=15,
            survey_children=9_000, singleton_stratum=True,
        ),
        CountryParams(
            key="colombia",
            names={"en": "Colombia", "es": "Colombia", "fr": "Colombie"},
            region_level={"en": "Department", "es": "Departamento", "fr": "Département"},
            territory_level={"en": "Municipality", "es": "Municipio", "fr": "Municipalité"},
            n_territories=1120,
            region_codes=_codes([5, 8, 11, 13, 15, 17, 18, 19, 20, 23, 25, 27, 41, 44, 47, 50,
                                 52, 54, 63, 66, 68, 70, 73, 76, 81, 85, 86]),
            id_style="dep2_mun3",
            rural_share=0.23, prevalence=0.07, indigenous_share=0.12, poverty_share=0.27,
            cities=((-74.07, 4.71), (-75.57, 6.25), (-76.53, 3.45)),
            language="es", projected_crs="EPSG:9377", min_working_age=15,
            survey_children=36_000, census_households=60,
        ),
        CountryParams(
            key="costa_rica",
            names={"en": "Costa Rica", "es": "Costa Rica", "fr": "Costa Rica"},
            region_level={"en": "Province", "es": "Provincia", "fr": "Province"},
            territory_level={"en": "Canton", "es": "Cantón", "fr": "Canton"},
            n_territories=81,
            region_codes=tuple(str(i) for i in range(1, 8)),
            id_style="prov1_can2",
            rural_share=0.27, prevalence=0.04, indigenous_share=0.05, poverty_share=0.20,
            cities=((-84.09, 9.93), (-84.21, 10.02), (-83.92, 9.86)),
            language="es", projected_crs="EPSG:5367", min_working_age=15,
            instruments=("ivti",),
        ),
        CountryParams(
            key="guatemala",
            names={"en": "Guatemala", "es": "Guatemala", "fr": "Guatemala"},
            region_level={"en": "Department", "es": "Departamento", "fr": "Département"},
            territory_level={"en": "Municipality", "es": "Municipio", "fr": "Municipalité"},
            n_territories=340,
            region_codes=_codes(list(range(1, 23))),
            id_style="dep2_mun2",
            rural_share=0.48, prevalence=0.15, indigenous_share=0.42, poverty_share=0.55,
            cities=((-90.51, 14.63), (-91.52, 14.84), (-90.78, 14.30)),
            language="es", projected_crs="EPSG:32615", min_working_age=14,
            survey_children=12_000,
        ),
        CountryParams(
            key="jamaica",
            names={"en": "Jamaica", "es": "Jamaica", "fr": "Jamaïque"},
            region_level={"en": "County", "es": "Condado", "fr": "Comté"},
            territory_level={"en": "Parish", "es": "Parroquia", "fr": "Paroisse"},
            n_territories=14,
            region_codes=("1", "2", "3"),
            id_style="cty1_par2",
            rural_share=0.45, prevalence=0.04, indigenous_share=0.0, poverty_share=0.18,
            cities=((-76.79, 17.99), (-77.92, 18.47), (-76.96, 17.99)),
            language="en", projected_crs="EPSG:3448", min_working_age=15,
            instruments=("ivti",),
            risk_levels={"method": "fisher_jenks", "k": 3},
        ),
        CountryParams(
            key="mexico",
            names={"en": "Mexico", "es": "México", "fr": "Mexique"},
            region_level={"en": "State", "es": "Estado", "fr": "État"},
            territory_level={"en": "Municipality", "es": "Municipio", "fr": "Municipalité"},
            n_territories=2450,
            region_codes=_codes(list(range(1, 33))),
            id_style="ent2_mun3",
            rural_share=0.22, prevalence=0.08, indigenous_share=0.15, poverty_share=0.40,
            cities=((-99.13, 19.43), (-103.35, 20.67), (-100.31, 25.67)),
            language="es", projected_crs="EPSG:6372", min_working_age=15,
            extra_covariates=("health_insurance",),
            children_per_territory=(150, 650),
            survey_children=45_000, census_households=40,
        ),
        CountryParams(
            key="peru",
            names={"en": "Peru", "es": "Perú", "fr": "Pérou"},
            region_level={"en": "Department", "es": "Departamento", "fr": "Département"},
            territory_level={"en": "District", "es": "Distrito", "fr": "District"},
            n_territories=1870,
            region_codes=_codes(list(range(1, 26))),
            id_style="ubigeo6",
            rural_share=0.35, prevalence=0.20, indigenous_share=0.25, poverty_share=0.35,
            cities=((-77.04, -12.05), (-71.54, -16.40), (-79.03, -8.11)),
            language="es", projected_crs="EPSG:32718", min_working_age=14,
            extra_covariates=("school_attendance",),
            children_per_territory=(150, 650),
            survey_children=45_000, census_households=50,
        ),
    )
}

COUNTRY_KEYS: tuple[str, ...] = tuple(sorted(COUNTRIES))
