from datetime import date

from hymy.figures import empty, figure
from hymy.stats_compare import against_baseline
from server.dashboard.cards import today_card
from server.dashboard.qr import enrolment_qr_svg
from server.dashboard.views import (
    StoreRef,
    day_hours,
    heat_rows,
    hour_bars,
    opening_hour_range,
    ranking,
    trend_points,
    weeks,
)
from server.results import Count

S = StoreRef("s1", "Kauppa", opening_hours=(("mon", ("08:00-20:00",)), ("tue", ("08:00-20:00",))))
MONDAY = date(2026, 11, 23)


def judged(today, usual_weeks):
    return against_baseline([f.sample for f in today], [[w.sample for w in weeks] for weeks in usual_weeks])


def test_today_card_picks_the_flagged_hour_with_its_reasons_and_sums_the_days_reasons():
    hours = {9: figure([1, 2, 11, 16]), 10: figure([15, 9, 4, 2]), 11: figure([1, 2, 11, 16])}
    usual = [{h: figure([1, 2, 11, 16]) for h in hours} for _ in range(8)]
    shown = day_hours(hours, S.open_hours(MONDAY))
    results = judged([hours.get(h, empty()) for h in shown], [[u.get(h, empty()) for u in usual] for h in shown])
    reasons = {10: [Count("reason", "queue", 20), Count("reason", "price", 2)], 11: [Count("reason", "price", 1)]}
    card = today_card(S, MONDAY, 12, figure([17, 13, 26, 34]), results[0], "maanantai", hours=hours,
                      verdicts=dict(zip(shown, results, strict=True)), reasons=reasons, names={"queue": "Jono"})
    assert [c.hour for c in card.hours] == list(range(8, 20))
    assert card.standout.hour == 10 and card.standout.span == "10–11" and card.standout.result.verdict == "lower"
    assert card.standout_reasons == (("Jono", 20), ("price", 2))
    assert card.reasons == (("Jono", 20), ("price", 3))
    before = card.version
    assert today_card(S, MONDAY, 12, figure([17, 13, 26, 35]), results[0], "ma").version != before


def test_today_card_closed_and_not_yet_open():
    sunday, noon = date(2026, 11, 29), empty()
    r = empty().described()
    closed = today_card(S, sunday, 11, noon, r, "su", opens="ma 8.00")
    assert closed.closed and closed.opens == "ma 8.00" and closed.hours == ()
    early = today_card(S, MONDAY, 7, noon, r, "ma", opens="8.00")
    assert not early.closed and early.opens_today and early.opens == "8.00"
    busy = today_card(S, MONDAY, 12, figure([0, 0, 0, 5]), r, "ma", opens="ma 8.00")
    assert busy.opens is None and not busy.opens_today
    always = today_card(StoreRef("s2", "24/7"), sunday, 3, noon, r, "su")
    assert not always.closed and always.opens is None


def test_day_hours_leave_out_closed_hours_but_never_presses():
    sunday = {"sun": ["10:00-18:00"], "mon": ["08:00-20:00"]}
    store = StoreRef("s", "x", opening_hours=tuple((d, tuple(v)) for d, v in sunday.items()))
    assert day_hours({}, store.open_hours(date(2026, 11, 29))) == list(range(10, 18))
    assert day_hours({21: figure([0, 0, 0, 1])}, store.open_hours(date(2026, 11, 29))) == [*range(10, 18), 21]
    assert day_hours({9: figure([0, 0, 0, 1]), 12: figure([0, 0, 1, 0])}, None) == [9, 10, 11, 12]
    assert day_hours({}, None) == []


def test_trend_points_and_weeks():
    days = [date(2026, 11, 16 + i) for i in range(8)]
    figs = {days[0]: figure([0, 0, 0, 30], 4), days[7]: figure([30, 0, 0, 0], 4)}
    pts = trend_points(days, figs, "fi")
    assert pts[0].value == 100 and pts[1].value is None and pts[7].value == 0 and pts[0].label == "16.11."
    assert trend_points(days, figs, "fi", with_year=True)[0].label == "16.11.2026"
    w = weeks(days, figs, "fi", "vk")
    assert [label.split(" ·")[0] for label, _ in w] == ["vk 48", "vk 47"]
    assert w[1][1].n == 30 and w[0][1].n == 30


def test_hour_bars_follow_the_hours_shown_with_their_verdicts():
    hours = {7: figure([0, 0, 0, 2], 4), 12: figure([0, 0, 0, 30], 4)}
    verdict = against_baseline([figure([0, 0, 0, 30]).sample], [[figure([20, 0, 0, 10]).sample] * 8])[0]
    bars = hour_bars(hours, [7, 8, 12], {12: verdict})
    assert [b.label for b in bars] == ["07", "08", "12"]
    assert bars[0].n == 2 and bars[0].low and bars[1].value is None and bars[2].value == 100
    assert [b.verdict for b in bars] == [None, None, "higher"]


def test_opening_hour_range_handles_overnight():
    assert opening_hour_range({"mon": ["22:00-02:00"], "tue": ["08:30-09:15"]}) == [0, 1, 8, 9, 22, 23]
    assert opening_hour_range(None) == []


def test_heat_rows_shape():
    rows = heat_rows({(0, 8): figure([0, 0, 0, 25], 4)}, [8, 9])
    assert len(rows) == 7 and len(rows[0]) == 2 and rows[0][0].value == 100 and rows[6][1].value is None


def test_ranking_puts_low_confidence_last_unranked_and_shares_ties():
    a, b, c, d = (StoreRef(x, x) for x in "abcd")
    r = ranking([(a, figure([0, 0, 0, 5], 4)), (b, figure([0, 0, 20, 20], 4)), (c, figure([0, 0, 0, 40], 4)),
                 (d, figure([0, 0, 20, 20], 4))])
    assert [(x.rank, x.store.id) for x in r] == [(1, "c"), (2, "b"), (2, "d"), (None, "a")]


def test_enrolment_qr_svg_is_svg_with_viewbox():
    svg = enrolment_qr_svg("ABCD-EFGH-1234")
    assert svg.startswith("<svg") and "viewBox" in svg and "<path" in svg
