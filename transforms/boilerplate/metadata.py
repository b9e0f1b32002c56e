"""Article metadata: language, authors, dates, title and canonical URL, from HTML or from text."""

from __future__ import annotations

import re

LANG_SAMPLE = 4000


def detect_language(text: str) -> str | None:
    """ISO 639-1 code from py3langid (offline, fast), on a sample of the text; None for too little text."""
    sample = " ".join(text[:LANG_SAMPLE].split())
    if len(re.findall(r"\w", sample)) < 20:
        return None
    import py3langid

    lang, _ = py3langid.classify(sample)
    return lang or None
