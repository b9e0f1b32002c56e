"""Near matches close to the threshold are settled on shingle samples, not the 1-bit sketch (verify.py),
and an exact-content match wins over any other: in ``newsflow process`` and in the runner-state mode."""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.beam_runs import run_in_process
from tests.dedup_arrivals import T0, bodies
from transforms.dedup import Deduplicate, Deduplicator, DedupSettings
from transforms.dedup.index import EXACT, NEAR, Match, encode_id
from transforms.dedup.minhash import estimate_jaccard, estimate_margin, sample_jaccard, shingle_sample
from transforms.dedup.shingles import normalise, shingle_hashes, words
from transforms.dedup.verify import sample_key, settle, verified
from transforms.records import Article, SourcePosition, stable_id

# 8 sketch bits: the estimate is noise (its margin covers every value), so every candidate is measured;
# one row per band of 16: nearly every pair that shares a shingle run is a candidate.
NOISY = DedupSettings(num_perm=8, bands=16, rows=1)


def grams(text: str, k: int = 3) -> set[tuple[str, ...]]:
    tokens = words(normalise(text))
    return {tuple(tokens[i : i + k]) for i in range(max(1, len(tokens) - k + 1))}


def true_jaccard(a: str, b: str) -> float:
    x, y = grams(a), grams(b)
    return len(x & y) / len(x | y)


def edited(body: str, share: float, rng: random.Random) -> str:
    """``body`` with about ``share`` of its words replaced by words of another story."""
    tokens = body.split()
    donor = bodies()[-1].split()
    for i in rng.sample(range(len(tokens)), int(share * len(tokens))):
        tokens[i] = rng.choice(donor)
    return " ".join(tokens)


def article(body: str, n: int) -> Article:
    url = f"https://site{n}.example/story"
    return Article(
        id=stable_id(url, body),
        url=url,
        canonical_url=url,
        body=body,
        fetched_at=T0 + timedelta(minutes=n),
        source_position=SourcePosition("articles.raw", 0, n),
    )


def words_cut(body: str, limit: int = 300) -> str:
    return " ".join(body.split()[:limit])


@given(st.integers(0, len(bodies()) - 2), st.floats(0.0, 0.6), st.integers(0, 2**32))
@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_a_candidate_is_a_duplicate_exactly_when_its_true_jaccard_reaches_the_threshold(
    which: int, share: float, seed: int
) -> None:
    """With a sketch too small to tell anything, the verdict still follows the true Jaccard of the word
    3-shingles (bodies under the sample size: the sample holds every shingle). Deciding on the estimate
    would get most pairs near the threshold wrong here."""
    original = words_cut(bodies()[which])
    copy = edited(original, share, random.Random(seed))
    dedup = Deduplicator(NOISY)
    first, second = article(original, 0), article(copy, 1)
    dedup.check(first)
    _, found = dedup.check(second)
    fa, fb = dedup.fingerprint(first), dedup.fingerprint(second)
    candidate = fa.content_hash == fb.content_hash or set(fa.keys[2:]) & set(fb.keys[2:])
    expected = bool(candidate) and true_jaccard(original, copy) >= NOISY.threshold
    assert (found is not None) == expected, (share, true_jaccard(original, copy))
    if found is not None and found.method == NEAR:
        assert abs(found.similarity - true_jaccard(original, copy)) < 0.01


def test_the_sample_is_exact_up_to_its_size_and_close_beyond() -> None:
    a, b = words_cut(bodies()[3]), edited(words_cut(bodies()[3]), 0.3, random.Random(3))
    sa, sb = (shingle_sample(shingle_hashes(normalise(t), 3), 512) for t in (a, b))
    assert sample_jaccard(sa, sb, 512) == true_jaccard(a, b)
    rng = np.random.default_rng(16)
    shared = rng.integers(0, 2**64, size=3000, dtype=np.uint64)
    x = np.concatenate([shared, rng.integers(0, 2**64, size=2000, dtype=np.uint64)])
    y = np.concatenate([shared, rng.integers(0, 2**64, size=2000, dtype=np.uint64)])
    estimate = sample_jaccard(shingle_sample(x, 512), shingle_sample(y, 512), 512)
    assert abs(estimate - 3000 / 7000) < 0.1  # 4.5 standard errors of a bottom-512 estimate
    assert len(shingle_sample(x, 512)) == 4 * 512


def test_the_margin_is_four_standard_errors_of_the_sketch() -> None:
    assert 0.30 < estimate_margin(0.5, 128) < 0.31
    assert estimate_margin(0.5, 8) > 1  # every estimate is uncertain


def test_an_exact_content_match_wins_over_an_earlier_near_match() -> None:
    fp = Deduplicator().fingerprint(article(words_cut(bodies()[5]), 0))
    near = Match((b"\x00" * 16, encode_id("a" * 32)), "a" * 32, NEAR, 0.9)
    exact = Match((b"\x01" * 16, encode_id("b" * 32)), "b" * 32, EXACT, 1.0)
    assert settle([near, exact], fp, DedupSettings(), {}) == exact
    assert settle([near], fp, DedupSettings(), {}) == near


def test_a_sample_that_disagrees_overrules_the_estimate_and_a_missing_one_does_not() -> None:
    fp = Deduplicator(NOISY).fingerprint(article(words_cut(bodies()[5]), 0))
    other = Deduplicator(NOISY).fingerprint(article(words_cut(bodies()[6]), 1))
    unsure = Match((b"\x00" * 16, other.id_bytes), other.article_id, NEAR, 0.6, certain=False)
    asked: list[list[bytes]] = []

    def stored(sample: bytes | None):
        def read(keys):
            asked.append(list(keys))
            return [sample for _ in keys]

        return read

    assert verified([unsure], fp, NOISY, stored(other.sample)) is None
    assert asked == [[sample_key(other.id_bytes)]]
    assert verified([unsure], fp, NOISY, stored(None)) == Match(unsure.rank, other.article_id, NEAR, 0.6)
    certain = Match((b"\x01" * 16, fp.id_bytes), fp.article_id, NEAR, 0.95)
    asked.clear()
    assert verified([certain], fp, NOISY, stored(None)) == certain
    assert asked == []


def test_the_runner_state_mode_measures_like_the_local_rule() -> None:
    """``Deduplicate(mode="stream")`` on the FnApiRunner, with a sketch too small to tell: every
    candidate is measured on the samples (kept in runner state by article id), and survivors, verdicts,
    methods and similarities equal ``newsflow process``'s rule on the same arrivals. Pairs of an original
    and an edit span true Jaccards either side of the threshold, plus an exact copy of the last edit (kept:
    measured below the threshold). The sketch's estimate alone is checked to get some of
    these pairs wrong, so the test fails if this mode decides on the estimate."""
    rng = random.Random(16)
    texts: list[str] = []
    for i in range(12):
        original = words_cut(bodies()[i])
        texts += [original, edited(original, 0.05 * i, rng)]
    texts.append(texts[-1])  # the last edit again, byte for byte
    articles = [article(text, n) for n, text in enumerate(texts)]
    process = Deduplicator(NOISY)
    expected_kept, expected_dropped = [], []
    for a in articles:
        _, found = process.check(a)
        if found is None:
            expected_kept.append(a.id)
        else:
            expected_dropped.append((found.id, found.duplicate_of, found.method, found.similarity))
    fps = [process.fingerprint(a) for a in articles]
    wrong_on_estimate = sum(
        (estimate_jaccard(fps[i].sketch, fps[i + 1].sketch) >= NOISY.threshold)
        != (true_jaccard(texts[i], texts[i + 1]) >= NOISY.threshold)
        for i in range(0, 24, 2)
    )
    assert wrong_on_estimate >= 2
    assert 3 <= len(expected_dropped) <= 10
    assert (articles[-1].id, articles[-2].id, EXACT, 1.0) in expected_dropped

    stamped = [(a, a.fetched_at.timestamp()) for a in articles]
    out = run_in_process(stamped, Deduplicate(NOISY, mode="stream"), ["articles", "duplicates"])
    assert sorted(a.id for a in out["articles"]) == sorted(expected_kept)
    dropped = [(v.id, v.duplicate_of, v.method, v.similarity) for v in out["duplicates"]]
    assert sorted(dropped) == sorted(expected_dropped)
