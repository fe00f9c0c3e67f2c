"""Write the finite-population-correction datasets R ``svydesign(fpc=)`` is run on.

Derived deterministically from ``design.csv`` (see ``make_design.py``), so the stored R numbers
depend only on that file and on the rules below:

* ``design_fpc.csv`` — every row of ``design.csv`` plus
  ``child_id`` (unique id, for the stratified *element* design),
  ``fpc_psu`` — the stratum's population number of PSUs: ``n_h`` for stratum ``S01`` (sampled
  in full, a self-representing stratum whose variance contribution is 0) and ``n_h + 3·h``
  for stratum ``h`` otherwise,
  ``fpc_frac`` — the same as a sampling fraction ``n_h / fpc_psu`` (R's other convention),
  ``fpc_elem`` — the stratum's population number of children, ``(1 + h)·m_h`` for ``m_h``
  surveyed children (sampling fraction 1/(1 + h)).
* ``design_df0.csv`` — PSUs ``1`` and ``2`` of strata ``S01``–``S04`` only: 8 PSUs in 4 strata
  leave 4 design degrees of freedom for 6 coefficients, so R's residual df is 4 + 1 − 6 = −1
  (p-values and intervals not defined).

Run: ``.venv/bin/python tests/r_reference/make_fpc_design.py``, then
``Rscript tests/r_reference/svyglm_fpc_reference.R``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent


def make() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fpc dataset and the zero-df dataset, as DataFrames."""
    base = pd.read_csv(HERE / "design.csv", dtype={"stratum": str, "psu": str, "region_id": str})
    h = base["stratum"].str[1:].astype(int)
    n_h = base.groupby("stratum")["psu"].transform("nunique")
    m_h = base.groupby("stratum")["psu"].transform("size")
    fpc = base.assign(child_id=[f"c{i:05d}" for i in range(1, len(base) + 1)])
    fpc["fpc_psu"] = (n_h + 3 * h).where(base["stratum"] != "S01", n_h).astype(int)
    fpc["fpc_frac"] = (n_h / fpc["fpc_psu"]).round(12)
    fpc["fpc_elem"] = ((1 + h) * m_h).astype(int)
    small = base[base["stratum"].isin(["S01", "S02", "S03", "S04"])
                 & base["psu"].isin(["1", "2"])].reset_index(drop=True)
    return fpc, small


if __name__ == "__main__":
    fpc, small = make()
    fpc.to_csv(HERE / "design_fpc.csv", index=False, lineterminator="\n")
    small.to_csv(HERE / "design_df0.csv", index=False, lineterminator="\n")
    print(len(fpc), len(small))
