"""Place benchmark: toponym recognition and GeoNames linking on GeoWebNews, scored by its own scorer.

Runs ``EntityExtractor.extract`` (the code the pipeline runs) on each of GeoWebNews's 200 news articles and
takes as toponyms the mentions of place entities (nested ones inside organisations' names included) and of
nationality words linked to their country ("Russian" → Russia), each with its GeoNames id and the
gazetteer's coordinates; a place the gazetteer lacks (a street, a venue) is mapped at the point of the place
the article puts it in (``Entity.located_in``), an approximate point with no id. ``score_geo.py`` (shipped
with the data) then prints span precision/recall at exact span, end-to-end linking accuracy (a missed span
counts as wrong) and accuracy@161 km. This script adds the share of found toponyms that got no id, a table
of where accuracy@161 km is lost (each gold toponym by its feature's kind in the gazetteer and by outcome:
right id, wrong id within 161 km, no id but located in a place within 161 km, right id with a point more
than 161 km off, wrong id, no id, span missed), and linking alone: the gold spans' names given to the linker
with the article's other gold names as context. GeoWebNews (GPL-3.0) is for measuring only: nothing is
trained or tuned on it.

    .venv/bin/python benchmarks/geo.py [--docs N] [--out predictions.jsonl]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transforms.entities import EntityExtractor  # noqa: E402
from transforms.entities.gazetteer import gazetteer  # noqa: E402
from transforms.entities.link import context_of, resolve  # noqa: E402

GWN = Path(__file__).resolve().parents[1] / ".." / "shared" / "bench" / "geo" / "geowebnews"
NO_COORD_TYPES = {"Demonym", "Homonym", "Language"}


def predict(extractor: EntityExtractor, text: str) -> tuple[list[dict], dict[tuple[int, int], str]]:
    """The toponyms ``score_geo.py`` reads, and the type of every other mention by its span (for the table
    of missed spans)."""
    gaz = gazetteer()
    out = []
    others: dict[tuple[int, int], str] = {}
    for e in extractor.extract(text, time_budget=120.0):
        if e.type != "LOC" and not (e.type == "MISC" and e.ids.geonames is not None):
            others.update({(m.start, m.end): e.type for m in e.mentions})
            continue
        # a place the gazetteer lacks is mapped at the point of the place the article puts it in
        point_id = e.ids.geonames if e.ids.geonames is not None else e.located_in
        place = gaz.by_id(point_id) if point_id is not None else None
        for m in e.mentions:
            out.append(
                {
                    "start": m.start,
                    "end": m.end,
                    "geonameid": e.ids.geonames,
                    "lat": place.lat if place else None,
                    "lon": place.lon if place else None,
                }
            )
    return out, others


OUTCOMES = (
    "right id",
    "wrong id, within 161 km",
    "located in, within 161 km",
    "right id, point off",
    "wrong id",
    "no id",
    "span missed",
)


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance, as ``score_geo.py`` computes it."""
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def breakdown(articles: list[dict], preds: list[dict]) -> dict[str, Counter]:
    """Where accuracy@161 km is lost: each gold toponym with coordinates by what its GeoNames id is in the
    gazetteer (country, admin1, admin2, city, continent; not in it; no id given) and by what became of it."""
    gaz = gazetteer()
    table: dict[str, Counter] = defaultdict(Counter)
    for a, p in zip(articles, preds, strict=True):
        found = {(t["start"], t["end"]): t for t in p["toponyms"]}
        for t in a["toponyms"]:
            if t["type"] in NO_COORD_TYPES or t.get("lat") is None:
                continue
            gold = gaz.by_id(t["geonameid"]) if t.get("geonameid") is not None else None
            kind = (
                gold.kind if gold else "not in gazetteer" if t.get("geonameid") is not None else "no id given"
            )
            guess = found.get((t["start"], t["end"]))
            if guess is None:
                outcome = "span missed"
            else:
                near = (
                    guess["lat"] is not None and km((t["lat"], t["lon"]), (guess["lat"], guess["lon"])) <= 161
                )
                if guess["geonameid"] is None:  # no id: at most the point of the place it is located in
                    outcome = "located in, within 161 km" if near else "no id"
                elif guess["geonameid"] == t.get("geonameid"):
                    outcome = "right id" if near else "right id, point off"
                else:
                    outcome = "wrong id, within 161 km" if near else "wrong id"
            table[kind][outcome] += 1
    return table


def print_breakdown(table: dict[str, Counter]) -> None:
    widths = [len(o) + 2 for o in OUTCOMES]
    print(
        "gold toponyms with coordinates, by gold feature and outcome (only 'right id' and '... within 161 km'"
        " count):"
    )
    print(f"{'':18}" + "".join(f"{o:>{w}}" for o, w in zip(OUTCOMES, widths, strict=True)) + "   total")
    total: Counter = Counter()
    for kind, row in sorted(table.items(), key=lambda kv: -kv[1].total()):
        print(
            f"{kind:18}"
            + "".join(f"{row[o]:>{w}}" for o, w in zip(OUTCOMES, widths, strict=True))
            + f"   {row.total():5}"
        )
        total.update(row)
    print(
        f"{'all':18}"
        + "".join(f"{total[o]:>{w}}" for o, w in zip(OUTCOMES, widths, strict=True))
        + f"   {total.total():5}"
    )


def missed(articles: list[dict], preds: list[dict], others: list[dict]) -> dict[str, Counter]:
    """Where the missed gold spans went: each by GeoWebNews's toponym type (Literal, Metonymic,
    Embedded_Non_Lit...) and by what extraction made of that text: a mention of another type at the exact span
    (ORG, PERSON, MISC), a mention overlapping it (a longer or shorter name), or nothing."""
    table: dict[str, Counter] = defaultdict(Counter)
    for a, p, o in zip(articles, preds, others, strict=True):
        found = {(t["start"], t["end"]) for t in p["toponyms"]}
        spans = found | set(o)
        for t in a["toponyms"]:
            if t["type"] in NO_COORD_TYPES or (t["start"], t["end"]) in found:
                continue
            if (kind := o.get((t["start"], t["end"]))) is not None:
                outcome = f"read {kind}"
            elif any(s < t["end"] and t["start"] < e for s, e in spans):
                outcome = "overlapped"
            else:
                outcome = "nothing"
            table[t["type"]][outcome] += 1
    return table


def spurious(articles: list[dict], preds: list[dict]) -> Counter:
    """What the predicted spans that are no gold toponym are: a span overlapping a gold toponym (a boundary
    error), the exact span of a toponym the scorer leaves out (demonym, language, homonym), a non-toponym
    expression GeoWebNews annotates ("Non_Toponym": a person or organisation named like a place), or none."""
    out: Counter = Counter()
    for a, p in zip(articles, preds, strict=True):
        gold = {(t["start"], t["end"]): t["type"] for t in a["toponyms"]}
        other = {(t["start"], t["end"]): t["type"] for t in a.get("other_annotations", [])}
        for t in p["toponyms"]:
            span = (t["start"], t["end"])
            if span in gold and gold[span] not in NO_COORD_TYPES:
                continue
            if span in gold:
                out[f"left-out type ({gold[span]})"] += 1
            elif span in other:
                out[f"annotated {other[span]}"] += 1
            elif any(s < span[1] and span[0] < e for s, e in gold):
                out["overlaps a toponym"] += 1
            else:
                out["no annotation"] += 1
    return out


def print_table(title: str, table: dict[str, Counter], columns: list[str]) -> None:
    print(title)
    print(f"{'':22}" + "".join(f"{c:>14}" for c in columns) + "   total")
    for kind, row in sorted(table.items(), key=lambda kv: -kv[1].total()):
        print(f"{kind:22}" + "".join(f"{row[c]:>14}" for c in columns) + f"   {row.total():5}")


def linking_alone(articles: list[dict]) -> tuple[int, int]:
    """Gold spans with an id whose name the linker resolves to that id, given the article's gold names."""
    gaz = gazetteer()
    ok = n = 0
    for a in articles:
        gold = [t for t in a["toponyms"] if t["type"] not in NO_COORD_TYPES]
        names = [t["name"] for t in gold]
        ctx = context_of(gaz, names, a["text"], [(t["name"], t["end"]) for t in gold])
        for t in gold:
            if t.get("geonameid") is None:
                continue
            n += 1
            place = resolve(gaz, t["name"], ctx) or gaz.demonym(t["name"])
            ok += place is not None and place.geonameid == t["geonameid"]
    return ok, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=0, help="only the first N articles")
    parser.add_argument("--out", type=Path, help="keep the predictions in this JSONL file")
    args = parser.parse_args()
    lines = (GWN / "geowebnews.jsonl").read_text(encoding="utf-8").splitlines()
    articles = [json.loads(line) for line in lines if line.strip()]
    if args.docs:
        articles = articles[: args.docs]
    extractor = EntityExtractor().load()
    t0 = time.process_time()
    predicted = [predict(extractor, a["text"]) for a in articles]
    preds = [{"id": a["id"], "toponyms": t} for a, (t, _) in zip(articles, predicted, strict=True)]
    others = [o for _, o in predicted]
    cpu = time.process_time() - t0
    out = args.out or Path(tempfile.mkstemp(suffix=".jsonl")[1])
    out.write_text("".join(json.dumps(p) + "\n" for p in preds), encoding="utf-8")
    gold = GWN / "geowebnews.jsonl"
    if args.docs:
        gold = Path(tempfile.mkstemp(suffix=".jsonl")[1])
        gold.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
    print(f"GeoWebNews: {len(articles)} articles, {cpu:.1f} s CPU for extraction")
    scored = subprocess.run(
        [sys.executable, str(GWN / "score_geo.py"), str(out), "--gold", str(gold)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    print(scored.stdout.strip())
    found = no_id = 0
    for a, p in zip(articles, preds, strict=True):
        spans = {(t["start"], t["end"]) for t in a["toponyms"] if t["type"] not in NO_COORD_TYPES}
        for t in p["toponyms"]:
            if (t["start"], t["end"]) in spans:
                found += 1
                no_id += t["geonameid"] is None
    print(f"found toponyms with no id: {no_id / found if found else 0:.3f} ({no_id} of {found})")
    print_breakdown(breakdown(articles, preds))
    lost = missed(articles, preds, others)
    columns = sorted(
        {c for row in lost.values() for c in row}, key=lambda c: -sum(r[c] for r in lost.values())
    )
    print_table("missed gold spans, by GeoWebNews type and what extraction made of them:", lost, columns)
    print("predicted spans that are no scored toponym:")
    for kind, n in spurious(articles, preds).most_common():
        print(f"  {kind:40} {n:5}")
    ok, n = linking_alone(articles)
    print(f"linking alone (gold spans and names as context): {ok / n if n else 0:.3f} (n={n})")
    if args.out is None:
        out.unlink()
    if args.docs:
        gold.unlink()


if __name__ == "__main__":
    main()
