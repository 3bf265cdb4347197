from datetime import date

from hymy.figures import figure
from server.dashboard.qr import enrolment_qr_svg
from server.dashboard.views import (
    StoreRef,
    heat_rows,
    hour_bars,
    opening_hour_range,
    ranking,
    today_card,
    trend_points,
    weeks,
)

S = StoreRef("s1", "Kauppa")


def test_today_card_compares_with_yesterday_and_same_weekday_last_week():
    d = date(2026, 11, 23)
    figs = {d: figure([0, 0, 10, 20], 4), date(2026, 11, 22): figure([0, 10, 10, 10], 4),
            date(2026, 11, 16): figure([1, 1, 1, 1], 4)}
    card = today_card(S, d, figs, "ma")
    assert card.vs_yesterday.points == card.today.index - card.yesterday.index
    assert card.vs_last_week.points is None and card.vs_last_week.reason == "low_confidence"
    before = card.version
    figs[d] = figure([0, 0, 10, 21], 4)
    assert today_card(S, d, figs, "ma").version != before


def test_today_card_without_data_is_empty_not_error():
    card = today_card(S, date(2026, 1, 1), {}, "to")
    assert card.today.n == 0 and card.vs_yesterday.reason == "no_data"


def test_trend_points_and_weeks():
    days = [date(2026, 11, 16 + i) for i in range(8)]
    figs = {days[0]: figure([0, 0, 0, 30], 4), days[7]: figure([30, 0, 0, 0], 4)}
    pts = trend_points(days, figs, "fi")
    assert pts[0].value == 100 and pts[1].value is None and pts[7].value == 0 and pts[0].label == "16.11."
    w = weeks(days, figs, "fi", "vk")
    assert [label.split(" ·")[0] for label, _ in w] == ["vk 48", "vk 47"]
    assert w[1][1].n == 30 and w[0][1].n == 30


def test_hour_bars_cover_opening_hours_and_presses_without_gaps():
    bars = hour_bars({7: figure([0, 0, 0, 2], 4), 12: figure([0, 0, 0, 30], 4)}, opening=range(8, 10))
    assert [b.label for b in bars] == [f"{h:02d}" for h in range(7, 13)]
    assert bars[0].n == 2 and bars[0].low and bars[5].value == 100 and bars[2].value is None


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
