"""The words the NER tokenizer is warmed with: en_core_web_sm's known tokens that occur in CoNLL-2003's
training news, most frequent first, the first 10,000 (``warm_words.txt``, one per line).

Warming with all 84,000 of en_core_web_sm's strings cost 1.6 s of CPU in every worker process; these cover
the common words that make up most tokens of news text, in 0.17 s, with the same steady-state speed.
Regenerate after changing the base model:

    .venv/bin/python -m transforms.entities.warm_words ../shared/bench/ner/conllpp-2003/conllpp_train.txt
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from transforms.entities.base_models import base_path

WARM_WORDS = Path(__file__).with_name("warm_words.txt")
COUNT = 10_000


def load() -> list[str]:
    return WARM_WORDS.read_text(encoding="utf-8").splitlines()


def known_words() -> list[str]:
    """en_core_web_sm's strings that are single printable tokens, in its file's order."""
    strings = json.loads((base_path("sm") / "vocab" / "strings.json").read_text(encoding="utf-8"))
    return [w for w in strings if w.isprintable() and " " not in w]


def conll_tokens(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.strip() and not line.startswith("-DOCSTART-"):
                yield line.split(" ", 1)[0]


def ranked(known: list[str], tokens: Iterable[str], count: int = COUNT) -> list[str]:
    """The ``count`` known words most frequent in ``tokens`` (ties in ``known``'s order); unseen ones never."""
    freq = Counter(tokens)
    order = {w: i for i, w in enumerate(known)}
    return sorted((w for w in order if freq[w]), key=lambda w: (-freq[w], order[w]))[:count]


if __name__ == "__main__":
    WARM_WORDS.write_text(
        "\n".join(ranked(known_words(), conll_tokens(Path(sys.argv[1])))) + "\n", encoding="utf-8"
    )
