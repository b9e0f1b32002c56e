"""Where the tests find the public data beside the checkout (``../shared``), read in place."""

from __future__ import annotations

import json
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIXTURES = SHARED / "fixtures"
REFERENCE = FIXTURES / "000_9f6cfb509fb54cb0"
REFERENCE_EXPECTED = REFERENCE.with_suffix(".expected.json")
SCRAPINGHUB = SHARED / "bench" / "extraction" / "scrapinghub"
CONLL_2003 = SHARED / "bench" / "ner" / "conllpp-2003"
CONLL_TRAIN = CONLL_2003 / "conllpp_train.txt"
CONLL_DEV = CONLL_2003 / "conllpp_dev.txt"


def reference_body() -> str:
    """The reference article's expected body: its paragraphs, as the pipeline joins them."""
    return "\n\n".join(json.loads(REFERENCE_EXPECTED.read_text())["body_paragraphs"])
