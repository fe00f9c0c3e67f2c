"""Reproducibility manifest: checksums, versions, verification and run comparison."""

from __future__ import annotations

import hashlib
import json

from clrisk.reproduce import (
    build_manifest,
    compare_manifests,
    input_files,
    package_versions,
    read_manifest,
    reproducible_environment,
    sha256_file,
    verify_manifest,
    write_manifest,
)


def test_sha256_known_value(tmp_path):
    f = tmp_path / "abc.txt"
    f.write_bytes(b"abc")
    assert sha256_file(f) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 3_000_001)
    assert sha256_file(big, chunk=1000) == hashlib.sha256(b"x" * 3_000_001).hexdigest()


def test_manifest_roundtrip_verify_and_compare(tmp_path):
    data, out = tmp_path / "data", tmp_path / "out"
    data.mkdir()
    out.mkdir()
    (data / "profile.yaml").write_text("country: x\n")
    (data / "survey.csv").write_text("a,b\n1,2\n")
    (out / "table.csv").write_text("t,p\n01,0.1\n")
    (out / "maps").mkdir()
    (out / "maps" / "map.svg").write_text("<svg/>")
    inputs = input_files(data, {"survey": "survey.csv", "census": "missing.parquet"})
    assert [p.name for p in inputs] == ["profile.yaml", "survey.csv"]
    m = build_manifest(inputs, [out], input_root=data, output_root=out,
                       parameters={"country": "x"})
    assert set(m["outputs"]) == {"table.csv", "maps/map.svg"}
    assert m["inputs"]["survey.csv"] == sha256_file(data / "survey.csv")
    assert m["versions"]["numpy"] != "not installed"
    path = write_manifest(m, tmp_path / "manifest.json")
    assert read_manifest(path) == json.loads(json.dumps(m))
    again = build_manifest(inputs, [out], input_root=data, output_root=out,
                           parameters={"country": "x"})
    write_manifest(again, tmp_path / "manifest2.json")
    assert path.read_bytes() == (tmp_path / "manifest2.json").read_bytes()
    assert verify_manifest(m, data, out)["identical"].all()
    (out / "table.csv").write_text("t,p\n01,0.2\n")
    check = verify_manifest(m, data, out)
    assert check.set_index("file").loc["table.csv", "identical"] == False  # noqa: E712
    changed = build_manifest(inputs, [out], input_root=data, output_root=out)
    cmp = compare_manifests(m, changed).set_index("file")
    assert not cmp.loc["table.csv", "identical"] and cmp.loc["survey.csv", "identical"]


def test_versions_include_python_and_flag_missing():
    v = package_versions(["numpy", "surely-not-a-package-xyz"])
    assert v["python"].count(".") == 2
    assert v["surely-not-a-package-xyz"] == "not installed"


def test_geopackage_bytes_are_identical_inside_reproducible_environment(tmp_path, monkeypatch):
    import os
    import time

    import geopandas as gpd
    from shapely.geometry import Point

    monkeypatch.delenv("OGR_CURRENT_DATE", raising=False)
    gdf = gpd.GeoDataFrame({"territory_id": ["01", "02"]}, geometry=[Point(0, 0), Point(1, 1)],
                           crs="EPSG:4326")
    with reproducible_environment():
        gdf.to_file(tmp_path / "a.gpkg", driver="GPKG", layer="t")
        time.sleep(1.1)  # GDAL's timestamp has one-second resolution
        gdf.to_file(tmp_path / "b.gpkg", driver="GPKG", layer="t")
    assert sha256_file(tmp_path / "a.gpkg") == sha256_file(tmp_path / "b.gpkg")
    assert "OGR_CURRENT_DATE" not in os.environ  # restored
