"""Where the tests find the public data beside the checkout (``../shared``), read in place."""

from __future__ import annotations

from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIXTURES = SHARED / "fixtures"
REFERENCE = FIXTURES / "000_9f6cfb509fb54cb0"
SCRAPINGHUB = SHARED / "bench" / "extraction" / "scrapinghub"
CONLL_2003 = SHARED / "bench" / "ner" / "conllpp-2003"
CONLL_TRAIN = CONLL_2003 / "conllpp_train.txt"
CONLL_DEV = CONLL_2003 / "conllpp_dev.txt"
