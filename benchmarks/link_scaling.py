"""Place linking against the number of places an article names: CPU seconds to link N distinct towns.

Draws N distinct town names from the gazetteer (a fixed seed: the same towns on every run), each mentioned
twice, and times ``link.context_of`` and ``link.resolve`` of every name, which is what the entities stage
runs per article (``normalize``). Linear work doubles with N; the quadratic scans this measures for
grew four times (see transforms/entities/README.md, "Reliability").

    nice .venv/bin/python benchmarks/link_scaling.py [--towns 1000,4000,12000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transforms.entities.gazetteer import gazetteer  # noqa: E402
from transforms.entities.link import context_of, resolve  # noqa: E402


def towns(n: int, seed: int = 7) -> list[str]:
    """``n`` distinct names of towns (ASCII, capitalised), drawn at random from the gazetteer."""
    gaz = gazetteer()
    rng = random.Random(seed)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        place = gaz.place(rng.randrange(len(gaz)))
        if (
            place.kind == "city"
            and place.name.isascii()
            and place.name[:1].isupper()
            and place.name not in seen
        ):
            seen.add(place.name)
            names.append(place.name)
    return names


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--towns", default="1000,4000,12000", help="comma-separated counts of towns")
    args = parser.parse_args()
    gaz = gazetteer()
    counts = [int(n) for n in args.towns.split(",")]
    every = towns(max(counts))
    for n in counts:
        names = every[:n]
        started = time.process_time()
        ctx = context_of(gaz, names * 2)
        linked = sum(resolve(gaz, name, ctx) is not None for name in names)
        print(f"{n:>6} towns: {time.process_time() - started:6.2f} CPU-s ({linked} linked)", flush=True)


if __name__ == "__main__":
    main()
