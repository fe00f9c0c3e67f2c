"""Territory maps: translated legends, ordered levels, missing values, projection, files."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from clrisk import i18n
from clrisk.maps import join_results, plot_territory_map, save_figure
from clrisk.plots import level_colours


@pytest.fixture(autouse=True)
def _english_after():
    yield
    i18n.set_language("en")


def territories(n: int = 12) -> gpd.GeoDataFrame:
    geoms = [box(-75 + i % 4, -12 + i // 4, -74 + i % 4, -11 + i // 4) for i in range(n)]
    return gpd.GeoDataFrame({"territory_id": [f"{i:03d}" for i in range(n)],
                             "name": [f"T{i}" for i in range(n)]}, geometry=geoms,
                            crs="EPSG:4326")


def results(n: int = 12) -> pd.DataFrame:
    p = np.linspace(0.02, 0.3, n)
    return pd.DataFrame({"territory_id": [f"{i:03d}" for i in range(n)], "mean_probability": p,
                         "risk_level": np.repeat([1, 2, 3], n // 3), "p_top": p / 0.3,
                         "ivti": p / 0.3})


def test_level_map_legend_in_spanish_ordered_low_to_high():
    """Issue 15: the level legend names the method, each level's range (the cut-offs) and the
    P(high risk) note, in the reader's language, low to high."""
    gdf = join_results(territories(), results())
    fig = plot_territory_map(gdf, "risk_level", kind="level", lang="es", method="quantiles")
    legend = fig.axes[0].get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    names = [i18n.gettext(x, "es") for x in ("Low", "Medium", "High")]
    assert [t.split(":")[0] for t in texts[:3]] == names
    # ranges of mean probability per level, in Spanish number format (comma decimals)
    assert "2,0\u00a0%" in texts[0] and "30,0\u00a0%" in texts[2], texts
    assert texts[3].startswith("P(riesgo alto) ≥ 80\u00a0%"), texts
    assert legend.get_title().get_text() == "Nivel de riesgo (cuantiles)"
    faces = [matplotlib_hex(h.get_facecolor()) for h in legend.legend_handles[:3]]
    assert faces == level_colours(3)
    assert "Fuente" in fig._supxlabel.get_text()


def matplotlib_hex(rgba) -> str:
    import matplotlib.colors as mc

    return mc.to_hex(rgba)


def test_probability_map_colorbar_label_translated_and_missing_shown():
    res = results().iloc[1:]  # territory 000 has no result -> grey, "No data"
    gdf = join_results(territories(), res)
    assert len(gdf) == 12
    fig = plot_territory_map(gdf, "mean_probability", lang="fr", crs="EPSG:32718",
                             synthetic=True)
    cbar_ax = fig.axes[1]
    assert cbar_ax.get_ylabel() == i18n.gettext("Mean probability of child labour", "fr")
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts == [i18n.gettext("No data", "fr")]
    assert fig.axes[0].get_title(loc="right") == i18n.gettext("Synthetic data", "fr")


@pytest.mark.parametrize("kind,col", [("ivti", "ivti"), ("p_top", "p_top")])
def test_other_kinds(kind, col):
    fig = plot_territory_map(join_results(territories(), results()), col, kind=kind)
    assert len(fig.axes) == 2  # map + colour bar


def test_bad_kind_and_column():
    gdf = join_results(territories(), results())
    with pytest.raises(ValueError):
        plot_territory_map(gdf, "risk_level", kind="heat")
    with pytest.raises(KeyError):
        plot_territory_map(gdf, "nope")


def test_save_figure_png_svg_identical_twice(tmp_path):
    gdf = join_results(territories(), results())
    out = []
    for run in ("a", "b"):
        fig = plot_territory_map(gdf, "risk_level", kind="level", lang="es", title="Mapa")
        out.append(save_figure(fig, tmp_path / run / "map.png"))
    assert [p.name for p in out[0]] == ["map.png", "map.svg"]
    for a, b in zip(*out, strict=True):
        assert a.read_bytes() == b.read_bytes()
    assert not list((tmp_path / "a").glob(".*tmp"))  # no temporary file left behind


def test_administrative_map_draws_every_territory_and_region_boundaries():
    from clrisk.maps import plot_territories

    gdf = territories().assign(region_id=["A"] * 6 + ["B"] * 6)
    fig = plot_territories(gdf, lang="es", crs="EPSG:32718", synthetic=True, title="Mapa")
    ax = fig.axes[0]
    assert len(ax.collections) == 2  # filled territories + region boundaries
    assert len(ax.collections[0].get_paths()) == 12
    assert ax.get_title(loc="right") == i18n.gettext("Synthetic data", "es")
