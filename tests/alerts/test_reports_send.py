"""server.reports: the day's figures from the real rollups, sent once after closing over real SMTP,
even with several scheduler instances on one database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from server.alerts.smtp import SmtpSettings
from server.alerts.tables import alert_channels, report_sends
from server.reports import data as report_data
from server.reports.scheduler import ReportScheduler
from tests.alerts.helpers import add_store, followup, press, response, run_together
from tests.alerts.servers import smtp_server

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS = {d: ["08:00-21:00"] for d in DAYS}
DAY = date(2026, 11, 23)  # Monday; Helsinki UTC+2, closes 19:00 UTC


def fill_day(db, sid, dev):
    """A small day: 09:xx local two very happy, 17:xx one very unhappy with reason 'queue', praise,
    a comment, one flagged repeat and one voided press (neither counted)."""
    t9 = datetime(2026, 11, 23, 7, 5, tzinfo=UTC)
    t17 = datetime(2026, 11, 23, 15, 10, tzinfo=UTC)
    happy1, happy2, sad = response(4, t9), response(4, t9 + timedelta(minutes=1)), response(1, t17)
    repeat = response(1, t17 + timedelta(seconds=1), flags=["repeat"])
    voided = response(1, t17 + timedelta(minutes=5))
    press(db, sid, dev, happy1, happy2, sad, repeat, voided,
          followup(sad["id"], "reason", "queue", t17 + timedelta(seconds=3)),
          followup(happy1["id"], "praise", "anna", t9 + timedelta(seconds=3)),
          followup(happy2["id"], "comment", "Great coffee & <b>cake</b>", t9 + timedelta(minutes=1, seconds=5)),
          followup(voided["id"], "void", "maintenance", t17 + timedelta(minutes=5, seconds=2)))


def set_channels(db, sid, **kw):
    values = {"store_id": sid, "email_to": "boss@shop.example", "daily_report": True, "weekly_report": False, **kw}
    with db.begin() as conn:
        conn.execute(insert(alert_channels).values(**values))


def test_report_data_reads_the_days_rollups(db):
    sid, dev = add_store(db, hours=HOURS)
    fill_day(db, sid, dev)
    with db.connect() as conn:
        d = report_data.daily(conn, sid, DAY)
    assert d.counts == {4: 2, 1: 1} and d.score.n == 3
    assert [r.label for r in d.rows][:2] == ["08:00", "09:00"] and len(d.rows) == 13  # the open hours
    assert next(r for r in d.rows if r.label == "09:00").counts == {4: 2}
    assert d.reasons == [("Queue", 1)]  # in the store's first language (en here)
    assert d.praise == [("anna", 1)]  # an id the config does not name stays as it is
    assert d.comments == ["Great coffee & <b>cake</b>"]


def test_report_sent_once_after_closing_with_html_and_text(db):
    sid, dev = add_store(db, hours=HOURS)
    fill_day(db, sid, dev)
    set_channels(db, sid)
    with smtp_server() as (port, sink):
        smtp = SmtpSettings(host="127.0.0.1", port=port, sender="hymy@shop.example")
        sched = ReportScheduler(db, smtp, base_url="http://hymy.local", instance="one")
        # before closing + 15 min only yesterday's (empty) report is due
        early = sched.run_once(datetime(2026, 11, 23, 19, 14, tzinfo=UTC))
        assert [(s.period, s.local_date) for s in early] == [("daily", DAY - timedelta(days=1))]
        sent = sched.run_once(datetime(2026, 11, 23, 19, 15, tzinfo=UTC))
        assert [(s.period, s.local_date) for s in sent] == [("daily", DAY)]
        assert sched.run_once(datetime(2026, 11, 23, 19, 16, tzinfo=UTC)) == []  # not again
        empty, msg = sink.wait_for(2)
    assert empty["Subject"].endswith("Sun 22.11.2026: no presses")
    assert msg["Subject"] == "Hymy daily report: Kauppa Keskusta, Mon 23.11.2026: Happy Index 67, N=3"
    text = msg.get_body(("plain",)).get_content()
    assert "Queue" in text and "Great coffee & <b>cake</b>" in text and "low confidence" in text
    html = msg.get_body(("html",)).get_content()
    assert "Great coffee &amp; &lt;b&gt;cake&lt;/b&gt;" in html and "<img" not in html
    assert f"http://hymy.local/stores/{sid}/day?date=2026-11-23" in html
    with db.connect() as conn:
        claims = conn.execute(select(report_sends)).all()
    assert len(claims) == 2 and all(c.claimed_by == "one" and c.sent_at and c.error is None for c in claims)


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_report_several_instances_send_each_report_once(database, request):
    db = request.getfixturevalue("db" if database == "sqlite" else "pg_db")
    sid, dev = add_store(db, hours=HOURS)
    fill_day(db, sid, dev)
    set_channels(db, sid, weekly_report=True)
    now = datetime(2026, 11, 23, 19, 30, tzinfo=UTC)
    with smtp_server() as (port, sink):
        smtp = SmtpSettings(host="127.0.0.1", port=port, sender="hymy@shop.example")
        scheds = [ReportScheduler(db, smtp, instance=f"i{i}") for i in range(4)]
        sent = run_together([lambda s=s: s.run_once(now) for s in scheds], timeout_s=30)
        sink.wait_for(3, timeout_s=3)
    # yesterday (Sunday 22.11), today (Monday 23.11) and the week 16.-22.11., each exactly once
    assert sorted((s.period, s.local_date) for s in sent) == [
        ("daily", date(2026, 11, 22)), ("daily", DAY), ("weekly", date(2026, 11, 16))]
    assert len(sink.messages) == 3
    assert sorted(m["Subject"].split(":")[0] for m in sink.messages) == [
        "Hymy daily report", "Hymy daily report", "Hymy weekly report"]


def test_report_failed_send_is_retried_later_by_a_reclaim(db):
    sid, dev = add_store(db, hours=HOURS)
    fill_day(db, sid, dev)
    set_channels(db, sid)
    from tests.alerts.servers import free_port

    now = datetime(2026, 11, 23, 19, 30, tzinfo=UTC)
    dead = SmtpSettings(host="127.0.0.1", port=free_port(), sender="hymy@shop.example", timeout_s=2)
    assert ReportScheduler(db, dead, instance="a").run_once(now) == []
    with db.connect() as conn:
        claims = conn.execute(select(report_sends)).all()
    assert claims and all(c.error and c.sent_at is None for c in claims)
    with smtp_server() as (port, sink):
        live = ReportScheduler(db, SmtpSettings(host="127.0.0.1", port=port, sender="hymy@shop.example"),
                               instance="b")
        assert live.run_once(now + timedelta(minutes=5)) == []  # too soon to take over the claim
        assert sorted(s.local_date for s in live.run_once(now + timedelta(minutes=11))) == [
            DAY - timedelta(days=1), DAY]
        sink.wait_for(2)
    assert len(sink.messages) == 2


def test_report_claimed_after_a_slow_send_is_not_taken_over_and_sent_twice(db):
    """Issue 14.10's mistake in the report scheduler: one instance sends yesterday's report to a slow
    mail server (11 minutes pass), then claims today's; another instance running meanwhile must see
    that claim as fresh and leave it alone: each report reaches the inbox once."""
    import asyncio
    import threading

    from tests.alerts.servers import MailSink

    clock = [datetime(2026, 11, 23, 19, 30, tzinfo=UTC)]
    release = threading.Event()

    class SlowMail(MailSink):
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's naming)
            answer = await super().handle_DATA(server, session, envelope)
            if len(self.messages) == 1:
                clock[0] += timedelta(minutes=11)  # the first report took a long time to go
            elif len(self.messages) == 2:
                while not release.is_set():  # the second is still on its way while the other instance runs
                    await asyncio.sleep(0.01)
            return answer

    sid, dev = add_store(db, hours=HOURS)
    fill_day(db, sid, dev)
    set_channels(db, sid)
    with smtp_server(sink=SlowMail()) as (port, sink):
        smtp = SmtpSettings(host="127.0.0.1", port=port, sender="hymy@shop.example")
        one, two = (ReportScheduler(db, smtp, instance=i, clock=lambda: clock[0]) for i in ("one", "two"))
        first: list = []
        sending = threading.Thread(target=lambda: first.extend(one.run_once()))
        sending.start()
        assert len(sink.wait_for(2)) == 2  # instance one is sending today's report
        second = two.run_once()
        release.set()
        sending.join(30)
    assert sorted(d.local_date for d in first) == [DAY - timedelta(days=1), DAY] and second == []
    assert len(sink.messages) == 2


def test_report_nothing_without_smtp_or_recipients(db):
    sid, dev = add_store(db, hours=HOURS)
    assert ReportScheduler(db, None).run_once(datetime(2026, 11, 23, 20, tzinfo=UTC)) == []
    set_channels(db, sid, email_to=None)
    smtp = SmtpSettings(host="127.0.0.1", port=1, sender="hymy@shop.example")
    assert ReportScheduler(db, smtp).run_once(datetime(2026, 11, 23, 20, tzinfo=UTC)) == []
