"""Text normalisation, the exact-duplicate content hash, and hashed word shingles for MinHash.

Normalisation folds what syndication changes without changing the story: Unicode forms, case, curly vs
straight quotes, dashes and whitespace. Two bodies with the same normalised text are exact duplicates.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import xxhash

from transforms import unicode_forms

_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "`": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u200b": "",
    }
)
_MIX = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD],
    dtype=np.uint64,
)
_WORD = re.compile(r"\w+(?:['.\-]\w+)*")


def normalise(body: str) -> str:
    """The body as the hash sees it: NFKC, case-folded, quotes and dashes unified, whitespace collapsed."""
    if body.isascii():
        return " ".join(body.lower().replace("`", "'").split())
    text = unicode_forms.normalize("NFKC", body).translate(_FOLD).casefold()
    return " ".join(text.split())


def content_hash(body: str) -> str:
    """Hash of the normalised body: the exact-duplicate key stored in ``article.dedup.content_hash``."""
    return hash_normalised(normalise(body))


def input_hash(text: str | None, html: str | None) -> str:
    """The exact key of the input an article was cleaned from: its text as :func:`content_hash` sees it, or
    its HTML byte for byte (normalising a whole page would cost more than cleaning it).

    Two copies of one input are exact duplicates whatever the cleaner makes of each: extraction is not
    case-blind (an all-caps copy reads differently to the line classifier) and learned boilerplate changes
    between copies, so the cleaned bodies of two copies can differ."""
    if html and html.strip():
        return xxhash.xxh3_128_hexdigest(html.encode("utf-8", "surrogatepass"))
    return content_hash(text or "")


def hash_normalised(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def words(text: str) -> list[str]:
    """Word tokens of normalised text; punctuation is dropped so quote and dash styles do not count."""
    return [w.replace("'", "") for w in _WORD.findall(text)]


def shingle_hashes(text: str, size: int) -> np.ndarray:
    """Distinct 64-bit hashes of the word ``size``-grams of normalised text.

    Each word is hashed once; a shingle's hash mixes its words' hashes with a different odd multiplier
    per position (so word order counts), which is ``size`` times less hashing than hashing n-gram
    strings. A body shorter than ``size`` words is one shingle.
    """
    tokens = words(text)
    if not tokens:
        return np.zeros(0, dtype=np.uint64)
    hashed = np.fromiter(
        (xxhash.xxh64_intdigest(t.encode("utf-8")) for t in tokens), dtype=np.uint64, count=len(tokens)
    )
    span = min(size, len(tokens))
    count = len(tokens) - span + 1
    mixed = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for position in range(span):
            mixed = (mixed ^ hashed[position : position + count]) * _MIX[position % len(_MIX)]
    return np.unique(mixed)
