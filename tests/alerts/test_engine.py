"""server.alerts.engine on a real migrated database with presses stored by the server's ingest:
episodes fire once, clear by themselves, survive several instances, are acknowledged and notify."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from hymy.protocol import AlertRule
from server import admin
from server import tables as t
from server.alerts.engine import AlertService
from server.alerts.smtp import SmtpSettings
from server.alerts.tables import alert_channels, alert_comments, alert_deliveries, alert_episodes
from server.alerts.webhook import verify
from tests.alerts.helpers import add_store, followup, press, response, run_together
from tests.alerts.servers import WebhookReceiver, smtp_server

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday 12:00 in Helsinki


class Clock:
    def __init__(self, at=T0):
        self.at = at

    def __call__(self):
        return self.at


def service(engine, clock, **kw) -> AlertService:
    kw.setdefault("asynchronous", False)
    return AlertService(engine, clock=clock, webhook_wait_s=0.01, **kw)


def episodes(engine):
    with engine.connect() as conn:
        return conn.execute(select(alert_episodes).order_by(alert_episodes.c.id)).all()


def unhappy_run(engine, sid, dev, start=T0, moods=(1, 4, 2, 1)):
    events = [response(m, start - timedelta(seconds=30 * (len(moods) - i))) for i, m in enumerate(moods)]
    press(engine, sid, dev, *events)
    return events


def fired(db):
    """A store whose unhappy run has just fired one alert: (store_id, device_id, clock, service, notice)."""
    sid, dev = add_store(db)
    clock = Clock()
    svc = service(db, clock)
    unhappy_run(db, sid, dev)
    (n,) = svc.evaluate_store(sid)
    return sid, dev, clock, svc, n


def test_engine_fires_once_per_episode_and_clears_as_time_passes(db):
    sid, dev, clock, svc, n = fired(db)
    assert n.event == "alert.fired" and n.n == 4 and n.value == 75.0 and n.store_name == "Kauppa Keskusta"
    for _ in range(3):  # more unhappy presses: the condition persists, no storm
        clock.at += timedelta(seconds=20)
        press(db, sid, dev, response(1, clock.at))
        assert svc.evaluate_store(sid) == []
    clock.at += timedelta(minutes=10)
    assert svc.sweep() == []  # the last presses are still in the window
    clock.at += timedelta(minutes=6)
    (c,) = svc.sweep()  # no new press: time alone clears it
    assert c.event == "alert.cleared" and c.alert_id == n.alert_id
    (row,) = episodes(db)
    assert row.cleared_at is not None and row.summary.startswith("3 of 4 presses (75%)")
    # later, a new run is a new episode
    clock.at += timedelta(hours=1)
    unhappy_run(db, sid, dev, start=clock.at)
    (n2,) = svc.evaluate_store(sid)
    assert n2.event == "alert.fired" and n2.alert_id != n.alert_id
    assert len(episodes(db)) == 2


def test_engine_ignores_flagged_and_voided_presses_and_respects_hours(db):
    sid, dev = add_store(db, hours={"mon": ["08:00-12:30"]})  # closes 10:30 UTC
    clock = Clock()
    svc = service(db, clock)
    events = [response(1, T0 - timedelta(seconds=50)), response(1, T0 - timedelta(seconds=40), flags=["repeat"]),
              response(1, T0 - timedelta(seconds=30)), response(1, T0 - timedelta(seconds=20), flags=["closed"]),
              response(1, T0 - timedelta(seconds=10))]
    press(db, sid, dev, *events)
    assert svc.evaluate_store(sid) == []  # 3 counted
    last = response(1, T0)
    press(db, sid, dev, last)
    assert [n.event for n in svc.evaluate_store(sid)] == ["alert.fired"]
    press(db, sid, dev, followup(last["id"], "void", "maintenance", T0 + timedelta(seconds=1)))
    clock.at += timedelta(seconds=2)
    assert [n.event for n in svc.evaluate_store(sid)] == ["alert.cleared"]  # back to 3 counted
    press(db, sid, dev, response(2, clock.at))
    assert [n.event for n in svc.evaluate_store(sid)] == ["alert.fired"]
    clock.at = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)  # closing time
    (c,) = svc.sweep()
    assert c.event == "alert.cleared" and c.summary == "store closed"


def test_engine_clears_the_episode_of_a_removed_rule(db):
    sid, dev = add_store(db)
    svc = service(db, Clock())
    unhappy_run(db, sid, dev)
    assert [n.event for n in svc.evaluate_store(sid)] == ["alert.fired"]
    admin.set_alert_rules(db, sid, [AlertRule(id="other", kind="index_above", threshold=90)])
    (c,) = svc.evaluate_store(sid)
    assert c.event == "alert.cleared" and c.summary == "rule removed"


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_engine_several_instances_announce_an_episode_once(database, request):
    db = request.getfixturevalue("db" if database == "sqlite" else "pg_db")
    sid, dev = add_store(db)
    unhappy_run(db, sid, dev)
    services = [service(db, Clock()) for _ in range(4)]
    results = run_together([lambda svc=svc: svc.evaluate_store(sid) for svc in services], timeout_s=10)
    assert [n.event for n in results] == ["alert.fired"]
    assert len(episodes(db)) == 1


def test_engine_acknowledge_closes_for_people_without_refiring(db):
    sid, dev, clock, svc, n = fired(db)
    ack = svc.acknowledge(n.alert_id, "manager", "talked to the customer")
    assert ack.event == "alert.acknowledged" and ack.acknowledged_by == "manager" and ack.status == "acknowledged"
    assert svc.acknowledge(n.alert_id, "manager") is None  # idempotent
    clock.at += timedelta(seconds=30)
    press(db, sid, dev, response(1, clock.at))
    assert svc.evaluate_store(sid) == []  # still the same episode: no new alert
    with db.connect() as conn:
        assert conn.execute(select(alert_comments.c.body)).scalars().all() == ["talked to the customer"]
    with pytest.raises(KeyError):
        svc.acknowledge(999, "x")


def test_engine_delivers_signed_webhook_and_mail_and_records_them(db):
    sid, dev = add_store(db)
    with WebhookReceiver() as rx, smtp_server() as (port, sink):
        with db.begin() as conn:
            conn.execute(insert(alert_channels).values(store_id=sid, webhook_url=rx.url, webhook_secret="k",
                                                       email_to="boss@shop.example, staff@shop.example"))
        smtp = SmtpSettings(host="127.0.0.1", port=port, sender="hymy@shop.example")
        clock = Clock()
        svc = AlertService(db, clock=clock, smtp=smtp, base_url="http://hymy.local/")
        unhappy_run(db, sid, dev)
        clock.at = datetime.now(UTC)  # signatures carry real time; the window is judged at T0 below
        (n,) = svc.evaluate_store(sid, now=T0)
        (req,) = rx.wait_for(1)
        (mail,) = sink.wait_for(1)
        svc.close()
    assert verify("k", req.headers["X-Hymy-Timestamp"], req.headers["X-Hymy-Signature"], req.body)
    assert req.headers["X-Hymy-Event"] == "alert.fired"
    assert f"http://hymy.local/alerts#alert-{n.alert_id}".encode() in req.body
    assert mail["Subject"] == "[Hymy] Many unhappy customers at Kauppa Keskusta"
    assert sink.envelopes[0][1] == ["boss@shop.example", "staff@shop.example"]
    with db.connect() as conn:
        rows = conn.execute(select(alert_deliveries).order_by(alert_deliveries.c.id)).all()
    assert [(r.channel, r.status, r.episode_id) for r in rows] == [("webhook", "sent", n.alert_id),
                                                                    ("email", "sent", n.alert_id)]


def test_engine_failed_delivery_is_recorded_not_raised(db):
    sid, dev = add_store(db)
    with WebhookReceiver(statuses=[500] * 10) as rx:
        with db.begin() as conn:
            conn.execute(insert(alert_channels).values(store_id=sid, webhook_url=rx.url, email_to="a@b.example"))
        svc = service(db, Clock(), webhook_attempts=2)
        unhappy_run(db, sid, dev)
        svc.evaluate_store(sid)
    with db.connect() as conn:
        rows = conn.execute(select(alert_deliveries).order_by(alert_deliveries.c.id)).all()
    assert [(r.channel, r.status) for r in rows] == [("webhook", "failed"), ("email", "failed")]
    assert "failed after 2 attempts" in rows[0].error and "HYMY_SMTP_HOST" in rows[1].error


def test_engine_on_ingested_hook_survives_a_broken_store(db, caplog):
    sid, dev = add_store(db)
    svc = service(db, Clock())
    unhappy_run(db, sid, dev)
    svc.on_ingested(db, {sid, "no-such-store"})
    assert len(episodes(db)) == 1


def test_engine_sweep_finds_a_rule_that_becomes_true_as_happy_presses_age_out(db):
    rule = AlertRule(id="neg", kind="negative_share", window_min=10, min_count=3, threshold=60)
    sid, dev = add_store(db, rules=(rule,))
    clock = Clock()
    svc = service(db, clock)
    # two happy presses early, then three unhappy ones: 3 of 5 = 60 % -> fires at once;
    # use 4 happy instead: 3 of 7 < 60 %, and once the happy ones leave, 3 of 3 = 100 %.
    press(db, sid, dev, *[response(4, T0 - timedelta(minutes=9, seconds=i)) for i in range(4)])
    press(db, sid, dev, *[response(1, T0 - timedelta(minutes=1, seconds=i)) for i in range(3)])
    assert svc.evaluate_store(sid) == []
    clock.at += timedelta(minutes=1, seconds=5)
    assert [n.event for n in svc.sweep()] == ["alert.fired"]


def test_engine_sweep_after_a_slow_redelivery_evaluates_at_the_time_it_runs(db):
    """Issue 14.10: a sweep redelivers a notice to a slow webhook receiver; meanwhile a batch fires an
    alert in another store. The sweep then evaluates that store with the time it runs, not the time it
    started: no "cleared" for the episode just opened, and the next batch fires nothing again."""
    import threading

    slow = threading.Event()
    sid, dev = add_store(db, store_id="busy")
    other, other_dev = add_store(db, store_id="other", name="Kauppa Asema")
    with WebhookReceiver(hold=slow) as rx:
        with db.begin() as conn:
            conn.execute(insert(alert_channels), [{"store_id": s, "webhook_url": rx.url, "webhook_secret": "k"}
                                                  for s in (sid, other)])
        crashed = service(db, Clock(T0 - timedelta(minutes=2)), instance="crashed")
        crashed.outbox.dispatch = lambda outbox_id: None  # its notice stays in the outbox for a sweep to send
        unhappy_run(db, other, other_dev, start=T0 - timedelta(minutes=2))
        (left,) = crashed.evaluate_store(other)
        clock = Clock()
        svc = service(db, clock)
        swept: list = []
        sweeping = threading.Thread(target=lambda: swept.extend(svc.sweep()))
        sweeping.start()
        assert len(rx.wait_for(1)) == 1  # the sweep is redelivering, the receiver is slow to answer
        clock.at = T0 + timedelta(minutes=3)  # time passes; a batch of unhappy presses arrives
        unhappy_run(db, sid, dev, start=clock.at)  # pressed in the last two minutes
        svc.on_ingested(db, {sid})
        slow.set()
        sweeping.join(30)
        assert swept == []  # nothing changed at the time the sweep evaluated
        clock.at += timedelta(seconds=20)
        press(db, sid, dev, response(1, clock.at))
        svc.on_ingested(db, {sid})
        got = [(r.headers["X-Hymy-Event"], json.loads(r.body)["alert"]["store_id"]) for r in rx.requests]
    assert sorted(set(got)) == [("alert.fired", "busy"), ("alert.fired", "other")]  # once each
    assert got.count(("alert.fired", "busy")) == 1 and left.store_id == "other"
    assert [(e.store_id, e.cleared_at) for e in episodes(db)] == [("other", None), ("busy", None)]


def test_engine_applies_a_change_at_the_time_it_holds_the_lock_not_when_it_began_to_wait(db):
    """The same mistake one level down: a sweep decides an episode clears, then waits for the lock
    while another instance stores a batch of unhappy presses; it applies nothing at the later time."""
    import threading

    sid, dev, clock, svc, n = fired(db)
    clock.at += timedelta(minutes=15)  # the presses that fired it have all left the window

    def another_instance_stores_a_batch():
        clock.at += timedelta(minutes=3)
        unhappy_run(db, sid, dev, start=clock.at)  # pressed in the last two minutes
        assert service(db, clock).evaluate_store(sid) == []  # still one episode, still open

    class LockTakenLate:
        """The evaluation lock, which another evaluation holds while the batch above is stored."""

        def __init__(self):
            self.lock, self.first = threading.Lock(), True

        def __enter__(self):
            if self.first:
                self.first = False
                another_instance_stores_a_batch()
            self.lock.acquire()

        def __exit__(self, *exc):
            self.lock.release()

    svc._eval_lock = LockTakenLate()
    assert svc.sweep() == []
    (row,) = episodes(db)
    assert row.id == n.alert_id and row.cleared_at is None


def test_engine_outbox_sends_a_notice_left_behind_by_a_crashed_process(db):
    from server.alerts.tables import alert_outbox

    sid, dev = add_store(db)
    with WebhookReceiver() as rx:
        with db.begin() as conn:
            conn.execute(insert(alert_channels).values(store_id=sid, webhook_url=rx.url, webhook_secret="k"))
        crashed = service(db, Clock(), instance="crashed")
        crashed.outbox.dispatch = lambda outbox_id: None  # dies after the commit, before sending
        unhappy_run(db, sid, dev)
        (n,) = crashed.evaluate_store(sid)
        with db.connect() as conn:
            (row,) = conn.execute(select(alert_outbox)).all()
        assert row.status == "pending" and row.event == "alert.fired" and rx.requests == []

        other = service(db, Clock(T0 + timedelta(seconds=10)), instance="other")
        assert other.outbox.recover() == 0  # a live process may still be about to send it
        other.clock.at = T0 + timedelta(seconds=31)
        assert other.outbox.recover() == 1
        (req,) = rx.wait_for(1)
        assert req.headers["X-Hymy-Delivery"] == f"alert.fired-{n.alert_id}"
        assert other.outbox.recover() == 0 and other.sweep() == []  # sent once, nothing left

        # a sender that died mid-send: taken over only once the claim is stale
        with db.begin() as conn:
            conn.execute(alert_outbox.update().values(status="sending", claimed_at="2026-11-23T10:00:40.000Z",
                                                      claimed_by="dead"))
        other.clock.at = T0 + timedelta(minutes=5)
        assert other.outbox.recover() == 0
        other.clock.at = T0 + timedelta(minutes=11)
        assert other.outbox.recover() == 1
        assert len(rx.wait_for(2)) == 2
    with db.connect() as conn:
        (row,) = conn.execute(select(alert_outbox)).all()
    assert row.status == "done" and row.claimed_by == "other" and row.tries == 2


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_engine_evaluates_the_stores_of_a_round_together_each_by_its_own_rules(database, request, caplog):
    """The post-ingest hook gets every store that got batches in a moment: each fires, clears or stays
    quiet by its own rules, window and presses, and a store whose config cannot be read is logged without
    holding up the others."""
    db = request.getfixturevalue("db" if database == "sqlite" else "pg_db")
    short, dev_s = add_store(db, name="Short window")
    hour_rule = AlertRule(id="hour", kind="negative_share", window_min=60)
    long_, dev_l = add_store(db, rules=(hour_rule,), name="Hour window")
    quiet, dev_q = add_store(db, name="Happy shop")
    removed, dev_r = add_store(db, name="Rule removed")
    broken, dev_b = add_store(db, name="Broken config")
    svc = service(db, Clock())
    for sid, dev in ((short, dev_s), (removed, dev_r), (broken, dev_b)):
        unhappy_run(db, sid, dev)
    unhappy_run(db, long_, dev_l, start=T0 - timedelta(minutes=40))  # in its 60 min, not in 15 min
    unhappy_run(db, quiet, dev_q, moods=(4, 4, 3, 4))
    assert sorted(n.store_name for n in svc.evaluate_stores([removed, broken])) == ["Broken config", "Rule removed"]
    admin.set_alert_rules(db, removed, [])
    with db.begin() as conn:
        conn.execute(t.stores.update().where(t.stores.c.id == broken).values(config_json="{not json"))
    caplog.set_level("ERROR", logger="server.alerts.engine")
    svc.on_ingested(db, {short, long_, quiet, removed, broken, "no-such-store"})
    got = {(r.store_id, r.clear_summary if r.cleared_at else "open", r.summary[:20]) for r in episodes(db)}
    assert got == {(short, "open", "3 of 4 presses (75%)"), (long_, "open", "3 of 4 presses (75%)"),
                   (removed, "rule removed", "3 of 4 presses (75%)"), (broken, "open", "3 of 4 presses (75%)")}
    assert f"alert evaluation failed for store {broken}" in caplog.text  # its episode is left as it was
    assert [n.event for n in svc.evaluate_store(quiet)] == []

