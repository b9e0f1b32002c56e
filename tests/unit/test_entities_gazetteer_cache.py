"""The gazetteer mapped from its cache directory gives exactly the lookups of one built from the packages."""

from __future__ import annotations

import importlib
import itertools

import numpy as np
import pytest

G = importlib.import_module("transforms.entities.gazetteer")
NAMES = ("the Russian Federation", "U.S.", "New York", "Kiev", "Moscow", "Washington", "Europe", "Pa.", "Zzz")


@pytest.fixture(scope="module")
def fresh() -> G.Gazetteer:
    return G.Gazetteer.build()


@pytest.fixture
def cache_home(tmp_path, monkeypatch, fresh):
    """An empty user cache; a build there hands out the module's one build (20 s of CPU each)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(G.Gazetteer, "build", classmethod(lambda cls: cls(fresh._a)))
    G.gazetteer.cache_clear()
    yield tmp_path
    G.gazetteer.cache_clear()


def test_second_process_maps_the_cache_and_agrees(fresh, cache_home):
    built = G.gazetteer()
    path = G.cache_path()
    assert path.parent == cache_home / "newsflow" and path.is_dir()
    G.gazetteer.cache_clear()
    cached = G.gazetteer()
    assert cached is not built and len(cached) == len(fresh)
    assert isinstance(cached._a["primary_keys"], np.memmap)  # mapped, not read into the process
    for name in NAMES:
        assert cached.candidates(name) == fresh.candidates(name), name
        assert cached.country(name) == fresh.country(name), name


def test_corrupt_cache_is_rebuilt(fresh, cache_home):
    path = G.cache_path()
    path.mkdir(parents=True)
    (path / "geonameid.npy").write_bytes(b"\x00not numpy")
    gaz = G.gazetteer()
    assert [gaz.candidates(n) for n in NAMES] == [fresh.candidates(n) for n in NAMES]


def test_other_library_version_uses_another_entry(cache_home, monkeypatch):
    before = G.cache_path()
    monkeypatch.setattr(G, "version", lambda name: "0.0-other")
    assert G.cache_path() != before


def test_entries_carry_ids_points_populations_and_codes(fresh):
    (lamar_ga,) = [p for p in fresh.candidates("Lamar County") if p.admin1 == "GA"]
    assert lamar_ga.kind == "admin2" and lamar_ga.country == "US" and lamar_ga.geonameid == 4204869
    assert lamar_ga.lat is not None and 32 < lamar_ga.lat < 34 and lamar_ga.population > 0
    (paris_tn,) = [p for p in fresh.candidates("Paris") if p.admin1 == "TN"]
    assert paris_tn.kind == "city" and paris_tn.population > 1000 and paris_tn.admin2
    assert fresh.by_code("admin2", paris_tn.county_key).name == "Henry County"
    assert fresh.by_code("admin1", paris_tn.region_key).name == "Tennessee"
    assert {p.kind for p in fresh.candidates("Georgia")} >= {"country", "admin1"}
    assert fresh.by_id(703448).name == "Kyiv" and fresh.candidates("Kiev") == [fresh.by_id(703448)]
    assert fresh.candidates("Tenn.")[0].name == "Tennessee"
    assert fresh.demonym("Russian").name == "Russia" and fresh.demonym("American").name == "United States"


def test_countries_and_divisions_carry_geonames_own_points(fresh):
    """GeoNames' points (pyowm's city list), not the Factbook's: the United States at 39.76°N 98.5°W, not 38°N
    97°W; a division with no record there sits at the mean point of its places."""
    us, canada = fresh.by_code("country", "US"), fresh.by_code("country", "CA")
    assert (us.lat, us.lon) == pytest.approx((39.76, -98.5), abs=0.01)
    assert (canada.lat, canada.lon) == pytest.approx((60.109, -113.643), abs=0.01)
    california = fresh.by_code("admin1", "US.CA")
    assert (california.lat, california.lon) == pytest.approx((37.25, -119.751), abs=0.01)
    points = G.geonames_points()
    divisions = (fresh.place(i) for i in range(len(fresh)))
    unlisted = list(
        itertools.islice(
            (p for p in divisions if p.kind == "admin2" and p.geonameid not in points and p.population), 50
        )
    )
    assert unlisted and all(p.lat is not None and p.lon is not None for p in unlisted)


def test_only_the_most_populous_namesake_of_a_capital_is_the_capital(fresh):
    (capital,) = [p for p in fresh.candidates("Washington") if p.capital]
    assert capital.admin1 == "DC"
    assert [p.country for p in fresh.candidates("Moscow") if p.capital] == ["RU"]
