"""Write the fixed design datasets that R ``survey::svyglm`` is run on (reference numbers).

Data-generating process (documented because the stored R numbers depend on it):

* 8 strata ``S01``..``S08``; stratum h has 3 + (h mod 4) PSUs labelled ``1..m_h`` — the same
  label recurs across strata, so PSU ids are *nested* within strata (``nest=TRUE`` in R).
* Each PSU has 12–40 children; ``rural`` is a PSU-level 0/1 (probability 0.4); each PSU lies
  in one of three regions ``R1``..``R3`` drawn at random (regions cut across strata: domains).
* Child covariates: ``age`` uniform integer 5–17; ``female`` Bernoulli(0.49); ``poverty``
  Bernoulli(0.25 + 0.3·rural); ``head_schooling`` = clip(N(9 − 3·poverty, 3), 0, 18) rounded.
* Weights: stratum base factor 20·(1 + h) times a lognormal(0, 0.5) child factor — unequal.
* Outcome: logit P = −4 + 0.18·age − 0.3·female + 0.8·poverty − 0.08·head_schooling + 0.6·rural
  + u_psu, u_psu ~ N(0, 0.5²) (clustered, so design SEs differ from naive ones).
* ``design_singleton.csv``: the same rows plus two strata (``S09``, ``S10``) with a single PSU
  each, to check the lonely-PSU policies.

Run: ``.venv/bin/python tests/r_reference/make_design.py`` (seed fixed; output deterministic),
then ``Rscript tests/r_reference/svyglm_reference.R``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
BETA = {"const": -4.0, "age": 0.18, "female": -0.3, "poverty": 0.8, "head_schooling": -0.08,
        "rural": 0.6}
COVARIATES = ["age", "female", "poverty", "head_schooling", "rural"]


def _stratum(rng: np.random.Generator, h: int, n_psu: int) -> pd.DataFrame:
    frames = []
    for j in range(1, n_psu + 1):
        m = int(rng.integers(12, 41))
        rural = float(rng.random() < 0.4)
        region = f"R{int(rng.integers(1, 4))}"
        u = rng.normal(0.0, 0.5)
        age = rng.integers(5, 18, m).astype(float)
        female = (rng.random(m) < 0.49).astype(float)
        poverty = (rng.random(m) < 0.25 + 0.3 * rural).astype(float)
        school = np.clip(np.round(rng.normal(9 - 3 * poverty, 3)), 0, 18)
        eta = (BETA["const"] + BETA["age"] * age + BETA["female"] * female
               + BETA["poverty"] * poverty + BETA["head_schooling"] * school
               + BETA["rural"] * rural + u)
        y = (rng.random(m) < 1 / (1 + np.exp(-eta))).astype(int)
        w = np.round(20 * (1 + h) * rng.lognormal(0, 0.5, m), 4)
        frames.append(pd.DataFrame({"stratum": f"S{h:02d}", "psu": str(j), "region_id": region,
                                    "weight": w,
                                    "child_labour": y, "age": age, "female": female,
                                    "poverty": poverty, "head_schooling": school,
                                    "rural": rural}))
    return pd.concat(frames, ignore_index=True)


def make(seed: int = 20261124) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    base = pd.concat([_stratum(rng, h, 3 + h % 4) for h in range(1, 9)], ignore_index=True)
    extra = pd.concat([_stratum(rng, h, 1) for h in (9, 10)], ignore_index=True)
    return base, pd.concat([base, extra], ignore_index=True)


if __name__ == "__main__":
    base, single = make()
    base.to_csv(HERE / "design.csv", index=False, lineterminator="\n")
    single.to_csv(HERE / "design_singleton.csv", index=False, lineterminator="\n")
    print(len(base), base["child_labour"].mean(), len(single))
