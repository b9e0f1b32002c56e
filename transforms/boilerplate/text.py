"""Text mode: label each line of already-extracted page text as title, body, caption, credit or boilerplate.

A two-stage logistic regression (:mod:`transforms.boilerplate.model`) over general line signals
(:mod:`transforms.boilerplate.signals`) decides body vs not; deterministic signals then split captions
from their photo credits and pick out reporting credits and the title among the non-body lines.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from transforms.boilerplate import signals as sig
from transforms.boilerplate.metadata import split_authors
from transforms.boilerplate.model import LineModel, load_model
from transforms.budget import Deadline
from transforms.records import Caption, Removed

EXCERPT = 200
MAX_LINES = 20000


@dataclass
class TextParts:
    """What text mode makes of a document, before metadata is attached."""

    title: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    captions: list[Caption] = field(default_factory=list)
    credits: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    removed: list[Removed] = field(default_factory=list)


def removed(text: str, reason: str) -> Removed:
    return Removed(text=text[:EXCERPT], reason=reason, chars=len(text))


def split_lines(text: str) -> list[str]:
    """Non-empty lines, whitespace-normalised, in order."""
    return [line for line in (sig.normalize_space(raw) for raw in text.splitlines()) if line]


def _reason(line: str, tokens: list[str]) -> str:
    """The most telling signal behind a removal, for the ``boilerplate`` field and the counters."""
    named = furniture_reason(line, tokens)
    if named:
        return named
    if sig.length_units(line) < 6:
        return "text:short-line"
    return "text:classifier"


def _heading_like(line: str) -> bool:
    units = sig.length_units(line)
    return 2 <= units <= 30 and not line.endswith((".", ",", ":", ";")) and not sig.is_byline(line)


def _pick_title(lines: list[str], first_body: int, taken: set[int]) -> int | None:
    """The page title: a heading near the body that repeats the page's first line, else the nearest one."""
    first = sig.words(lines[0]) if lines else []
    heading_first = first_body < len(lines) and not sig.ends_like_sentence(lines[first_body])
    end = first_body + 1 if heading_first else first_body
    candidates = [i for i in range(max(0, first_body - 8), end) if i not in taken and _heading_like(lines[i])]
    for i in reversed(candidates):
        if i > 0 and sig.token_overlap(sig.words(lines[i]), first) >= 0.7:
            return i
    for i in reversed(candidates):
        toks = sig.words(lines[i])
        if not (set(t.lower() for t in toks) & sig.APPEAL_WORDS) and not sig.DATE_LIKE.search(lines[i]):
            return i
    return 0 if lines and _heading_like(lines[0]) and 0 not in taken else None


def _strip_site_suffix(title: str) -> str:
    """ "Headline - Site Name" -> "Headline" (the site name is the shorter last part)."""
    for sep in (" | ", " - ", " – ", " — ", " :: "):
        if sep in title:
            head, _, tail = title.rpartition(sep)
            if len(tail) < len(head) and len(tail) <= 40:
                return head.strip()
    return title


def classify_lines(
    text: str, lang: str | None = None, *, model: LineModel | None = None, deadline: Deadline | None = None
) -> TextParts:
    """Label the lines of ``text``; never raises on odd input (budget overruns aside)."""
    model = model or load_model()
    lines = split_lines(text)[:MAX_LINES]
    if not lines:
        return TextParts()
    x = sig.line_features(lines, lang)
    units = np.array([sig.length_units(line) for line in lines])
    if deadline:
        deadline.check("text features")
    body = decide_body(lines, units, model.predict(x, units), model.threshold, x[:, STOPWORDS])
    return label_lines(lines, body, comment_thread_start(lines, units, body))


STOPWORDS = sig.FEATURE_NAMES.index("stopwords")
PROSE_UNITS = 12  # a line this long that reads as a sentence, with function words, is prose
PROSE_STOPWORDS = 0.2
MIN_KEPT = 0.5  # the classifier may not cut more than half of the page's main run of prose


def decide_body(
    lines: list[str], units: np.ndarray, prob: np.ndarray, threshold: float, stopwords: np.ndarray
) -> np.ndarray:
    """Lines whose body probability clears the threshold; failing any, the document's best prose lines;
    in text that opens with article prose, every line that names itself no furniture
    (:func:`opens_with_prose`); then the paragraphs past a template's markers (:func:`bridge_markers`),
    the safety net (:func:`keep_most_prose`) and the body's gaps
    (:func:`fill_body_gaps`); nothing from the reader comments on (:func:`comment_thread_start`), no
    closing call to action (:func:`drop_closing_calls`); on a page, no stray button at either end of the
    article (:func:`trim_body_ends`)."""
    body = prob >= threshold
    if not body.any():
        # Nothing clears the bar (a short brief among menus): keep the document's best prose lines.
        prose = (units >= 10) & np.array([sig.ends_like_sentence(line) for line in lines])
        body = prose & (prob >= prob[prose].max() / 2) if prose.any() else body
    prose = prose_lines(lines, units, stopwords)
    clean = opens_with_prose(lines, prob, prose, body)
    if clean:
        # Already-extracted text: every line is body unless it names itself furniture; a short one that
        # does ("About us", "Share on Facebook") goes even where the classifier kept it beside the article.
        named = np.array([furniture(line) for line in lines], dtype=bool)
        plain = units < sig.APPEAL_ADDRESS_WORDS
        body = (body & ~(named & plain)) | ~named
    markers = recurring_markers(lines, units)
    body = keep_most_prose(units, prose, bridge_markers(lines, prob, prose, markers, body))
    body = fill_body_gaps(lines, prob, prose, body) & ~markers
    start = comment_thread_start(lines, units, body)
    if start is not None:
        body[start:] = False
    body = drop_closing_calls(lines, body)
    return body if clean else trim_body_ends(lines, units, prose, body)


def is_call_to_action(tokens: list[str]) -> bool:
    """A line that opens with an imperative and asks something of the reader: it names an appeal word that
    news prose hardly uses ("newsletter", "subscribe") or addresses the reader ("Sign up for our ...",
    "Follow us on ...")."""
    return sig.starts_imperative(tokens) and bool(
        sig.vocabulary_hits(tokens, sig.STRONG_APPEAL_WORDS) or sig.vocabulary_hits(tokens, sig.ADDRESS_WORDS)
    )


def drop_closing_calls(lines: list[str], body: np.ndarray) -> np.ndarray:
    """An article does not end with a call to action: the body lines at its end that are one
    (:func:`is_call_to_action`) leave it.

    The classifier scores a line by its neighbours as well, and an appeal right after the last paragraph of
    a short article inherits their scores ("Sign up for our newsletter ..." kept at 0.7 after three
    paragraphs). Only the closing run goes: an imperative inside the article ("Enter the code at checkout")
    is the article's, and a last paragraph that merely mentions an appeal word ("the results arrive in my
    inbox") opens with no imperative."""
    out = body.copy()
    for i in np.flatnonzero(body)[::-1]:
        if not is_call_to_action(sig.words(lines[i])):
            break
        out[i] = False
    return out


END_LINES = 2  # an article opens or ends with at most this many stray buttons; three short lines are a list


def trim_body_ends(lines: list[str], units: np.ndarray, prose: np.ndarray, body: np.ndarray) -> np.ndarray:
    """A page's article neither opens nor ends with a button: one or two short lines (under MARKER_UNITS
    words, not ending like a sentence) kept before the first or after the last prose body line, with no
    other body line there, leave the body ("Artikel teilen" after the last paragraph, a menu item just above
    the headline). A list of three or more short items there stays: a list can close an article.

    The classifier scores a line by its neighbours as well, and a button next to the article inherits the
    paragraphs' scores; nothing of the article's own beyond its prose is that short and that unfinished."""
    in_prose = np.flatnonzero(body & prose)
    if not len(in_prose):
        return body
    out = body.copy()
    stray = (units < MARKER_UNITS) & np.array(
        [not sig.ends_like_sentence(line) for line in lines], dtype=bool
    )
    for end in (
        np.flatnonzero(body[: in_prose[0]]),
        np.flatnonzero(body[in_prose[-1] + 1 :]) + in_prose[-1] + 1,
    ):
        if 0 < len(end) <= END_LINES and stray[end].all():
            out[end] = False
    return out


COMMENT_META_WINDOW = (
    7  # a comment's header or action line follows the thread's heading within this many lines
)
MIN_ARTICLE_UNITS = (
    40  # words of body that must come before a thread: a "12 Comments" under a headline is no end
)


def comment_thread_start(lines: list[str], units: np.ndarray, body: np.ndarray) -> int | None:
    """Where the reader comments begin: a comments heading or comment header ("199 Comments", "[ 167 comments ]",
    "Leave a Reply", "Alex said:") after at least MIN_ARTICLE_UNITS words of body, followed within a few lines by a comment's
    meta line (a short dated line such as "Chris Huang — July 10th, 2012, 1:26 am", or "Reply").

    Comments are prose and read like body line by line; the thread's shape gives them away. Everything from
    there on is comments (they close the article on every page type seen), so none of it is body."""
    before = np.cumsum(np.where(body, units, 0.0))
    for i in np.flatnonzero(before >= MIN_ARTICLE_UNITS):
        if (sig.is_comment_header(lines[i]) or sig.is_comments_heading(lines[i])) and any(
            sig.is_comment_meta(line) for line in lines[i + 1 : i + 1 + COMMENT_META_WINDOW]
        ):
            return int(i)
    return None


MARKER_UNITS = 6  # a line this short that recurs on the page is a template's marker


def recurring_markers(lines: list[str], units: np.ndarray) -> np.ndarray:
    """Short lines that recur on the page ("Advertisement", "Photo", "Share"): the template's markers
    between paragraphs, never the article's text, however much body surrounds them."""
    counts = Counter(lines)
    return np.array([u < MARKER_UNITS and counts[line] > 1 for line, u in zip(lines, units, strict=True)])


GAP_PROB = 0.2  # a line between two body lines needs only this much of the classifier's confidence
INSIDE_PROSE_PROB = 0.1  # a prose line within the body's extent needs only this much


def fill_body_gaps(lines: list[str], prob: np.ndarray, prose: np.ndarray, body: np.ndarray) -> np.ndarray:
    """Body lines the line-by-line decision dropped from inside the article: a line between two body lines
    that the classifier did not rule out (a subheading, a list item, a short paragraph), and a prose line
    (``prose``, :func:`prose_lines`, with no appeal or legal vocabulary) anywhere between the first and
    the last body line.

    The classifier scores each line with a few neighbours; a paragraph that follows an inline promotion or
    a photo credit inherits their low scores, yet sits inside the article. Both rules only add lines inside
    the span the classifier already chose as body, so they cannot pull in a menu or footer beyond it (nor,
    see :func:`recurring_markers`, a template's marker between two paragraphs)."""
    idx = np.flatnonzero(body)
    if len(idx) < 2:
        return body
    out = body.copy()
    pos = np.arange(len(lines))
    between = np.zeros(len(lines), dtype=bool)
    between[1:-1] = body[:-2] & body[2:]
    out |= between & ~body & (prob >= GAP_PROB)
    within = (pos > idx[0]) & (pos < idx[-1]) & ~body & (prob >= INSIDE_PROSE_PROB) & prose
    for i in np.flatnonzero(within):
        out[i] = out[i] or furniture_reason(lines[i], sig.words(lines[i])) not in NOT_BODY_PROSE
    return out


NOT_BODY_PROSE = ("text:appeal", "text:legal-notice")  # prose that says it is an appeal or a legal notice


def bridge_markers(
    lines: list[str], prob: np.ndarray, prose: np.ndarray, markers: np.ndarray, body: np.ndarray
) -> np.ndarray:
    """A template's marker (:func:`recurring_markers`) does not end the article: a prose line the classifier
    did not rule out (probability >= GAP_PROB) and that names itself no furniture (:func:`furniture`), with a
    marker on one side and a body line beyond it, joins the body, paragraph by paragraph in both directions.

    With "Advertisement" between every two paragraphs, each paragraph's neighbours are markers, and the
    scores of the later paragraphs of a long article sank just under the cut-off."""
    out = body.copy()
    candidate = prose & (prob >= GAP_PROB) & ~markers
    n = len(out)
    candidate[candidate] = [not furniture(lines[i]) for i in np.flatnonzero(candidate)]
    for i in range(2, n):
        out[i] |= candidate[i] and markers[i - 1] and out[i - 2]
    for i in range(n - 3, -1, -1):
        out[i] |= candidate[i] and markers[i + 1] and out[i + 2]
    return out


def prose_lines(lines: list[str], units: np.ndarray, stopwords: np.ndarray) -> np.ndarray:
    """Sentences of PROSE_UNITS+ words with function words: what an article is made of."""
    return (
        (units >= PROSE_UNITS)
        & (stopwords >= PROSE_STOPWORDS)
        & np.array([sig.ends_like_sentence(line) for line in lines], dtype=bool)
    )


# A headline and a byline or date line may come before an extracted article's first paragraph.
OPENING_LINES = 3


def opens_with_prose(lines: list[str], prob: np.ndarray, prose: np.ndarray, body: np.ndarray) -> bool:
    """The text opens with article prose: a paragraph among its first OPENING_LINES lines that the
    classifier keeps, or does not rule out while it names itself no furniture.

    A page's text opens with its menus, header and headline (the benchmark's page dumps: 6 of 984 pages
    open with such a paragraph); text already extracted (a feed's body, an article pasted whole) opens
    with its first paragraph, and then nothing of a page frames it."""
    head = slice(0, OPENING_LINES)
    opening = prose[head] & (prob[head] >= GAP_PROB)
    return any(
        ok and (kept or not furniture(line))
        for ok, kept, line in zip(opening, body[head], lines[head], strict=True)
    )


def furniture_reason(line: str, tokens: list[str]) -> str | None:
    """The removal reason a line names for itself, or None: legal or appeal vocabulary, a call to action,
    a link, a byline, a bare photo credit, or a short line of navigation words ("Most read", "About us",
    "RSS"). The one place these are decided: :func:`furniture` and the removal reasons both ask here.
    As with the appeal vocabulary, an imperative opening counts in a line of 8+ words only when it
    addresses the reader ("Follow us on ..."): a lede may open with "Enter ..."."""
    if sig.vocabulary_hits(tokens, sig.LEGAL_WORDS) or "©" in line:
        return "text:legal-notice"
    call = sig.starts_imperative(tokens) and (
        len(tokens) < sig.APPEAL_ADDRESS_WORDS or sig.vocabulary_hits(tokens, sig.ADDRESS_WORDS) > 0
    )
    if call or sig.appeal_ratio(tokens):
        return "text:appeal"
    if sig.URL_LIKE.search(line):
        return "text:link"
    if sig.is_byline(line):
        return "text:byline"
    menu = 0 < len(tokens) < MARKER_UNITS and sig.vocabulary_hits(tokens, sig.NAV_WORDS) >= len(tokens) / 2
    if menu or sig.is_credit_only(line):
        return "text:short-line"
    return None


def furniture(line: str) -> bool:
    """A line that names itself page furniture (:func:`furniture_reason`)."""
    return furniture_reason(line, sig.words(line)) is not None


def keep_most_prose(units: np.ndarray, prose: np.ndarray, body: np.ndarray) -> np.ndarray:
    """The safety net: the page's main run of prose (the densest span of ``prose`` lines,
    :func:`prose_lines`) is article body on nearly every page; when the classifier keeps less than half of
    it, one prose-like feature (an appeal word, a second-person sentence) has misled it, and the run's prose
    lines are kept."""
    if not len(units):
        return body
    start, end = sig.densest_span(np.where(prose, units, 0.0))
    in_run = np.zeros(len(units), dtype=bool)
    in_run[start:end] = True
    run_prose = units[prose & in_run].sum()
    if run_prose and units[body & in_run].sum() < MIN_KEPT * run_prose:
        return body | (prose & in_run)
    return body


def label_lines(lines: list[str], body: np.ndarray, comments_from: int | None = None) -> TextParts:
    """Split lines into title, body, captions, credits and removed blocks, given the body decisions (and
    where reader comments begin, if they do)."""
    parts = TextParts()
    body = body.copy()
    label: dict[int, str] = {}
    body_idx = np.flatnonzero(body)
    lo = int(body_idx[0]) if len(body_idx) else len(lines)
    hi = int(body_idx[-1]) if len(body_idx) else -1
    for i, line in enumerate(lines):
        near = lo - 4 <= i <= hi + 2
        if sig.is_reporting_credit(line) and (near or body[i]):
            parts.credits.append(line)
            label[i] = "credit"
            continue
        if not near:
            continue
        split = sig.split_caption_credit(line)
        if split and split[0] and (not body[i] or sig.length_units(split[0]) < 40):
            parts.captions.append(Caption(text=split[0], credit=split[1]))
            label[i] = "caption"
        elif sig.is_credit_only(line) and not body[i]:
            prev = i - 1
            # A caption reads as a sentence; a headline just above a photo credit is not its caption.
            if (
                prev >= 0
                and prev not in label
                and not body[prev]
                and (sig.ends_like_sentence(lines[prev]) or sig.length_units(lines[prev]) >= 12)
            ):
                parts.captions.append(Caption(text=lines[prev], credit=line))
                label[prev] = "caption"
            else:
                parts.captions.append(Caption(text="", credit=line))
            label[i] = "caption"
        elif sig.is_byline(line) and not body[i]:
            parts.authors.extend(split_authors(line))
            label[i] = "byline"
    title_at = _pick_title(lines, lo, set(label))
    if title_at is not None:
        label[title_at] = "title"
        parts.title = _strip_site_suffix(lines[title_at]) if title_at == 0 else lines[title_at]
    seen: set[str] = set()
    for i, line in enumerate(lines):
        kind = label.get(i)
        if kind in ("credit", "caption", "title"):
            continue
        if kind == "byline":
            parts.removed.append(removed(line, "text:byline"))
        elif body[i] and not (line in seen and sig.length_units(line) >= 8):
            parts.paragraphs.append(line)
            seen.add(line)
        elif body[i]:
            parts.removed.append(removed(line, "text:duplicate-line"))
        elif comments_from is not None and i >= comments_from:
            parts.removed.append(removed(line, "text:comments"))
        else:
            parts.removed.append(removed(line, _reason(line, sig.words(line))))
    return parts
