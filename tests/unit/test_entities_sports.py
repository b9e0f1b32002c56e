"""Teams in sports reports: places that play are organisations; "the <Nicknames>" are teams."""

from __future__ import annotations

from transforms.entities.recognize import RawMention
from transforms.entities.sports import is_sports_report, teams

GAME = (
    "NORMAN, Okla. (AP) -- Spencer Rattler threw for 193 yards and two touchdowns as Oklahoma beat Baylor "
    "27-14 in Norman, Okla.\nThe Sooners held Baylor to 25 rushing yards. Oklahoma's defense forced a punt "
    "before halftime.\nEngland coach Gareth Southgate, in from ARLINGTON, Texas, watched the game, as Baylor, "
    "Texas and Oklahoma fans did. The quarterback scored twice; the victory was the Sooners' sixth straight, "
    "and their coach praised the defense after the game."
)


def marked(body: str, text: str, type_: str) -> list[RawMention]:
    out, start = [], body.find(text)
    while start >= 0:
        out.append(RawMention(start, start + len(text), type_))
        start = body.find(text, start + 1)
    return out


def test_a_game_report_reads_as_sports_and_a_market_report_does_not():
    assert is_sports_report(GAME)
    assert not is_sports_report("Shares rose 30 points as investors bet on a win for the plan this season.")
    games_industry = "Sony sold more games. " * 6 + "Its games and the season's games sold in California."
    assert not is_sports_report(games_industry)


def test_places_that_play_become_teams_and_venues_countries_stay_places(gaz):
    raw = sorted(
        marked(GAME, "Oklahoma", "LOC")
        + marked(GAME, "Baylor", "ORG")
        + marked(GAME, "Norman", "LOC")
        + marked(GAME, "Okla.", "LOC")
        + marked(GAME, "England", "LOC")
        + marked(GAME, "NORMAN", "LOC")
        + marked(GAME, "ARLINGTON", "LOC")
        + marked(GAME, "Texas", "LOC"),
        key=lambda m: m.start,
    )
    got = {(GAME[m.start : m.end], m.type) for m in teams(GAME, raw, gaz)}
    assert ("Oklahoma", "ORG") in got and ("Oklahoma", "LOC") not in got
    texas = [m.type for m in teams(GAME, raw, gaz) if GAME[m.start : m.end] == "Texas"]
    assert texas == ["LOC", "ORG"]  # the state of a city, then a team in a list
    assert {("Norman", "LOC"), ("Okla.", "LOC"), ("England", "LOC"), ("Baylor", "ORG")} <= got
    assert ("Sooners", "ORG") in got
    assert ("NORMAN", "LOC") in got  # the dateline


def test_outside_sports_reports_nothing_changes(gaz):
    body = "Oklahoma passed a budget. The Democrats objected."
    raw = marked(body, "Oklahoma", "LOC")
    assert teams(body, raw, gaz) == raw


def test_a_county_after_a_venue_s_name_stays_a_place_in_a_sports_report(gaz):
    body = GAME + "\nCalendar: 7/8 April: Brands Hatch Indy, Kent. Kent beat Surrey."
    raw = marked(body, "Kent", "LOC")
    got = [(body[m.start : m.end], m.type) for m in teams(body, raw, gaz) if body[m.start : m.end] == "Kent"]
    assert got == [("Kent", "LOC"), ("Kent", "ORG")]
