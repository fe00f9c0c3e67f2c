"""Synthetic samples for the nine countries: a documented data-generating process (DGP).

Why synthetic data with a known truth: every estimator in clrisk (weighted logit with design
SEs, census scoring, risk levels, factor weights, IVTI) can be checked against the true
coefficients and true territory probabilities that produced the data, and the book can run end
to end for nine countries without any confidential microdata. All files are written by
``python -m clrisk.synth --all`` (seed 2017) and are byte-identical on regeneration.

The process, in the order it is drawn (Λ is the logistic function, B a Bernoulli draw,
std() standardisation to mean 0 and sd 1; every constant below is in the code):

1. **Geography** (:mod:`clrisk.synth.geography`). The country's real outline (Natural Earth
   1:50m, vendored by :mod:`clrisk.synth.outlines`). T seed points (T = the number of units the
   country publishes at, 14 to 5,570): 25 % around the main city, 2 × 10 % around two other real
   cities, the rest uniform, with a minimum spacing. Territories are the Voronoi cells of the
   seeds clipped to the outline (every inner boundary is synthetic); regions are k-means
   clusters of the seeds, repaired so each region is contiguous. Codes follow the national
   style (Peru ubigeo ``150101``, Brazil IBGE 7 digits with check digit, Mexico INEGI
   ``07101``, ...); names are generated from syllables of the country's language.
2. **Territories.** Urbanity s_t = std(−0.7 std(log area_t) − 0.3 std(distance to capital)).
   Children N*_t = lo + (hi − lo) Λ(0.9 s_t + ε_t), ε_t ~ N(0, 0.7²), with (lo, hi) = (200, 800)
   (smaller for Brazil, Mexico, Peru: ``children_per_territory``). Rural share ρ_t = Λ(a_ρ − 1.6 s_t + e_t), e_t ~ N(0, 0.6²), a_ρ solved
   so the N*-weighted mean equals the national share of rural households. Deprivation
   z_t = std(0.8 std(−1.6 s_t + e_t) + g_r + η_t) with a regional component g_r ~ N(0, 0.6²).
   Indigenous share ι_t = Λ(a_ι + 0.8 z_t + h_r), h_r ~ N(0, 1), a_ι solved to the national
   share. Territory random effect **u_t ~ N(0, σ_u²), σ_u = 0.25**, independent of all else.
3. **Households** (H_t = ⌈N*_t / 2.05⌉ per territory, :func:`dgp.draw_households`):
   rural ~ B(ρ_t); indigenous ~ B(Λ(logit ι_t + 0.5 rural));
   head_schooling = clip(round(N(10.5 − 3 rural − 2 indigenous − 1.2 z_t, 3.2²)), 0, 17);
   female_head ~ B(Λ(−0.95 − 0.2 rural));
   n_children (aged 5–17) = min(1 + Poisson(0.8 + 0.35 rural + 0.25 indigenous
   + 0.05 (9 − head_schooling)), 8); household_size = min(n_children
   + Poisson(0.3 + 0.2 rural) + 1 + B(0.8 (1 − 0.6 female_head)) + Poisson(0.35), 20);
   poverty ~ B(Λ(a_π + 0.8 rural + 0.6 indigenous − 0.22 (head_schooling − 9)
   + 0.35 (n_children − 2) + 0.8 z_t)), a_π solved to the national poverty rate;
   social_programme ~ B(Λ(−2.6 + 2.6 poverty + 0.5 rural + 0.3 indigenous)) (targeted);
   adult_unemployed ~ B(Λ(−2.4 + 0.7 poverty − 0.2 rural + 0.3 female_head));
   health_insurance ~ B(Λ(0.9 − 0.7 poverty − 0.4 rural + 0.12 (head_schooling − 9)
   + 0.4 social_programme)).
4. **Children** (all n_children of each household share its covariates): age ~ U{5, …, 17},
   female ~ B(0.49), school_attendance ~ B(Λ(3.6 − 0.45 max(age − 11, 0)
   + 0.12 (head_schooling − 9) − 0.6 poverty − 0.4 rural)).
5. **Outcome.** child_labour_i ~ B(Λ(β_0 + x_i'β + u_t + v_s)), x = the country's covariates,
   v_s the effect of the child's survey segment (PSU), v_s ~ N(0, 0.9²) centred within each
   territory × area (:func:`design.segment_effects`): intra-PSU correlation, design effects of
   the prevalence 1.5–3. β_k = round(β_k^base · exp(N(0, 0.15²)), 3) (signs =
   ``schema.COVARIATES`` expected signs, base values in ``countries.BASE_BETA``); β_0 (rounded
   to 4 decimals) is solved so that the population mean of the probabilities equals the
   national prevalence target (Argentina: the unweighted mean over territories equals the
   published mean territory risk, 6.54 %).
6. **Truth.** p_t = population mean of the true probabilities. ``truth.json`` ``coefficients``
   is the census parameter (logit of p on x over the whole population: what a design-based fit
   estimates); the generating ones are ``dgp_coefficients``.
7. **Census**: the full population (territory_id + covariates), or, for Brazil, Colombia,
   Mexico and Peru, a weighted census sample of ``census_households`` households per territory
   (``weight`` = households / sampled).
8. **Survey** (:mod:`clrisk.synth.design`), a two-stage sample of the same population:
   strata h = region × area; PSUs = segments of ≈ 12 consecutive households within a
   territory × area; stage 1 draws segments by systematic PPS on a stale size measure with
   rural oversampling; stage 2 draws min(10, M_i) households by simple random sampling; all
   their children are interviewed; the sampling fraction targets ``survey_children``.
   weight = 1/π. Every stratum has ≥ 2 PSUs except one deliberate singleton stratum in Chile.
9. **Administrative records** (:mod:`clrisk.synth.admin`): lagged, noisy census aggregates
   and indicators driven by the territory's deprivation z_t and rural share — never by the
   outcome or the true probabilities. Services: eight generic programmes.

Costa Rica and Jamaica use the vulnerability-index route (``instruments: [ivti]``): no survey
or census is published, only richer administrative records (12 indicators).

Public functions: :func:`simulate_country` (in-memory frames), :func:`write_country`,
:func:`simulate_census` / :func:`write_large_census` (benchmark-scale census streamed to
Parquet in constant memory). See ``book/synthetic_data.md`` for the same text with formulas.
"""

from __future__ import annotations

from clrisk.synth.build import DEFAULT_SEED, SyntheticCountry, simulate_country, write_country
from clrisk.synth.countries import COUNTRIES, COUNTRY_KEYS, CountryParams
from clrisk.synth.dgp import SIGMA_U, iter_census_batches, simulate_census, write_large_census

__all__ = [
    "COUNTRIES", "COUNTRY_KEYS", "DEFAULT_SEED", "SIGMA_U", "CountryParams", "SyntheticCountry",
    "iter_census_batches", "simulate_census", "simulate_country", "write_country",
    "write_large_census",
]
