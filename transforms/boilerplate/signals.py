"""Per-line signals for the text-mode classifier: pure functions of a line and its neighbours.

Each signal is general (shape, position, language, appeal vocabulary), never a publisher rule. The
classifier in :mod:`transforms.boilerplate.text` weighs them with a small logistic regression.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

WORD = re.compile(r"\w+", re.UNICODE)
DIGIT = re.compile(r"\d")
UPPER = re.compile(r"[A-Z\u00C0-\u00DE\u0391-\u03A9\u0410-\u042F]")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
SENTENCE_END = re.compile(r"[.!?。！？…](?:[\"'”’»)\]]*)(?=\s|$)")
ENDS_SENTENCE = re.compile(r"[.!?。！？…:;][\"'”’»)\]]*\s*$")
URL_LIKE = re.compile(r"https?://|www\.|\.(?:com|org|net|co\.uk|html?)\b|@\w{2,}", re.IGNORECASE)
DATE_LIKE = re.compile(
    r"\b(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}\s*(?:[ap]\.?m\.?)?|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|"
    r"\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{4}|"
    r"(?:updated|published|posted)\b)",
    re.IGNORECASE,
)
BYLINE = re.compile(r"^(?:by|von|par|por|di|door|av)\s+[A-Z\u00C0-\u017F][\w.'’-]+", re.IGNORECASE)
SECOND_PERSON = frozenset({"you", "your", "you're", "yours", "yourself", "we", "our", "us", "ours", "we're"})
IMPERATIVE_STARTS = frozenset(
    [
        "subscribe",
        "sign",
        "join",
        "follow",
        "click",
        "tap",
        "read",
        "share",
        "download",
        "support",
        "donate",
        "register",
        "get",
        "try",
        "learn",
        "watch",
        "listen",
        "see",
        "view",
        "continue",
        "contribute",
        "give",
        "help",
        "become",
        "enter",
        "install",
        "enable",
        "upgrade",
        "remind",
        "skip",
        "go",
        "find",
        "browse",
        "explore",
        "discover",
        "shop",
        "buy",
        "order",
        "save",
        "visit",
        "contact",
        "log",
        "tell",
        "send",
        "email",
        "print",
    ]
)
# Vocabulary of page furniture: appeals, account and legal notices, navigation and sharing. General to
# news pages in English with a few high-frequency equivalents in other languages.
# Appeal words that news prose hardly ever uses: they count wherever they stand.
STRONG_APPEAL_WORDS = frozenset(
    [
        "subscribe",
        "subscriber",
        "subscribers",
        "subscription",
        "subscriptions",
        "newsletter",
        "newsletters",
        "donate",
        "signup",
        "inbox",
        "mailbox",
        "unsubscribe",
        "paywall",
        "abonnieren",
        "abonnement",
        "spenden",
        "s'abonner",
        "abonnez",
        "suscríbete",
        "suscribirse",
        "assine",
        "assinar",
        "iscriviti",
    ]
)
# Every appeal word: the strong ones and those that news prose uses too.
APPEAL_WORDS = STRONG_APPEAL_WORDS | frozenset(
    [
        "donation",
        "donations",
        "contribute",
        "contribution",
        "contributions",
        "membership",
        "member",
        "members",
        "support",
        "supporting",
        "supporter",
        "sign",
        "premium",
        "offer",
        "trial",
        "journalism",
        "independent",
        "readers",
        "reader",
        "help",
        "monthly",
        "annual",
    ]
)
LEGAL_WORDS = frozenset(
    [
        "cookie",
        "cookies",
        "privacy",
        "policy",
        "terms",
        "conditions",
        "consent",
        "copyright",
        "rights",
        "reserved",
        "gdpr",
        "ccpa",
        "datenschutz",
        "impressum",
        "confidentialité",
        "privacidad",
    ]
)
NAV_WORDS = frozenset(
    [
        "home",
        "menu",
        "search",
        "login",
        "log",
        "sign",
        "register",
        "account",
        "share",
        "tweet",
        "facebook",
        "twitter",
        "linkedin",
        "instagram",
        "youtube",
        "whatsapp",
        "pinterest",
        "reddit",
        "rss",
        "email",
        "print",
        "comments",
        "comment",
        "related",
        "trending",
        "popular",
        "most",
        "read",
        "more",
        "next",
        "previous",
        "prev",
        "advertisement",
        "advertise",
        "sponsored",
        "ad",
        "ads",
        "video",
        "videos",
        "photos",
        "gallery",
        "tags",
        "tag",
        "topics",
        "section",
        "sections",
        "skip",
        "content",
        "navigation",
        "subscribe",
        "contact",
        "about",
        "careers",
        "faq",
        "sitemap",
        "weiter",
        "mehr",
        "startseite",
        "accueil",
        "inicio",
    ]
)
CREDIT_AGENCY = re.compile(
    r"\b(?:AFP|AP|Reuters|TASS|EPA|Getty(?: Images)?|Shutterstock|iStock(?:photo)?|Bloomberg|Xinhua|ANSA|"
    r"dpa|PA(?: Images| Wire)?|Alamy|Sputnik|RIA Novosti|Anadolu|NurPhoto|SOPA|Zuma|Corbis|Wikimedia Commons|"
    r"Handout|File|Courtesy|Pool)\b"
)
CREDIT_LEAD = re.compile(
    r"(?:^|[\s(\[])(?:photo(?:graph)?s?|image|picture|pic|credit|illustration|source|foto|bild)\s*"
    r"(?:credit|copyright|by|:|via|©|\.\.\.)",
    re.IGNORECASE,
)
NAME_SLASH_CREDIT = re.compile(
    r"(?:^|(?<=[.!?\"”)\]]\s))((?:[A-Z\u00C0-\u017F][\w.'’-]*\s){0,3}[A-Z\u00C0-\u017F][\w.'’-]*"
    r"\s*[/|]\s*[A-Z][\w.&'’ -]{1,60}(?:\s*[/|]\s*[A-Z][\w.&'’ -]{1,60})*)\s*$"
)
# Substrings every match of the pattern below them contains: a cheap test before the regex.
REPORTING_KEYS = (
    "contributed",
    "reporting by",
    "editing by",
    "compiled by",
    "writing by",
    "mit material",
    "con informaci",
    "avec ",
)
COMMENT_KEYS = ("comment", "respons", "replies", "reply", "leave a", "discussion")
CREDIT_LEAD_KEYS = ("photo", "image", "pic", "credit", "illustration", "source", "foto", "bild")
CREDIT_TAIL_KEYS = ("Credit", "Photo", "Image", "Picture", "Foto")
DATE_WORDS = ("updated", "published", "posted")
SEPARATOR_CHARS = "|»›•·▸►→>/"
# Credit patterns are matched on whitespace-normalised lines and kept free of open-ended repeats around
# the match, so their cost stays linear in the line length.
CREDIT_TAIL = re.compile(r"(?:Credit|Photo(?:graph)?|Image|Picture|Foto) ?(?::|\.\.\.|…|by) ?")
PHOTO_PAREN = re.compile(r"[(\[]((?:AP |AFP |Reuters |Getty )?Photo[^()\[\]]{0,80})[)\]] ?$")
COMMENT_HEADER = re.compile(
    r"(?:\b(?:said|says|wrote|writes|replied|commented)\s*:\s*$|^\d+\s+(?:comments?|responses?|replies)\b|"
    r"\bleave a (?:reply|comment)\b|^(?:comments?|reader comments|discussion)\s*(?:\(\d+\))?$|^reply$)",
    re.IGNORECASE,
)
REPORTING_CREDIT = re.compile(
    r"(?:contributed(?: to)?(?: this)? report(?:ing)?|contributed to this (?:article|story)|"
    r"^\(?(?:additional )?reporting by\b|\bediting by\b|^\(?compiled by\b|^\(?writing by\b|"
    r"^\(?mit material (?:von|der)\b|^\(?con (?:información|informaciones) de\b|^\(?avec (?:l'?)?(?:afp|reuters|ap)\b)",
    re.IGNORECASE,
)


# jusText's names for the languages whose ISO name is not its list's name.
JUSTEXT_NAMES = {"no": "Norwegian_Bokmal", "nb": "Norwegian_Bokmal", "nn": "Norwegian_Nynorsk"}


@lru_cache(maxsize=64)
def stop_words(lang: str | None) -> frozenset[str]:
    """Function words of a language: spaCy's list (the classifier's weights were fitted on those), else
    jusText's (100 languages, among them Norwegian and Swahili, which spaCy lacks), else English's."""
    import importlib

    for code in (lang or "en", "en"):
        try:
            module = importlib.import_module(f"spacy.lang.{code}.stop_words")
        except Exception:  # noqa: BLE001 - any language without a spaCy list tries jusText's, then English
            words_ = justext_stop_words(code)
            if words_:
                return words_
            continue
        return frozenset(w.lower() for w in module.STOP_WORDS)
    return frozenset()


def justext_stop_words(code: str) -> frozenset[str]:
    """jusText's list for an ISO 639-1 code, or nothing."""
    import justext
    import pycountry

    language = pycountry.languages.get(alpha_2=code)
    name = JUSTEXT_NAMES.get(code) or (language.name.split(" (")[0].replace(" ", "_") if language else "")
    if name not in justext.get_stoplists():
        return frozenset()
    return frozenset(w.lower() for w in justext.get_stoplist(name))


def normalize_space(text: str) -> str:
    """Collapse every run of whitespace (NBSP, tabs, newlines included) to one space and trim."""
    return " ".join(text.split())


def words(line: str) -> list[str]:
    return WORD.findall(line)


def length_units(line: str) -> float:
    """Length in word-equivalents, so scripts without spaces (CJK) weigh like spaced ones."""
    if not CJK.search(line):
        return float(len(WORD.findall(line)))
    cjk = len(CJK.findall(line))
    return len(WORD.findall(CJK.sub(" ", line))) + cjk / 1.8


def sentence_count(line: str) -> int:
    return len(SENTENCE_END.findall(line))


def ends_like_sentence(line: str) -> bool:
    return bool(ENDS_SENTENCE.search(line))


def stopword_ratio(tokens: Sequence[str], stops: frozenset[str]) -> float:
    """Share of function words: high in prose, near zero in menus and name lists."""
    return sum(map(stops.__contains__, map(str.lower, tokens))) / len(tokens) if tokens else 0.0


def capitalised_ratio(tokens: Sequence[str]) -> float:
    """Share of Capitalised words: menus and headings are Title Case, prose is not."""
    alpha = [t for t in tokens if t[0].isalpha()]
    return sum(1 for t in alpha if t[0].isupper()) / len(alpha) if alpha else 0.0


def vocabulary_hits(tokens: Sequence[str], vocabulary: frozenset[str]) -> int:
    return sum(map(vocabulary.__contains__, map(str.lower, tokens)))


def second_person_ratio(tokens: Sequence[str]) -> float:
    """Share of you/your/we/our/us: appeals address the reader, news reports rarely do."""
    return vocabulary_hits(tokens, SECOND_PERSON) / len(tokens) if tokens else 0.0


APPEAL_ADDRESS_WORDS = 8
# Words that address the reader, in the languages the appeal vocabulary covers ("Sie" is left out: in
# German it is also "she" and "they").
ADDRESS_WORDS = SECOND_PERSON | frozenset(
    ["ihr", "euch", "unser", "unsere", "unseren", "unserem", "unserer", "wir", "du", "dein", "deine",
     "vous", "votre", "vos", "nous", "notre", "nos", "usted", "ustedes", "nuestro", "nuestra", "nuestros",
     "nosotros", "voi", "noi", "nostro", "nostra", "você", "vocês", "nosso", "nossa"]
)  # fmt: skip


def appeal_ratio(tokens: Sequence[str]) -> float:
    """Share of appeal vocabulary ("newsletter", "support", "members") in a line that appeals to the reader.

    In a sentence of eight words or more, the everyday appeal words ("support", "help", "members",
    "readers", "independent") count only when the line addresses the reader or opens with an imperative:
    news prose is full of them ("the senator said she would support the bill"), and counting them there cut
    real body from pages about charities, unions and elections. Words news prose hardly uses
    ("newsletter", "subscribe") and short lines (menu items, buttons) count on vocabulary alone.
    """
    if not tokens:
        return 0.0
    hits = vocabulary_hits(tokens, APPEAL_WORDS)
    if hits and len(tokens) >= APPEAL_ADDRESS_WORDS and not vocabulary_hits(tokens, STRONG_APPEAL_WORDS):
        addressed = vocabulary_hits(tokens, ADDRESS_WORDS) or starts_imperative(tokens)
        hits = hits if addressed else 0
    return hits / len(tokens)


def starts_imperative(tokens: Sequence[str]) -> bool:
    """Starts with a call to action ("Sign up", "Read more", "Support us")."""
    return bool(tokens) and tokens[0].lower() in IMPERATIVE_STARTS


def is_byline(line: str) -> bool:
    return bool(BYLINE.match(line)) and len(line) < 120


def is_reporting_credit(line: str) -> bool:
    """A credit line such as "AFP contributed reporting." or "(Reporting by ...; Editing by ...)"."""
    if len(line) >= 400:
        return False
    low = line.lower()
    return any(key in low for key in REPORTING_KEYS) and bool(REPORTING_CREDIT.search(line))


def split_caption_credit(line: str) -> tuple[str, str] | None:
    """Split "A flag in Mariupol. Dmitry Yagodkin / TASS" into caption text and credit, if it has one."""
    if len(line) > 500:
        return None
    match = CREDIT_TAIL.search(line) if any(key in line for key in CREDIT_TAIL_KEYS) else None
    if match:
        credit = line[match.end() :]
        credit = credit[:-1] if credit.endswith((")", "]")) else credit
        caption = line[: match.start()].rstrip()
        caption = caption[:-1] if caption.endswith(("(", "[")) else caption
        if caption.strip() and credit and len(credit) < 80:
            return caption.strip(), credit.strip()
    match = PHOTO_PAREN.search(line) if "Photo" in line else None
    if match and match.start() > 0:
        return line[: match.start()].strip(), match.group(1).strip()
    if "/" not in line and "|" not in line:
        return None
    match = NAME_SLASH_CREDIT.search(line)
    if (
        match
        and match.start(1) > 0
        and CREDIT_AGENCY.search(match.group(1))
        or (match and match.start(1) > 0 and "/" in match.group(1) and len(match.group(1)) < 60)
    ):
        return line[: match.start(1)].strip(), match.group(1).strip()
    return None


def is_credit_only(line: str) -> bool:
    """A bare photo credit: "Getty Images", "Photo: Reuters", "Sakib Ali/Hindustan Times/Getty Images"."""
    if len(line) > 90:
        return False
    low = line.lower()
    if any(key in low for key in CREDIT_LEAD_KEYS) and CREDIT_LEAD.search(line) and len(words(line)) <= 10:
        return True
    return bool(CREDIT_AGENCY.search(line)) and ("/" in line or "|" in line or len(words(line)) <= 3)


def is_date_like(line: str) -> bool:
    """Mentions a date, a clock time or "updated/published/posted"."""
    if not DIGIT.search(line) and not any(key in line.lower() for key in DATE_WORDS):
        return False
    return bool(DATE_LIKE.search(line))


def is_comment_header(line: str) -> bool:
    """A reader-comment header ("Alex on September 17, 2018 at 6:34 am said:") or a comments heading."""
    if len(line) >= 150:
        return False
    low = line.lower()
    return (":" in line or any(key in low for key in COMMENT_KEYS)) and bool(COMMENT_HEADER.search(line))


COMMENT_ACTION = re.compile(
    r"^(?:reply|report(?: abuse| comment)?|like|flag|permalink|antworten|melden|répondre|signaler|responder|"
    r"rispondi|svar|reageer)$",
    re.IGNORECASE,
)


# A comments section's heading: these words, counts and a few fillers, nothing else ("[ 167 comments ]",
# "Top Rated Comments", "Kommentare (12)").
COMMENT_WORDS = frozenset(
    ["comment", "comments", "responses", "replies", "kommentar", "kommentare", "commentaire", "commentaires",
     "comentario", "comentarios", "comentários", "commenti", "kommentarer", "reacties", "trackbacks", "pingbacks"]
)  # fmt: skip
COMMENT_HEADING_FILLERS = frozenset(
    ["top", "rated", "all", "view", "show", "reader", "readers", "leave", "add", "a", "your", "one", "no",
     "latest", "newest", "oldest", "best"]
)  # fmt: skip


def is_comments_heading(line: str) -> bool:
    """A comments section's heading of a few words: comment words, counts and fillers only."""
    tokens = [t.lower() for t in words(line) if not t.isdigit()]
    return (
        0 < len(tokens) <= 6
        and any(t in COMMENT_WORDS for t in tokens)
        and all(t in COMMENT_WORDS or t in COMMENT_HEADING_FILLERS for t in tokens)
    )


def is_comment_meta(line: str) -> bool:
    """A reader comment's meta line: a short line with a date or clock time ("Chris Huang — July 10th, 2012,
    1:26 am", "on 2012-10-09 at 9:00 am Olaf") or a comment action ("Reply", "Report abuse")."""
    return bool(COMMENT_ACTION.match(line)) or (len(words(line)) < 20 and is_date_like(line))


def digit_ratio(line: str) -> float:
    return len(DIGIT.findall(line)) / len(line) if line else 0.0


def upper_ratio(line: str) -> float:
    return _upper_share(line, words(line), len(DIGIT.findall(line)))


def _upper_share(line: str, tokens: Sequence[str], digits: int) -> float:
    # Letters are the word characters that are neither digits nor "_": no per-character regex needed.
    letters = sum(map(len, tokens)) - digits - line.count("_")
    return len(UPPER.findall(line)) / letters if letters > 0 else 0.0


def token_overlap(a: Sequence[str], b: Sequence[str]) -> float:
    """Share of a's tokens found in b (case-insensitive): lines that repeat the page title score high."""
    if not a or not b:
        return 0.0
    bs = set(map(str.lower, b))
    return sum(map(bs.__contains__, map(str.lower, a))) / len(a)


def densest_span(units: Sequence[float], penalty: float = 7.0) -> tuple[int, int]:
    """The contiguous run of lines with the most text net of a per-line cost (max-subarray).

    Prose lines pay for themselves, runs of short menu lines do not: the classic body-text-extraction
    idea applied to lines. Returns [start, end) or (0, 0) for an empty input.
    """
    best, best_span, run, start = -math.inf, (0, 0), 0.0, 0
    for i, u in enumerate(units):
        if run <= 0:
            run, start = 0.0, i
        run += u - penalty
        if run > best:
            best, best_span = run, (start, i + 1)
    return best_span


STRONG_BLOCK = 0.5  # a block of text at least half as dense as the page's densest counts as a main block


def dense_blocks(units: Sequence[float], penalty: float = 7.0) -> list[tuple[int, int, float]]:
    """Every block of text, densest first within its stretch: the densest span (:func:`densest_span`), then
    the densest spans left of it and right of it, and so on while a span still pays for itself. Returns
    ``(start, end, net)`` triples, ``net`` being the span's text net of the per-line cost.

    Each stretch's densest span comes from a segment tree (:class:`_SpanTree`) in O(log n), not from a scan
    of the stretch: split one line at a time (prose and empty lines alternating), the scans cost O(n^2),
    11 CPU-s for a text of 20,000 lines, past the cleaning budget."""
    terms = [u - penalty for u in units]
    tree = _SpanTree(terms)
    blocks, todo = [], [(0, len(terms))]
    while todo:
        lo, hi = todo.pop()
        found = tree.densest(lo, hi)
        if found is None:
            continue
        start, end = found
        net = 0.0
        for term in terms[start:end]:  # summed as a scan of the stretch sums it
            net += term
        blocks.append((start, end, net))
        todo += [(lo, start), (end, hi)]
    return blocks


_Node = tuple[int, int, int, int, int, int, int]
"""A segment tree node over lines [a, b), in prefix sums P: (min P[s], its latest s, max P[e], its
earliest e, best P[e] - P[s] with s < e, that s, that e), s in [a, b), e in (a, b]."""


class _SpanTree:
    """The densest span (:func:`densest_span`'s scan, tie-breaks included) of any stretch in O(log n).

    The scan keeps the span ending at the first line where its running net is largest, started just after
    the last point where the running net fell to zero or below: the latest minimum of the prefix sums
    before it. That is a max-subarray query, which a segment tree answers by combining O(log n) nodes.
    Sums are exact (each term scaled to an integer: a float is a dyadic fraction), so a tie is a tie."""

    def __init__(self, terms: Sequence[float]) -> None:
        ratios = [t.as_integer_ratio() for t in terms]
        scale = max((d for _, d in ratios), default=1)
        prefix = [0]
        for numerator, denominator in ratios:
            prefix.append(prefix[-1] + numerator * (scale // denominator))
        self.size = 1 << max(len(terms) - 1, 0).bit_length()
        self.nodes: list[_Node | None] = [None] * (2 * self.size)
        for i in range(len(terms)):
            self.nodes[self.size + i] = (
                prefix[i],
                i,
                prefix[i + 1],
                i + 1,
                prefix[i + 1] - prefix[i],
                i,
                i + 1,
            )
        for k in range(self.size - 1, 0, -1):
            self.nodes[k] = _join(self.nodes[2 * k], self.nodes[2 * k + 1])

    def densest(self, lo: int, hi: int) -> tuple[int, int] | None:
        """``[start, end)`` of the densest span of lines ``[lo, hi)``, None when no span pays for itself."""
        left: _Node | None = None
        right: _Node | None = None
        lo, hi = lo + self.size, hi + self.size
        while lo < hi:
            if lo & 1:
                left = _join(left, self.nodes[lo])
                lo += 1
            if hi & 1:
                hi -= 1
                right = _join(self.nodes[hi], right)
            lo, hi = lo >> 1, hi >> 1
        whole = _join(left, right)
        if whole is None or whole[4] <= 0:
            return None
        return whole[5], whole[6]


def _join(left: _Node | None, right: _Node | None) -> _Node | None:
    """The node of two adjacent stretches, with the scan's tie-breaks: the span ending first wins, and of
    the starts of one end, the latest."""
    if left is None:
        return right
    if right is None:
        return left
    l_min, l_min_at, l_max, l_max_at, l_best, l_from, l_to = left
    r_min, r_min_at, r_max, r_max_at, r_best, r_from, r_to = right
    low = (r_min, r_min_at) if r_min <= l_min else (l_min, l_min_at)
    high = (l_max, l_max_at) if l_max >= r_max else (r_max, r_max_at)
    across = r_max - l_min
    if across > r_best or (across == r_best and r_max_at < r_to):
        ends_right = (across, l_min_at, r_max_at)
    else:
        ends_right = (r_best, r_from, r_to)
    best = (l_best, l_from, l_to) if l_best >= ends_right[0] else ends_right
    return (*low, *high, *best)


def block_features(units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each line's block strength (its block's net text against the page's densest block; 0 outside any
    block) and its distance (log1p lines) to the nearest main block (STRONG_BLOCK of the densest or more).

    The single densest span marks one run of prose; an article cut in two by a chart, a gallery or an
    inline promotion has two, and the lines of the second were scored as if they lay outside the article
    (a chart between two halves cut the second half of an economics story)."""
    n = len(units)
    strength = np.zeros(n)
    distance = np.full(n, float(n))
    blocks = dense_blocks(units)
    if not blocks:
        return strength, np.log1p(distance)
    top = max(net for _, _, net in blocks)
    for start, end, net in blocks:
        strength[start:end] = net / top
    main = [(start, end) for start, end, net in blocks if net >= STRONG_BLOCK * top]
    return strength, np.log1p(np.minimum(distance, _distance_to(main, n)))


def _distance_to(spans: list[tuple[int, int]], n: int) -> np.ndarray:
    """Lines from each of ``n`` lines to the nearest of the disjoint ``spans`` (0 inside one), in one
    sweep each way rather than one pass over every line per span."""
    idx = np.arange(n)
    starts = np.full(n, 2 * n + 1)
    lasts = np.full(n, -(2 * n + 1))
    inside = np.zeros(n + 1, dtype=np.int64)
    for start, end in spans:
        starts[start], lasts[end - 1] = start, end - 1
        inside[start] += 1
        inside[end] -= 1
    ahead = np.minimum.accumulate(starts[::-1])[::-1] - idx
    behind = idx - np.maximum.accumulate(lasts)
    return np.where(np.cumsum(inside)[:n] > 0, 0, np.minimum(ahead, behind))


FEATURE_NAMES = (
    "bias",
    "log_units",
    "log_chars",
    "ends_sentence",
    "log_sentences",
    "stopwords",
    "capitalised",
    "digits",
    "upper",
    "commas",
    "url_like",
    "separators",
    "appeal",
    "legal",
    "nav",
    "second_person",
    "imperative",
    "date_like",
    "byline",
    "reporting_credit",
    "caption_credit",
    "credit_only",
    "question",
    "position",
    "char_position",
    "log_repeats",
    "title_overlap",
    "in_span",
    "before_span",
    "after_span",
    "span_edge",
    "ctx1_units",
    "ctx3_units",
    "ctx6_units",
    "ctx3_long",
    "ctx6_long",
    "ctx3_appeal",
    "ctx3_second_person",
    "ctx3_stopwords",
    "short",
    "long",
    "prev_short_run",
    "next_short_run",
    "comment_header",
    "after_comments",
    "block_strength",
    "near_main_block",
)


def _window_mean(values: np.ndarray, radius: int) -> np.ndarray:
    """Mean of the neighbours within radius (the line itself excluded)."""
    n = len(values)
    if n == 0:
        return values
    csum = np.concatenate([[0.0], np.cumsum(values)])
    idx = np.arange(n)
    lo, hi = np.maximum(idx - radius, 0), np.minimum(idx + radius + 1, n)
    count = hi - lo - 1
    return np.where(count > 0, (csum[hi] - csum[lo] - values) / np.maximum(count, 1), 0.0)


def _short_runs(short: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Length of the run of short lines just before and just after each line (log-scaled)."""
    n = len(short)
    before, after = np.zeros(n), np.zeros(n)
    run = 0
    for i in range(n):
        before[i] = run
        run = run + 1 if short[i] else 0
    run = 0
    for i in range(n - 1, -1, -1):
        after[i] = run
        run = run + 1 if short[i] else 0
    return np.log1p(before), np.log1p(after)


SHOUTED_LOWER = 0.05  # a document with fewer lower-case letters than this (of all cased ones) was upper-cased
SENTENCE_START = re.compile(r"(^|[.!?]\s+)(\w)")


def case_neutral(lines: Sequence[str]) -> list[str]:
    """A document upper-cased whole (a feed's all-caps copy) in sentence case; any other as it is.

    Its case then says nothing about its lines, yet every line would read as a shouted menu item or a
    heading (the upper-case and Title-Case signals), so the case signals see it as a writer would have
    cased it: lower case, with a capital at each sentence's start."""
    text = "\n".join(lines)
    lower = sum(map(str.islower, text))
    if lower > SHOUTED_LOWER * (lower + sum(map(str.isupper, text))):
        return list(lines)
    return [SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), line.lower()) for line in lines]


def line_features(lines: Sequence[str], lang: str | None = None) -> np.ndarray:
    """The feature matrix (one row per line, columns in FEATURE_NAMES) of a document's lines."""
    n = len(lines)
    if n == 0:
        return np.zeros((0, len(FEATURE_NAMES)))
    lines = case_neutral(lines)
    stops = stop_words(lang)
    tokens = [words(line) for line in lines]
    units = np.array(
        [
            len(toks) if not CJK.search(line) else length_units(line)
            for line, toks in zip(lines, tokens, strict=True)
        ],
        dtype=float,
    )
    chars = np.array([len(line) for line in lines], dtype=float)
    counts = Counter(lines)
    title_set = set(map(str.lower, tokens[0]))
    span = densest_span(units)
    total_chars = chars.sum() or 1.0
    char_pos = (np.cumsum(chars) - chars) / total_chars
    rows = np.zeros((n, len(FEATURE_NAMES)))
    appeal = np.zeros(n)
    second = np.zeros(n)
    stopr = np.zeros(n)
    for i, (line, toks) in enumerate(zip(lines, tokens, strict=True)):
        nt = max(len(toks), 1)
        appeal[i] = appeal_ratio(toks)
        second[i] = second_person_ratio(toks)
        stopr[i] = stopword_ratio(toks, stops)
        rows[i, 3] = ends_like_sentence(line)
        rows[i, 4] = math.log1p(sentence_count(line))
        rows[i, 5] = stopr[i]
        rows[i, 6] = capitalised_ratio(toks)
        digits = len(DIGIT.findall(line))
        rows[i, 7] = digits / len(line)
        rows[i, 8] = _upper_share(line, toks, digits)
        rows[i, 9] = line.count(",") / nt
        rows[i, 10] = bool(URL_LIKE.search(line))
        rows[i, 11] = min(sum(map(line.count, SEPARATOR_CHARS)), 5) / 5
        rows[i, 12] = appeal[i]
        rows[i, 13] = vocabulary_hits(toks, LEGAL_WORDS) / nt
        rows[i, 14] = vocabulary_hits(toks, NAV_WORDS) / nt
        rows[i, 15] = second[i]
        rows[i, 16] = starts_imperative(toks)
        rows[i, 17] = len(toks) < 20 and is_date_like(line)
        rows[i, 18] = is_byline(line)
        rows[i, 19] = is_reporting_credit(line)
        rows[i, 20] = split_caption_credit(line) is not None
        rows[i, 21] = is_credit_only(line)
        rows[i, 22] = line.rstrip().endswith(("?", "？"))
        rows[i, 25] = math.log(counts[line])
        rows[i, 26] = (
            sum(map(title_set.__contains__, map(str.lower, toks))) / nt if i > 0 and toks else float(i == 0)
        )
    rows[:, 0] = 1.0
    rows[:, 1] = np.log1p(units)
    rows[:, 2] = np.log1p(chars)
    rows[:, 23] = np.arange(n) / max(n - 1, 1)
    rows[:, 24] = char_pos
    idx = np.arange(n)
    rows[:, 27] = (idx >= span[0]) & (idx < span[1])
    rows[:, 28] = np.log1p(np.maximum(span[0] - idx, 0))
    rows[:, 29] = np.log1p(np.maximum(idx - span[1] + 1, 0))
    rows[:, 30] = (idx == span[0]) | (idx == span[1] - 1)
    log_units = rows[:, 1]
    long_ = (units >= 15).astype(float)
    short = (units < 6).astype(float)
    rows[:, 31] = _window_mean(log_units, 1)
    rows[:, 32] = _window_mean(log_units, 3)
    rows[:, 33] = _window_mean(log_units, 6)
    rows[:, 34] = _window_mean(long_, 3)
    rows[:, 35] = _window_mean(long_, 6)
    # Appeal nearby, weighed by length: a one-word "Subscribe" button above the headline is no appeal box,
    # and counted in full it cut an article's first paragraph.
    rows[:, 36] = _window_mean(appeal * np.minimum(units, APPEAL_ADDRESS_WORDS) / APPEAL_ADDRESS_WORDS, 3)
    rows[:, 37] = _window_mean(second, 3)
    rows[:, 38] = _window_mean(stopr, 3)
    rows[:, 39] = short
    rows[:, 40] = long_
    rows[:, 41], rows[:, 42] = _short_runs(short)
    headers = np.array([is_comment_header(line) for line in lines], dtype=float)
    rows[:, 43] = headers
    rows[:, 44] = np.log1p(np.cumsum(headers) - headers)
    rows[:, 45], rows[:, 46] = block_features(units)
    return rows
