"""Each text-mode signal on small, obvious cases."""

from __future__ import annotations

import numpy as np

from transforms.boilerplate import signals as sig

PROSE = (
    "Russian authorities said on Monday that Moscow is ready to negotiate, but insisted that the claims "
    "were imperative to ending the war."
)


def test_length_units_counts_cjk_characters_as_words():
    assert sig.length_units("one two three") == 3
    assert sig.length_units("日本語の文章です") > 3


def test_sentence_shape():
    assert sig.sentence_count(PROSE) == 1
    assert sig.sentence_count("One. Two! Three?") == 3
    assert sig.ends_like_sentence(PROSE)
    assert not sig.ends_like_sentence("Sports Scores Schedule")


def test_stopword_density_separates_prose_from_menus():
    stops = sig.stop_words("en")
    assert sig.stopword_ratio(sig.words(PROSE), stops) > 0.3
    assert sig.stopword_ratio(sig.words("Business Markets Tech Politics"), stops) == 0.0


def test_stop_words_fall_back_to_english_for_unknown_languages():
    assert "the" in sig.stop_words("xx-unknown")
    assert "und" in sig.stop_words("de")


def test_stop_words_of_languages_spacy_lacks_come_from_justext():
    assert {"og", "ikke"} <= sig.stop_words("no")
    assert {"na", "ya"} <= sig.stop_words("sw")
    assert "og" not in sig.stop_words("en")


def test_capitalised_ratio():
    assert sig.capitalised_ratio(sig.words("Real Estate Top Workplaces")) == 1.0
    assert sig.capitalised_ratio(sig.words("the market fell sharply")) == 0.0


def test_appeal_and_second_person_signals():
    toks = sig.words("Your support makes a world of difference. Please support us and donate today")
    assert sig.vocabulary_hits(toks, sig.APPEAL_WORDS) >= 3
    assert sig.second_person_ratio(toks) > 0.1
    assert sig.second_person_ratio(sig.words(PROSE)) == 0.0


def test_imperative_start():
    assert sig.starts_imperative(sig.words("Sign up for our free weekly newsletter"))
    assert not sig.starts_imperative(sig.words(PROSE))


def test_legal_and_nav_vocabulary():
    assert sig.vocabulary_hits(sig.words("We use cookies; see our Privacy Policy"), sig.LEGAL_WORDS) >= 3
    assert sig.vocabulary_hits(sig.words("Share on Facebook Twitter Email"), sig.NAV_WORDS) == 4


def test_links_and_dates():
    assert sig.URL_LIKE.search("Read more at www.example.com")
    assert sig.URL_LIKE.search("Follow @newsdesk")
    assert not sig.URL_LIKE.search(PROSE)
    assert sig.DATE_LIKE.search("Updated Nov. 19, 2019 8:21 am ET")
    assert sig.DATE_LIKE.search("13.11.2019, 23:06")


def test_byline():
    assert sig.is_byline("By Jamelle Bouie")
    assert not sig.is_byline("Bystanders watched the parade")


def test_reporting_credits():
    assert sig.is_reporting_credit("AFP contributed reporting.")
    assert sig.is_reporting_credit("(Reporting by Will Dunham; Editing by Tom Brown)")
    assert sig.is_reporting_credit("Fox News’ Jessica Napoli contributed to this report.")
    assert not sig.is_reporting_credit(PROSE)


def test_caption_credit_split():
    line = "A large Russian flag displayed in the occupied Ukrainian city of Mariupol. Dmitry Yagodkin / TASS"
    assert sig.split_caption_credit(line) == (
        "A large Russian flag displayed in the occupied Ukrainian city of Mariupol.",
        "Dmitry Yagodkin / TASS",
    )
    nyt = "Trump asked voters for a big win. Credit... Doug Mills/The New York Times"
    assert sig.split_caption_credit(nyt) == (
        "Trump asked voters for a big win.",
        "Doug Mills/The New York Times",
    )
    ap = "Trims are loaded into a truck in Hialeah, Fla. (AP Photo/Alan Diaz, File)"
    assert sig.split_caption_credit(ap)[1] == "AP Photo/Alan Diaz, File"
    assert sig.split_caption_credit(PROSE) is None


def test_bare_photo_credits():
    assert sig.is_credit_only("Getty Images")
    assert sig.is_credit_only("Photo: Reuters")
    assert sig.is_credit_only("Sakib Ali/Hindustan Times/Getty Images")
    assert not sig.is_credit_only(PROSE)


def test_title_overlap():
    assert (
        sig.token_overlap(sig.words("Republicans Follow Trump"), sig.words("Republicans Follow Trump - NYT"))
        == 1
    )
    assert sig.token_overlap([], sig.words("x")) == 0.0


def test_densest_span_finds_the_prose_run():
    units = [1, 2, 1, 40, 35, 2, 50, 1, 1, 1, 2]
    assert sig.densest_span(units) == (3, 7)
    assert sig.densest_span([]) == (0, 0)


def test_line_features_shape_and_context():
    lines = ["Home", "News", "Sports", PROSE, PROSE + " More.", "Contact us"]
    x = sig.line_features(lines, "en")
    assert x.shape == (len(lines), len(sig.FEATURE_NAMES))
    col = {name: i for i, name in enumerate(sig.FEATURE_NAMES)}
    assert x[3, col["in_span"]] == 1 and x[0, col["in_span"]] == 0
    assert np.all(np.isfinite(x))
    assert sig.line_features([], None).shape == (0, len(sig.FEATURE_NAMES))


def test_comments_headings_and_meta_lines():
    for heading in ("[ 167 comments ]", "{ 12 Comments }", "Top Rated Comments", "Kommentare (12)"):
        assert sig.is_comments_heading(heading), heading
    for line in ("Comments (5 posted)", "Discussion", "The comments of the minister", PROSE):
        assert not sig.is_comments_heading(line), line
    assert sig.is_comment_meta("Chris Huang — July 10th, 2012, 1:26 am")
    assert sig.is_comment_meta("Reply") and sig.is_comment_meta("2 days ago at 07:52 am")
    assert not sig.is_comment_meta("Nick A") and not sig.is_comment_meta(PROSE)


def test_comment_headers():
    assert sig.is_comment_header("Alex on September 17, 2018 at 6:34 am said:")
    assert sig.is_comment_header("12 Comments")
    assert sig.is_comment_header("Leave a Reply")
    assert not sig.is_comment_header(PROSE)


def test_date_like_lines():
    assert sig.is_date_like("First Published: Tuesday, November 19, 2019 08:38 AM")
    assert sig.is_date_like("Posted by the editors")
    assert not sig.is_date_like("Sports Scores Schedule")


def test_character_shares():
    assert sig.digit_ratio("2019") == 1.0 and sig.digit_ratio("") == 0.0
    assert sig.upper_ratio("ABC def") == 0.5
    assert sig.upper_ratio("ПРИВЕТ мир") == 6 / 9
    assert sig.upper_ratio("123 _") == 0.0


def test_everyday_appeal_words_in_news_prose_are_not_an_appeal():
    news = sig.words(
        "The senator said she would support the bill, and union members voted to help the miners."
    )
    assert sig.appeal_ratio(news) == 0.0
    assert sig.appeal_ratio(sig.words("Support our independent journalism with a monthly gift today.")) > 0
    assert (
        sig.appeal_ratio(sig.words("Abonnieren Sie unseren Newsletter und erhalten Sie jeden Morgen alles."))
        > 0
    )
    assert sig.appeal_ratio(sig.words("Members")) > 0  # a menu item


def test_the_safety_net_keeps_the_main_run_of_prose_the_classifier_cut():
    from transforms.boilerplate.text import STOPWORDS, keep_most_prose, prose_lines

    lines = (
        ["Home", "News", "Sport"]
        + [
            f"The council said on day {i} that the new bus routes would be paid for by the regional levy."
            for i in range(6)
        ]
        + ["Contact", "About"]
    )
    units = np.array([sig.length_units(line) for line in lines])
    stops = sig.line_features(lines, "en")[:, STOPWORDS]
    cut = np.zeros(len(lines), dtype=bool)
    cut[3] = True  # the classifier kept one of six prose lines
    prose = prose_lines(lines, units, stops)
    kept = keep_most_prose(units, prose, cut)
    assert kept.tolist() == [False] * 3 + [True] * 6 + [False] * 2
    most = np.zeros(len(lines), dtype=bool)
    most[3:8] = True  # it kept most of the run: its decision stands
    assert keep_most_prose(units, prose, most).tolist() == most.tolist()


def test_the_body_gaps_are_filled_inside_the_article_and_nowhere_else():
    from transforms.boilerplate.text import STOPWORDS, fill_body_gaps, prose_lines

    prose = "The council said on Monday that the new bus routes would be paid for by the regional levy."
    lines = [
        "Home",
        prose,  # 1: before the body: not added
        "Residents welcomed the plan at a meeting in the town hall, where the mayor presented the figures.",
        "Funding",  # 3: a subheading between two body lines
        "The first routes will open in spring, and the rest before the end of the year, the council said.",
        "Sign up to our newsletter and support our independent journalism for just a few euros a month.",
        "Officials said the levy would raise about two million euros a year for the regional transport fund.",
        "Most read",
        "The mayor said he expected the first buses to be full within weeks of the routes being opened.",
        prose,  # 9: after the body: not added
    ]
    units = np.array([sig.length_units(line) for line in lines])
    stops = sig.line_features(lines, "en")[:, STOPWORDS]
    body = np.array([False, False, True, False, True, False, False, False, True, False])
    prob = np.array([0.0, 0.3, 0.9, 0.3, 0.9, 0.3, 0.15, 0.1, 0.9, 0.3])
    filled = fill_body_gaps(lines, prob, prose_lines(lines, units, stops), body)
    # the subheading (3) and the paragraph after the promotion (6) join the body; the promotion (5), the
    # menu line (7, not prose and not between two body lines) and the prose outside the body (1, 9) do not
    assert np.flatnonzero(filled).tolist() == [2, 3, 4, 6, 8]
    low = prob.copy()
    low[[3, 6]] = [0.1, 0.05]  # lines the classifier ruled out stay out
    assert np.flatnonzero(fill_body_gaps(lines, low, prose_lines(lines, units, stops), body)).tolist() == [
        2,
        4,
        8,
    ]
