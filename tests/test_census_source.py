"""One census source: the same blocks (sums) whether the census is a DataFrame, a Parquet file
streamed by rows, or its pattern table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clrisk.errors import DataError
from clrisk.phase1.census_source import CensusSource, design_matrix, resolve_census


def _census(n: int = 5000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"territory_id": rng.choice(["b", "a", "c", "d"], n),
                         "x1": rng.integers(0, 2, n).astype(float),
                         "x2": rng.integers(0, 5, n).astype(float)})


def _sums(src: CensusSource) -> np.ndarray:
    out = np.zeros((len(src.territory_ids), 3))
    for b in src.blocks():
        Xd = design_matrix(None, b.X)
        np.add.at(out, b.territory_codes, Xd * b.weights[:, None])
    return out


@pytest.mark.parametrize("method", ["patterns", "rows"])
def test_blocks_match_raw_sums(tmp_path, method):
    c = _census()
    path = tmp_path / "c.parquet"
    c.to_parquet(path)
    want = c.assign(one=1.0).groupby("territory_id")[["one", "x1", "x2"]].sum().to_numpy()
    for census in (c, path):
        src = resolve_census(census, ["x1", "x2"], method=method, batch_size=700)
        assert src.method == method
        assert list(src.territory_ids) == ["a", "b", "c", "d"]
        assert np.allclose(src.children, want[:, 0])
        assert np.allclose(_sums(src), want)
    assert resolve_census(src, ["x1", "x2"]) is src


def test_pattern_blocks_cost_cells_not_children():
    c = _census(20000)
    src = resolve_census(c, ["x1", "x2"], method="patterns")
    assert src.n_cells <= 4 * 2 * 5 < len(c)
    assert sum(len(b.weights) for b in src.blocks()) == src.n_cells


def test_missing_column_is_a_data_error():
    with pytest.raises(DataError, match="x3"):
        resolve_census(_census(), ["x1", "x3"])
