"""Place benchmark: toponym recognition and GeoNames linking on GeoWebNews, scored by its own scorer.

Runs ``EntityExtractor.extract`` (the code the pipeline runs) on each of GeoWebNews's 200 news articles and
takes as toponyms the mentions of place entities (nested ones inside organisations' names included) and of
nationality words linked to their country ("Russian" → Russia), each with its GeoNames id and the
gazetteer's coordinates. ``score_geo.py`` (shipped with the data) then prints span precision/recall at exact
span, end-to-end linking accuracy (a missed span counts as wrong) and accuracy@161 km. This script adds the
share of found toponyms that got no id, and linking alone: the gold spans' names given to the linker with
the article's other gold names as context. GeoWebNews (GPL-3.0) is for measuring only: nothing is trained or
tuned on it.

    .venv/bin/python benchmarks/geo.py [--docs N] [--out predictions.jsonl]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transforms.entities import EntityExtractor  # noqa: E402
from transforms.entities.gazetteer import gazetteer  # noqa: E402
from transforms.entities.link import context_of, resolve  # noqa: E402

GWN = Path(__file__).resolve().parents[1] / ".." / "shared" / "bench" / "geo" / "geowebnews"
NO_COORD_TYPES = {"Demonym", "Homonym", "Language"}


def predict(extractor: EntityExtractor, text: str) -> list[dict]:
    gaz = gazetteer()
    out = []
    for e in extractor.extract(text, time_budget=120.0):
        if e.type != "LOC" and not (e.type == "MISC" and e.ids.geonames is not None):
            continue
        place = gaz.by_id(e.ids.geonames) if e.ids.geonames is not None else None
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
    return out


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
    preds = [{"id": a["id"], "toponyms": predict(extractor, a["text"])} for a in articles]
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
    ok, n = linking_alone(articles)
    print(f"linking alone (gold spans and names as context): {ok / n if n else 0:.3f} (n={n})")
    if args.out is None:
        out.unlink()
    if args.docs:
        gold.unlink()


if __name__ == "__main__":
    main()
