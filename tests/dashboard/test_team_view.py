"""The team screen's page model (pure, no server): only good news, shaped for a staff-room screen."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hymy.figures import figure
from server.dashboard.team_view import BestHour, best_hours, messages, pick, team_board, week_of
from server.dashboard.views import StoreRef
from server.results import Count, PraiseMessage

STORE = StoreRef(id="s1", name="Kamppi", timezone="Europe/Helsinki")
TODAY = date(2026, 11, 24)  # a Tuesday


def test_best_hours_are_the_hours_with_most_smiles_and_never_an_unhappy_hour():
    cells = {
        (1, 14): figure([0, 0, 3, 9]),   # Tue (today) 14-15: 12 smiles, 100 %
        (0, 10): figure([1, 1, 4, 8]),   # Mon 10-11: 12 smiles, 86 %
        (6, 12): figure([0, 0, 2, 3]),   # Sun 12-13: 5 smiles
        (5, 17): figure([9, 9, 0, 0]),   # Sat 17-18: none, only unhappy presses
        (4, 9): figure([0, 0, 0, 1]),
    }
    got = best_hours(cells, TODAY)
    assert got == [BestHour(date(2026, 11, 24), 14, 12, 100), BestHour(date(2026, 11, 23), 10, 12, 86),
                   BestHour(date(2026, 11, 22), 12, 5, 100)]
    assert best_hours({(5, 17): figure([9, 9, 0, 0])}, TODAY) == []


def test_week_is_today_and_the_six_days_before():
    assert week_of(TODAY) == (date(2026, 11, 18), TODAY)


def test_board_counts_smiles_and_their_share_and_the_weeks_smiles():
    days = {TODAY: figure([2, 1, 3, 4]), date(2026, 11, 20): figure([0, 0, 5, 5]),
            date(2026, 11, 10): figure([0, 0, 50, 50])}  # outside the week: not counted
    found = [PraiseMessage("s1", "r1", datetime(2026, 11, 24, 12, 5, tzinfo=UTC), ("staff", "gone"), "Kiitos!", "c1")]
    b = team_board(STORE, TODAY, days, {}, found, found, {"staff": "Henkilökunta"}, [Count("praise", "staff", 3)],
                   [Count("praise", "staff", 9), Count("praise", "speed", 2)])
    assert (b.smiles, b.n, b.share, b.week_smiles) == (7, 10, 70, 17)
    assert b.messages[0].when == "14:05" and b.messages[0].praise == ("Henkilökunta", "gone")  # local time
    assert b.messages[0].comment == "Kiitos!"
    assert b.praise_today == [("Henkilökunta", 3)] and b.praise_week == [("Henkilökunta", 9), ("speed", 2)]


def test_board_of_a_quiet_day_has_no_share_and_no_messages():
    b = team_board(STORE, TODAY, {}, {}, [], [], {}, [], [])
    assert (b.smiles, b.n, b.share, b.week_smiles, b.messages, b.best_hours) == (0, 0, None, 0, [], [])


def test_pick_keeps_the_comments_on_screen_however_many_praise_buttons_came_after():
    def msg(i: int, comment: str | None = None) -> PraiseMessage:
        return PraiseMessage("s1", f"r{i}", datetime(2026, 11, 24, 8, 0, tzinfo=UTC) + timedelta(minutes=i), ("staff",),
                             comment, f"c{i}" if comment else None)

    newest = [msg(i) for i in range(40, 30, -1)]  # ten praise-button presses after the comments
    with_comment = [msg(5, "Kiitos Mari!"), msg(2, "Paras kassa")]
    got = pick(newest, with_comment, limit=4)
    assert [m.response_id for m in got] == ["r40", "r39", "r5", "r2"]
    assert pick(newest, [], limit=3) == newest[:3]
    assert pick([], [msg(i, "x") for i in range(9, 0, -1)], limit=2) == [msg(9, "x"), msg(8, "x")]


def test_messages_use_each_stores_zone_and_the_given_format():
    at = datetime(2026, 6, 1, 21, 30, tzinfo=UTC)
    stores = {"s1": STORE, "s2": StoreRef(id="s2", name="Göteborg", timezone="Europe/Stockholm")}
    got = messages([PraiseMessage("s1", "r1", at, (), "a", None), PraiseMessage("s2", "r2", at, (), "b", None)], {}, stores,
                   lambda local: local.strftime("%d.%m. %H:%M"))
    assert [(m.when, m.store) for m in got] == [("02.06. 00:30", "Kamppi"), ("01.06. 23:30", "Göteborg")]
