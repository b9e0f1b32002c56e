"""Abridge `newsflow consume` JSON lines for the demo: one short block per record."""

import json
import sys

kind = sys.argv[1]
for line in sys.stdin:
    r = json.loads(line)
    if kind == "article":
        people = sorted({e["name"] for e in r["entities"] if e["type"] == "PERSON"})[:6]
        places = sorted({e["name"] for e in r["entities"] if e["type"] == "LOC"})[:6]
        orgs = sorted({e["name"] for e in r["entities"] if e["type"] == "ORG"})[:6]
        print(f"- {r['title']!r}  [{r['source']}, {r['language']}, {r['published_at']}]")
        print(f"  id={r['id']} words={len(r['body'].split())} removed_blocks={len(r['boilerplate'])}")
        print(f"  body: {r['body'][:160]}...")
        print(f"  people={people} places={places} orgs={orgs}")
        for c in r["captions"]:
            print(f"  caption: {c['text'][:80]!r} credit={c['credit']!r}")
        if r["credits"]:
            print(f"  credits: {r['credits']}")
    elif kind == "duplicate":
        print(
            f"- {r['id']} duplicate_of={r['duplicate_of']} method={r['method']} similarity={r['similarity']:.2f}"
        )
    else:
        print(f"- stage={r['stage']} {r['error_type']}: {r['message']} at {r['source_position']}")
