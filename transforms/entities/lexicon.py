"""Classes of words that a news NER model trained on Reuters 1996 gets wrong in today's news, and what each is.

- Common-noun acronyms (AI, EV, HVAC, ID, TB) and degrees (PhD, MBA) are no names: dropped; so is a noun that
  points into a document with a number ("Table 3", "Tab 4", "Factor 1"). A war's acronym (WWII) is an event's
  name, a miscellaneous one.
- A country code before a currency sign ("US $", "HK$") is part of the currency, not a place, and a currency's
  code or abbreviation before or after an amount ("INR 500", "Rs 20", "225 DKK per hour") is no name:
  dropped.
- Letters after a person's name ("Mark Tedeschi, QC", "Jo Cox MP") are no organisation or place: dropped.
- An abbreviated title standing alone ("Dr", "Mrs") is no person, and an era after a year ("394 AD",
  "776 BCE") no organisation: dropped.
- A deity ("God", "Allah") is no person: dropped; religions and their followers ("Muslims", "Catholic") are
  miscellaneous names, as CoNLL annotates them.
- A nationality word ("Russian", "Americans") is a miscellaneous name, not a place, person or organisation.
- A social network ("Twitter", "TikTok") is an organisation (the company), wherever it appears.
- A "person" or "place" (not a nationality word) right after a word for a newspaper, magazine or news agency
  ("the official newspaper Granma", "the news weekly Der Spiegel") or right before one ("Zycie Warszawy
  daily said") is that publication, an organisation, and so is every other mention of that name.
- A generic noun for a state or its seat after "the" ("the Kingdom", "the Republic", "the National Capital")
  is no place name.
- A religious or cultural festival ("Diwali", "Ramadan", "Thanksgiving") is a miscellaneous name, not a place
  or person.
- One word with a capital inside after a lowercase stem of three letters or more ("AppleSkin", "PlayStation",
  "iPhone") is a product's or brand's name, not a person's (surnames with a capital inside start with a
  particle: McCain, MacArthur, DeSantis, LaGuardia, DiCaprio).
- A short all-capitals or a mixed-case acronym (outside a line in capitals) read as a place the gazetteer does not know ("BJP", "TxDOT") is an
  organisation.
- A word opening a sentence that the same article prints in lowercase elsewhere and never capitalised
  inside a sentence ("Iodine deficiency ..." in an article about iodine) is that common word: dropped.
- A legislature named by its common name ("Parliament", "Congress") mid-sentence is an organisation.
- A storm's name ("Cyclone Phailin", "Hurricane Ian", "Storm Ciarán") is an event's, a miscellaneous name, not a
  place or person, and so is every later mention of it ("Phailin" alone).
- The "al." of a citation's "et al." is no name.
- A "person" after an article or possessive and a word that describes products ("its electric Gran Turismo",
  "the new Galaxy") is a product's name, a miscellaneous one: people are not introduced so.
- A "person" or "organisation" named right after the kind of work or craft it is ("the romantic comedy
  Chasing Liberty", "the 1969 film Easy Rider", "the television series Gilmore Girls", "the spacecraft
  Stardust", "the cruise ship Freewinds") is that work's title or that vessel's name, a miscellaneous name,
  and so is every other mention of that name: people and bodies are not introduced so ("the film's director
  Louis Malle" has its noun before the name, "to film Smith" a verb, "the plane Boeing built" its maker).
- A "person" or "organisation" right before a word for a language, a people or its culture ("the Moriori
  people", "Hohokam culture", "a Tai-Kadai language", "Chitonga-speaking") is that people's or language's
  name, a miscellaneous one as CoNLL annotates nationalities, and so is every other mention of that name.
- A "person" or "organisation" whose name stands only ever in quotation marks ("Nigorie", "Anne of a Thousand
  Days") is a work's title or a nickname, a miscellaneous name.
- Surnames in author-year citations ("(Porte, 2012)", "Makel et al.") are persons (``citations.py``).

Each list holds ordinary English words of its class, not names from any data set.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

import pycountry

from transforms.entities import citations, work_kinds
from transforms.entities.confidence import names_a_place
from transforms.entities.gazetteer import Gazetteer
from transforms.entities.recognize import RawMention, covered
from transforms.entities.rules import starts_sentence


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


COMMON_ACRONYMS = _words(
    """AI AR VR XR EV EVs SUV SUVs AWD 4WD HVAC ID IDs TB HIV DNA RNA GDP CEO CEOs CFO COO CTO IPO IPOs ETF
    ETFs GPS LED LEDs LCD USB PC PCs TV TVs IT HR PR FAQ PDF URL API APIs SMS VPN IQ ICU ER MRI CT PTSD ADHD
    OK AM PM RPM MPH MPG ATM ATMs CCTV DIY DUI DWI ESG GMO IVF NFT NFTs OTC PPE SEO SIM STEM UV VAT VIP VIPs
    GT GPU GPUs CPU CPUs AC DC HD 4K 5G 4G LTE QR RWD FWD PhD PhDs Ph.D. MBA MBAs MSc BSc DPhil MVP MVPs POV
    R&D M&A B2B B2C SaaS LGBT LGBTQ LGBTQ+ LGBTQIA+ FDI GIS ROV ROVs NGO NGOs SME SMEs MSME MSMEs CPI PMI EPS
    EBITDA LNG LPG CNG GST KYC OTT BPO FY AQI COPD STD STDs CBD THC YoY QoQ WFH MoU MoUs FIR FIRs"""
)
# Wars by their acronyms, events as "World War II" is (``rules.is_event``).
WAR_ACRONYMS = _words("WWI WWII WW1 WW2")
# Nouns that point into a document with a number ("Table 3", "Tab 4", "Factor 1"), no names.
_REFERENCE_NOUNS = _words(
    """table tab figure fig fig. exhibit appendix section chapter paragraph para page factor step phase part
    item annex schedule clause footnote equation eq eq. box panel slide"""
)
_NUMBER_AFTER = re.compile(r"\s\d")
# ISO 4217 codes (pycountry) and the abbreviations news prints before amounts of rupees, rupiah and taka.
CURRENCIES = frozenset(c.alpha_3 for c in pycountry.currencies) | _words("Rs Rs. Rp Rp. Tk Tk.")
_AMOUNT_AFTER = re.compile(r"\s?\d")
_AMOUNT_BEFORE = re.compile(r"\d(?:\s?(?:million|billion|bn|mn|m|k))?\s?$")
_ERAS = _words("AD BC BCE CE")
_YEAR_BEFORE = re.compile(r"\d\s?$")
_TITLE_ABBREVIATIONS = _words(
    "dr mr mrs ms mx prof rev gen sen rep gov lt sgt col capt cpl pvt st smt shri hon rt engr barr mme mlle"
)
# Letters after a person's name for an office, a rank at the bar or an honour ("Mark Tedeschi, QC").
POST_NOMINALS = _words("QC KC SC MP MEP MSP MLA MPP MHA OBE MBE CBE KBE DBE")
_NAME_GAP = re.compile(r"\s?,?\s?$")
DEITIES = _words("god allah jehovah yahweh almighty")
RELIGIONS = _words(
    """christian christians christianity muslim muslims islam islamic jew jews jewish judaism hindu hindus
    hinduism buddhist buddhists buddhism sikh sikhs sikhism catholic catholics catholicism protestant
    protestants evangelical evangelicals mormon mormons sunni sunnis shia shiite shiites shi'ite shi'ites"""
)
SOCIAL_NETWORKS = _words(
    """Twitter Facebook Instagram YouTube TikTok WhatsApp LinkedIn Snapchat Reddit Telegram WeChat Weibo
    Pinterest Tumblr Bluesky Mastodon Twitch Discord"""
)
# Generic nouns for a state or its seat that "the" makes a reference, not a name ("the Kingdom said"),
# alone or after an ordinary adjective ("the National Capital").
POLITY_NOUNS = _words(
    "kingdom republic emirate emirates principality federation commonwealth union nation realm capital"
)
_POLITY_ADJECTIVES = _words("national federal royal holy great")
FESTIVALS = _words(
    """diwali deepavali holi navratri dussehra durga puja onam pongal ramadan ramzan eid hajj hanukkah chanukah
    passover purim sukkot yom kippur rosh hashanah christmas easter pentecost halloween
    thanksgiving kwanzaa nowruz vesak songkran"""
)
# Words before a storm's given name; "Storm" only before a mention, as it is also a given name ("Storm Reid").
_STORM = re.compile(r"(?:Hurricane|Cyclone|Typhoon|Storm)\s+$")
_STORM_START = re.compile(r"(?:Hurricane|Cyclone|Typhoon|Super Typhoon|Tropical Storm)\s")
_PRODUCT_BEFORE = re.compile(
    r"\b(?:the|a|an|its|their|our|his|her|my|your)\s+(?:new|latest|upcoming|electric|all-electric|all-new"
    r"|redesigned|hybrid|plug-in|flagship|refreshed|updated)\s+$",
    re.IGNORECASE,
)
LEGISLATURES = _words("Parliament Congress Senate Knesset Bundestag Duma Politburo")
# Kinds of work and of craft that introduce a title or a vessel's name right after them ("the film Easy
# Rider", "the spacecraft Stardust", "the cruise ship Freewinds"), both miscellaneous names in CoNLL-2003; one
# table with the kinds ``rules`` reads in definitions (``work_kinds``, which says why the two uses differ).
WORK_NOUNS = work_kinds.kind_words(work_kinds.Use.BEFORE_NAME)
# Words for publications and news agencies that introduce one's name ("the official newspaper Granma"), an
# organisation in CoNLL-2003 as in OntoNotes.
PUBLICATION_NOUNS = _words("newspaper daily weekly tabloid magazine broadsheet broadcaster")
# A publication "says" and "reports"; its owner, founder or writer is the person after its noun.
_OWNER_AFTER = re.compile(r"\s(?:founded|founds|owns|owned|bought|buys|sold|edited|edits|wrote|writes)\b")
_PUBLICATION_AFTER = re.compile(
    r"\s(?:newspaper|tabloid|news agency|(?:daily|weekly)(?=\s+(?:said|says|reported|reports|quoted|wrote)\b))\b"
)
# Words before a work's noun that make it a verb or a noun of its own ("to film Smith", "film director").
_NOT_A_WORK = _words("to will would can could should may might must did does do not and or who that")
# Created-by verbs after a name: in "the film Spielberg directed" the name is the film's maker.
_MAKER_AFTER = re.compile(
    r"\s(?:wrote|writes|directed|directs|produced|produces|made|makes|filmed|shot|starred|stars|released"
    r"|co-wrote|composed|sang|painted|published|said|says|told|built|builds|designed|launched|flew|owns|owned"
    r"|bought|sold|ordered|commissioned)\b"
)
_GROUP_AFTER = re.compile(
    r"(?:\s(?:language|languages|dialect|dialects|culture|cultures|cuisine|people|peoples|tribe|tribes"
    r"|speakers)|\s?-\s?speaking)\b"
)
_CAPITALISED_NEXT = re.compile(r" [A-Z]")
_NOUN_BEFORE_NAME = re.compile(
    r"(?<![\w-])(?:"
    + "|".join(
        re.escape(w) for w in sorted(WORK_NOUNS | PUBLICATION_NOUNS | {"agency"}, key=len, reverse=True)
    )
    + r")\s+"
)
_WORD_AFTER_NAME = re.compile(f"{_GROUP_AFTER.pattern}|{_PUBLICATION_AFTER.pattern}")
_OPEN_QUOTE = re.compile(r"(?:^|(?<=[\s(\[]))([\"“‘'])\s?$")
_CLOSE_QUOTE = re.compile(r"\s?([\"”’'])(?![\w’'])")
_PAIRS = {'"': '"”', "“": '”"', "‘": "’'", "'": "'’"}
_CURRENCY_AFTER = re.compile(r"\s?[$€£¥₹]")
_MIXED_ACRONYM = re.compile(r"[A-Z][a-z]+[A-Z]{2,}[A-Za-z]*")  # "TxDOT", not "McLoughlin"
_PRODUCT = re.compile(r"(?:[A-Z][a-z]{2,}|[a-z]{1,3})[A-Z][a-z]+")  # "AppleSkin", "iPhone"; not "McCain"
_NAME_PARTICLES = ("Mac", "Van", "Von", "Del", "Des", "Den", "Der", "Fitz", "San", "Dela")


def _fold(text: str) -> str:
    return text.rstrip(".").replace("’", "'").casefold()


def apply(body: str, mentions: list[RawMention], gaz: Gazetteer) -> list[RawMention]:
    """The mentions with the word classes above dropped, retyped or added."""
    names = {body[m.start : m.end] for m in mentions}
    occurrences = Occurrences(body, [f for t in names for f in (t, t.lower(), *t.split()[-1:])])
    storms = {body[m.start : m.end] for m in mentions if _storm(body, m)}
    anchors = _anchors(body)
    in_person: dict[str, int] = {}  # each word of a person's name: the longest such name it is in
    for m in mentions:
        if m.type == "PERSON":
            for word in body[m.start : m.end].split():
                in_person[word] = max(in_person.get(word, 0), m.end - m.start)
    titled = {
        text
        for text in {body[m.start : m.end] for m in mentions if m.type in ("PERSON", "ORG")}
        if _work_or_people(body, text, in_person, gaz, anchors)
    }
    publications = {
        text
        for text in {body[m.start : m.end] for m in mentions if m.type in ("PERSON", "LOC")}
        if _publication(body, text, gaz, anchors)
        and gaz.demonym(text.split()[0]) is None  # "a British newspaper"
    }
    person_ends = {m.end for m in mentions if m.type == "PERSON"}
    lines = _Lines(body)
    out = []
    for m in mentions:
        text = body[m.start : m.end]
        word = _fold(text)
        if (
            text in COMMON_ACRONYMS
            or word in _REFERENCE_NOUNS
            and _NUMBER_AFTER.match(body, m.end)
            or word in ("al", "al.")
            and body[max(0, m.start - 3) : m.start] == "et "
            or _common_noun_opening(body, m.start, text, occurrences)
            or m.type in ("PERSON", "ORG")
            and _mostly_lowercase(body, text, gaz, occurrences)
            or currency_follows(body, m.end)
            and text.isupper()
            and len(text.rstrip(".").replace(".", "")) <= 3
            or text in CURRENCIES
            and (
                _AMOUNT_AFTER.match(body, m.end) or _AMOUNT_BEFORE.search(body, max(0, m.start - 12), m.start)
            )
            or text.rstrip(".").replace(".", "") in _ERAS
            and _YEAR_BEFORE.search(body, max(0, m.start - 2), m.start)
            or word in _TITLE_ABBREVIATIONS
            or text in POST_NOMINALS
            and _after_person(body, m.start, person_ends)
            or word in DEITIES
            or m.type in ("LOC", "ORG")
            and _generic_polity(word)
            and re.search(r"\b[Tt]he\s+$", body[max(0, m.start - 4) : m.start])
        ):
            continue
        if (
            word in RELIGIONS
            or text in WAR_ACRONYMS
            or text in storms
            or m.type in ("PERSON", "ORG")
            and text in titled
            or (m.type != "MISC" and " " not in text and _demonym(gaz, text))
            or all(w in FESTIVALS for w in word.split())
            or m.type == "PERSON"
            and _PRODUCT_BEFORE.search(body, max(0, m.start - 30), m.start)
            or m.type in ("PERSON", "ORG")
            and _quoted(body, m, occurrences)
            or m.type == "PERSON"
            and _PRODUCT.fullmatch(text)
            and not text.startswith(_NAME_PARTICLES)
            and text not in SOCIAL_NETWORKS
        ):
            m = RawMention(m.start, m.end, "MISC")
        elif (
            text in SOCIAL_NETWORKS
            or text in publications
            or (
                m.type == "LOC"
                and " " not in text
                and (
                    3 <= len(text) <= 5
                    and text.isupper()
                    and text.isalpha()
                    or _MIXED_ACRONYM.fullmatch(text)
                )
                and not lines.capitals_at(m.start)
                and not gaz.candidates(text)
            )
        ):
            m = RawMention(m.start, m.end, "ORG")
        out.append(m)
    return citations.authors(body, sorted(out + _unread(body, out), key=lambda m: m.start), gaz)


def currency_follows(body: str, end: int) -> bool:
    """A currency sign follows a name ending at ``end``: "US $", "NZ$" name a currency, not a country."""
    return _CURRENCY_AFTER.match(body, end) is not None


_T = TypeVar("_T")
_WORD_RUN = re.compile(r"\w+")


class Occurrences:
    r"""The whole-word occurrences of names in one body, as ``(?<!\w)name(?!\w)`` finds them, from one pass
    over the body; and a memo of what is decided per name. A check per mention that searched the whole body
    was quadratic in the mentions: 10,000 "Obama said." took 17 CPU-s, 20,000 four times that. Each name is
    looked up by its first word instead, and what depends only on the name is decided once."""

    def __init__(self, body: str, names: Iterable[str]) -> None:
        self.body = body
        self._keys = {run.group() for name in names if (run := _WORD_RUN.match(name))}
        self._starts: dict[str, list[int]] = {}
        for run in _WORD_RUN.finditer(body):
            if run.group() in self._keys:
                self._starts.setdefault(run.group(), []).append(run.start())
        self._found: dict[str, list[int]] = {}
        self._decided: dict[tuple[str, str], object] = {}

    def of(self, name: str) -> list[int]:
        """Where ``name`` starts as a whole word (not inside a longer one) in the body, in order."""
        if name not in self._found:
            body, first = self.body, _WORD_RUN.match(name)
            if first is not None and first.group() in self._keys:
                # At a run of word characters that is the name's first word exactly: a longer run ("Obamas")
                # is listed under its own word, and the name's first word ends where the body's does.
                found = [
                    s
                    for s in self._starts.get(first.group(), ())
                    if body.startswith(name, s) and not _WORD_RUN.match(body, s + len(name))
                ]
            else:  # a name opening with no word character, or not named when the index was made
                found = [f.start() for f in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", body)]
            self._found[name] = found
        return self._found[name]

    def decide(self, check: str, name: str, decision: Callable[[], _T]) -> _T:
        """``decision()`` for ``name``, made once per body and check."""
        key = (check, name)
        if key not in self._decided:
            self._decided[key] = decision()
        return self._decided[key]  # type: ignore[return-value]


def _common_noun_opening(body: str, start: int, text: str, occurrences: Occurrences) -> bool:
    """A one-word mention opening a sentence, printed in lowercase elsewhere in ``body`` and never
    capitalised inside a sentence."""
    if not text.isalpha() or not text.istitle() or not starts_sentence(body, start):
        return False
    return occurrences.decide(
        "common noun",
        text,
        lambda: (
            bool(occurrences.of(text.lower())) and all(starts_sentence(body, s) for s in occurrences.of(text))
        ),
    )


def _mostly_lowercase(body: str, text: str, gaz: Gazetteer, occurrences: Occurrences) -> bool:
    """A one-word name the article mostly prints in lowercase, a common noun a writer capitalised now and
    then ("iodine" 25 times, "Iodine deficiency" 5 times mid-sentence): in lowercase at least three times and
    more often than capitalised inside a sentence, and no place the gazetteer knows."""
    if len(text) < 3 or not text.isalpha() or not text.istitle():
        return False

    def decision() -> bool:
        count = len(occurrences.of(text.lower()))
        if count < 3:
            return False
        inside = sum(not starts_sentence(body, s) for s in occurrences.of(text))
        return count > inside and not gaz.candidates(text)

    return occurrences.decide("mostly lowercase", text, decision)


def _quoted(body: str, m: RawMention, occurrences: Occurrences) -> bool:
    """Every occurrence of the mention's name fills a pair of quotation marks, and its last word occurs
    nowhere else: a work's title or a nickname ("Nigorie", "Anne of a Thousand Days"), not a person or body
    named in running text (a film "Michael Collins" in an article that also names Collins is left alone, as
    normalisation groups the two). "'s" after the closing mark is a possessive, not a closing quote."""
    if not _fills_quotes(body, m.start, m.end):
        return False
    text = body[m.start : m.end]

    def decision() -> bool:
        starts = occurrences.of(text)
        if not all(_fills_quotes(body, s, s + len(text)) for s in starts):
            return False
        last = text.split()[-1]
        inside = [i for i in range(len(text) - len(last) + 1) if text.startswith(last, i)]
        within_names = {s + i for s in starts for i in inside}  # where the last word stands inside a name
        return all(f in within_names for f in occurrences.of(last))

    return occurrences.decide("quoted", text, decision)


def _fills_quotes(body: str, start: int, end: int) -> bool:
    before = _OPEN_QUOTE.search(body, max(0, start - 3), start)
    after = _CLOSE_QUOTE.match(body, end)
    return bool(before and after and after.group(1) in _PAIRS.get(before.group(1), ""))


def _after_person(body: str, start: int, person_ends: set[int]) -> bool:
    """A person's mention ends right before ``start``, but for a comma and a space."""
    gap = _NAME_GAP.search(body, max(0, start - 3), start)
    return gap is not None and gap.start() in person_ends


def after_work_noun(body: str, start: int, end: int) -> bool:
    """The name at ``start:end`` stands right after the kind of work it is ("the 1969 film Easy Rider"), not
    after a verb ("to film Smith") nor before its maker's verb ("the film Spielberg directed")."""
    words = body[max(0, start - 40) : start].split()
    return (
        len(words) >= 2
        and words[-1] in WORK_NOUNS
        and words[-2].casefold() not in _NOT_A_WORK
        and not _MAKER_AFTER.match(body, end)
    )


_ALNUM_RUN = re.compile(r"[^\W_]+")  # letters and digits, as str.isalnum() has them
_LAST_ALNUM_RUN = re.compile(r"[^\W_]+\Z")


@dataclass(frozen=True)
class _Anchors:
    """Where in a body a name may start right after a word for a work, craft or publication, and where one
    may end right before a word for a language, people or publication; each also by the word there (the run
    of letters and digits starting or ending at it), so that a name is tried at the anchors of its own first
    or last word only. Trying each name at every anchor was quadratic: 4,000 names before "people" took 4
    CPU-s."""

    starts: frozenset[int]
    ends: frozenset[int]
    by_first_word: dict[str, list[int]]
    by_last_word: dict[str, list[int]]


def _anchors(body: str) -> _Anchors:
    """The anchors of ``body``, found once per text."""
    starts = frozenset(found.end() for found in _NOUN_BEFORE_NAME.finditer(body))
    ends = frozenset(found.start() for found in _WORD_AFTER_NAME.finditer(body))
    by_first_word: dict[str, list[int]] = {}
    by_last_word: dict[str, list[int]] = {}
    if starts or ends:
        for run in _ALNUM_RUN.finditer(body):
            if run.start() in starts:
                by_first_word.setdefault(run.group(), []).append(run.start())
            if run.end() in ends:
                by_last_word.setdefault(run.group(), []).append(run.end())
    return _Anchors(starts, ends, by_first_word, by_last_word)


def _standalone(body: str, text: str, anchors: _Anchors) -> list[tuple[int, int]]:
    """The occurrences of ``text`` at one of ``anchors`` that are a whole name, not the start of a longer one
    ("HONG KONG" in "the daily HONG KONG ECONOMIC TIMES").

    A whole name opening with a letter or digit starts where a run of them does that is its own first run
    (a longer run goes on past a name of one run, or past the name's first run into what follows it in the
    name, which is no letter or digit), so only the anchors of that run are tried; the same for the end."""
    first, last = _ALNUM_RUN.match(text), _LAST_ALNUM_RUN.search(text)
    starts = anchors.by_first_word.get(first.group(), ()) if first else anchors.starts
    ends = anchors.by_last_word.get(last.group(), ()) if last else anchors.ends
    found = {(s, s + len(text)) for s in starts if body.startswith(text, s)}
    found |= {(e - len(text), e) for e in ends if e >= len(text) and body.startswith(text, e - len(text))}
    return sorted(
        (s, e)
        for s, e in found
        if not (s > 0 and body[s - 1].isalnum())
        and not (e < len(body) and body[e].isalnum())
        and not _CAPITALISED_NEXT.match(body, e)
    )


def _publication(body: str, text: str, gaz: Gazetteer, anchors: _Anchors) -> bool:
    """A name that somewhere in ``body`` stands right after a word for a newspaper, magazine or news agency
    ("the official newspaper Granma", "the news weekly Der Spiegel", "state news agency IRNA"; not before its
    owner's verb) or right before one ("Zycie Warszawy daily said", "the Dawn newspaper"), unless it is a
    well-known place or a place's initials, which is where the paper is from ("a Hong Kong newspaper", "HK
    newspaper editorials", "Montana weekly bond indices"); "daily" and "weekly" after a name only before a
    verb of reporting."""
    for start, end in _standalone(body, text, anchors):
        words = body[max(0, start - 40) : start].split()
        if (
            (
                len(words) >= 2
                and (words[-1] in PUBLICATION_NOUNS or words[-2:] == ["news", "agency"])
                and words[-2].casefold() not in _NOT_A_WORK
                and not _OWNER_AFTER.match(body, end)
            )
            or _PUBLICATION_AFTER.match(body, end)
            and not names_a_place(text, gaz)
            and not (text.isupper() and len(text) <= 3)  # "HK newspaper editorials": a place's initials
        ):
            return True
    return False


def _work_or_people(
    body: str,
    text: str,
    in_person: dict[str, int],
    gaz: Gazetteer,
    anchors: _Anchors,
) -> bool:
    """A name that somewhere in ``body`` stands right after the kind of work it is, or right before a word
    for a language or people (then a one-word name that is no acronym, no place the gazetteer knows and no
    part of a longer person's name: "EU languages", "Hong Kong people", "the Trump people"; unless it stands
    before such a word twice or more, "the Moriori language", "Moriori culture", which a person's name does
    not). ``in_person``: each word of a person's name, with the length of the longest such name."""
    groups = 0
    for start, end in _standalone(body, text, anchors):
        if after_work_noun(body, start, end):
            return True
        if (
            " " not in text
            and not text.isupper()
            and _GROUP_AFTER.match(body, end)
            and not gaz.candidates(text)
        ):
            groups += 1
    if groups == 0:
        return False
    return groups >= 2 or in_person.get(text, 0) <= len(text)


def _storm(body: str, m: RawMention) -> bool:
    """A storm's given name: after "Hurricane", "Cyclone"... or with that word in the mention."""
    return bool(
        _STORM.search(body, max(0, m.start - 10), m.start) or _STORM_START.match(body, m.start, m.end)
    )


def _generic_polity(word: str) -> bool:
    """ "kingdom", "national capital": a generic noun for a state or its seat, alone or after an adjective."""
    *before, last = word.split()
    return last in POLITY_NOUNS and len(before) <= 1 and all(w in _POLITY_ADJECTIVES for w in before)


class _Lines:
    """What is decided per line of a body, once per line: a check that scanned the mention's whole line
    for each mention was quadratic on a long line (4,000 acronyms on one line: 13 CPU-s)."""

    def __init__(self, body: str) -> None:
        self.body = body
        self._breaks: list[int] | None = None  # where each line ends, found at the first question
        self._lines: dict[int, tuple[int, bool]] = {}  # line start -> (first non-space, in capitals)

    def capitals_at(self, i: int) -> bool:
        """A line's first word (a dateline: "TOFTIR, Faroe Islands") or a headline in capitals, where a word
        in capitals is no acronym."""
        if self._breaks is None:
            self._breaks = [found.start() for found in re.finditer("\n", self.body)]
        at = bisect.bisect_left(self._breaks, i)
        start = self._breaks[at - 1] + 1 if at else 0
        if start not in self._lines:
            end = self._breaks[at] if at < len(self._breaks) else len(self.body)
            text = self.body[start:end]
            first = start + len(text) - len(text.lstrip())
            letters = [c for c in text if c.isalpha()]
            capitals = len(letters) > 12 and sum(c.isupper() for c in letters) > 0.8 * len(letters)
            self._lines[start] = (first, capitals)
        first, capitals = self._lines[start]
        return first >= i or capitals


def _demonym(gaz: Gazetteer, word: str) -> bool:
    if not word[:1].isupper() or gaz.candidates(word):
        return False
    return gaz.demonym(word) is not None or (word.endswith("s") and gaz.demonym(word[:-1]) is not None)


_ADDED = re.compile(r"\b(" + "|".join(sorted(SOCIAL_NETWORKS | LEGISLATURES)) + r")\b")


def _unread(body: str, mentions: list[RawMention]) -> list[RawMention]:
    """Social networks and legislatures the model left out, where no mention covers them; a legislature's
    common name only mid-sentence (a sentence's first word may be the plain noun)."""
    taken = covered(len(body), mentions)
    out = []
    for found in _ADDED.finditer(body):
        start, end = found.span()
        if any(taken[start:end]):
            continue
        if found.group() in LEGISLATURES and starts_sentence(body, start):
            continue
        out.append(RawMention(start, end, "ORG"))
    return out
