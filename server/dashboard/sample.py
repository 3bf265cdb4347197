"""Realistic sample data for screenshots, tests and the demo: stores, a manager, weeks of presses.

The stores' customers follow the demo's story (``hymy.demostory``: Helsinki Kamppi's Tuesday dip,
a struggling store, praise and complaints in fi/sv/en), planned by ``hymy.pressplan``. Everything goes
through the server's own APIs (``server.admin``, ``server.auth``, ``server.ingest``, the alert service),
so the rollups and alert episodes the pages read are exactly what real kiosks would produce.
``replay_alerts`` is also how ``hymy demo`` makes its past alerts.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from uuid6 import uuid7

from hymy.demostory import ALERT_RULES, KAMPPI, PRAISE, REASONS, SODERMALM, TAMPERE, Acknowledgement
from hymy.hours import is_open, zone
from hymy.pressplan import DAY_FLOW, PlannedPress, occurrences, plan_presses, split
from hymy.protocol import AlertRule, StoreConfig
from hymy.timestamps import format_ts, utcnow

DEFAULT_PASSWORD = "hymy-demo-password"
HOURS = {d: ["08:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": ["09:00-18:00"],
                                                                              "sun": ["12:00-18:00"]}
COMMENTS = ["Ihana palvelu kassalla, kiitos Mari!", "Nopea kassa ja ystävällinen myyjä.",
            "Tack för hjälpen med presentinslagningen!", "Great selection of local bread.",
            "Siisti ja valoisa myymälä.", "Kiitos kun autoitte löytämään oikean koon."]
#: The alert replay's sweep: how often the engine is asked during a watched spell (5 minutes), and how
#: long after it ends (45 minutes, for the episode to clear).
REPLAY_STEP, REPLAY_TAIL = timedelta(minutes=5), timedelta(minutes=45)


@dataclass
class Sample:
    region_id: str
    store_ids: list[str]
    users: dict[str, str]  #: username -> password
    device_ids: dict[str, str]  #: store id -> device id


def _moods(rng: random.Random, hour: int, bias: float) -> int:
    """A 4-face mood; the lunch and evening rushes are a little less happy."""
    dip = 0.12 if hour in (12, 16, 17) else 0.0
    p = [0.06 + dip / 2 + bias, 0.08 + dip / 2, 0.30, 0.56 - dip - bias]
    return rng.choices((1, 2, 3, 4), weights=[max(x, 0.01) for x in p])[0]


def presses(store_id: str, tz: str, day: date, n: int, rng: random.Random, bias: float = 0.0,
            until: datetime | None = None, comment_rate: float = 0.03) -> list[dict]:
    """``n`` responses (and their follow-ups) spread over the opening hours of local ``day``."""
    z = zone(tz)
    wd = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]
    start_s, end_s = (int(x[:2]) for x in HOURS[wd][0].split("-"))
    events: list[dict] = []
    for _ in range(n):
        # more presses at midday and late afternoon
        hour = min(end_s - 1, max(start_s, int(rng.triangular(start_s, end_s, (start_s + end_s) / 2 + 1))))
        local = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=z)
        at = local.astimezone(UTC)
        if until is not None and at > until:
            continue
        mood = _moods(rng, hour, bias)
        flags = ["repeat"] if rng.random() < 0.04 else []
        rid = str(uuid7())
        ts = format_ts(at)
        events.append({"type": "response", "id": rid, "question_id": "q-default", "mood": mood, "scale": 4,
                       "source": "touch", "pressed_at": ts, "clock_synced": True, "boot_id": "sample",
                       "uptime_ms": 1000, "flags": flags, "app_version": "0.1.0"})
        if flags:
            continue
        fts = format_ts(at + timedelta(seconds=3))
        if mood <= 2 and rng.random() < 0.7:
            reason = rng.choices(["queue", "service", "selection", "price", "cleanliness"], [5, 2, 3, 2, 1])[0]
            events.append({"type": "followup", "id": str(uuid7()), "response_id": rid, "kind": "reason",
                           "value": reason, "pressed_at": fts})
        elif mood == 4 and rng.random() < 0.35:
            praise = rng.choices(["staff", "speed", "tidy"], [5, 3, 2])[0]
            events.append({"type": "followup", "id": str(uuid7()), "response_id": rid, "kind": "praise",
                           "value": praise, "pressed_at": fts})
            if rng.random() < comment_rate * 4:
                events.append({"type": "followup", "id": str(uuid7()), "response_id": rid, "kind": "comment",
                               "value": rng.choice(COMMENTS), "pressed_at": format_ts(at + timedelta(seconds=9))})
    return events


def store_config(name: str) -> dict:
    return {
        "opening_hours": HOURS,
        "reasons": REASONS,
        "praise": PRAISE,
        "followup": {"1": "reason", "2": "reason", "4": "praise"},
        "comments_enabled": True,
    }


def planned_events(config: StoreConfig, plan: Iterable[PlannedPress]) -> list[dict]:
    """The wire events a kiosk would send for ``plan`` (``hymy.pressplan``): a response per press (flagged
    ``closed`` outside opening hours), a ``repeat`` response for a child's second press, the follow-up
    and the comment."""
    tz = zone(config.timezone)
    events: list[dict] = []

    def response(at: datetime, mood: int, flags: list[str]) -> str:
        rid = str(uuid7())
        events.append({"type": "response", "id": rid, "question_id": config.question.id, "mood": mood,
                       "scale": config.question.scale, "source": "touch", "pressed_at": format_ts(at),
                       "clock_synced": True, "boot_id": "sample", "uptime_ms": 1000, "flags": flags,
                       "app_version": "0.1.0"})
        return rid

    for press in plan:
        rid = response(press.at, press.mood, [] if is_open(config.opening_hours, tz, press.at) else ["closed"])
        if press.followup:
            events.append({"type": "followup", "id": str(uuid7()), "response_id": rid, "kind": press.followup[0],
                           "value": press.followup[1], "pressed_at": format_ts(press.at + timedelta(seconds=2))})
        if press.repeat:
            response(press.at + timedelta(seconds=3), press.mood, ["repeat"])
        if press.followup and press.comment:
            events.append({"type": "followup", "id": str(uuid7()), "response_id": rid, "kind": "comment",
                           "value": press.comment, "pressed_at": format_ts(press.at + timedelta(seconds=20))})
    return events


def replay_alerts(alerts, store_id: str, windows: Sequence[tuple[datetime, datetime]],
                  acknowledgements: Sequence[Acknowledgement | None] = ()) -> list[int]:
    """Past alert episodes the way the server's alert engine makes them: ``alerts`` (the app's
    AlertService) evaluates the store's rules every ``REPLAY_STEP`` through each ``(first, last)`` window
    (e.g. each occurrence of a watched spell, ``hymy.pressplan.occurrences``) and until ``REPLAY_TAIL``
    after it; never later than now (an episode still open is the live engine's).

    ``acknowledgements[i]`` is how a person took the i-th window's alert: the episode open ``after_min``
    minutes after the first one fired (else the last fired) is acknowledged then with the comment, and
    the later comments follow at their hours (only those already in the past). Run it while no other
    alert engine sweeps the same database (an episode open between two steps would be closed by a sweep
    at the real time), and best with nothing delivered beyond the window's end yet (the engine reads
    every press from the window's start on: see ``deliver_history``). Returns the episode ids opened.
    """
    now = alerts.clock()
    opened: list[int] = []
    for i, (first, last) in enumerate(windows):
        ack = acknowledgements[i] if i < len(acknowledgements) else None
        fired: list[tuple[int, datetime]] = []
        current: int | None = None
        at = first
        while at <= min(last + REPLAY_TAIL, now):
            # the state between two steps is the last step's: take the alert at its time before going on
            if ack and fired and at >= fired[0][1] + timedelta(minutes=ack.after_min):
                _acknowledge(alerts, current or fired[-1][0], fired[0][1], ack, now)
                ack = None
            for notice in alerts.evaluate_store(store_id, at):
                if notice.event == "alert.fired":
                    fired.append((notice.alert_id, notice.fired_at))
                    current = notice.alert_id
                elif notice.event == "alert.cleared":
                    current = None
            at += REPLAY_STEP
        if ack and fired:
            _acknowledge(alerts, current or fired[-1][0], fired[0][1], ack, now)
        opened += [alert_id for alert_id, _ in fired]
    return opened


def deliver_history(plan: Iterable[PlannedPress], deliver: Callable[[list[PlannedPress]], object], *,
                    alerts=None, store_id: str = "", windows: Sequence[tuple[datetime, datetime]] = (),
                    acknowledgements: Sequence[Acknowledgement | None] = ()) -> list[int]:
    """Hand ``plan``'s presses to ``deliver`` in time order, and with ``alerts`` replay each window's
    alerts (``replay_alerts``) as soon as its presses and ``REPLAY_TAIL`` after it are delivered: the
    engine then reads only presses up to that moment, as it would have live. Returns the episode ids."""
    bounds: list[datetime] = []
    if alerts is not None:
        for _, last in windows:
            bounds.append(max([last + REPLAY_TAIL, *bounds[-1:]]))
    opened: list[int] = []
    for i, piece in enumerate(split(plan, bounds)):
        deliver(piece)
        if i < len(bounds):
            opened += replay_alerts(alerts, store_id, windows[i:i + 1], acknowledgements[i:i + 1])
    return opened


def _acknowledge(alerts, alert_id: int, fired_at: datetime, ack: Acknowledgement, now: datetime) -> None:
    at = fired_at + timedelta(minutes=ack.after_min)
    if at > now:
        return
    alerts.acknowledge(alert_id, ack.by, ack.comment, now=at)
    for hours, by, text in ack.later:
        if fired_at + timedelta(hours=hours) <= now:
            alerts.comment(alert_id, by, text, now=fired_at + timedelta(hours=hours))


def _heartbeats(engine, store_ids: list[str], device_ids: dict[str, str], now: datetime) -> None:
    """Fleet state as kiosks report it: healthy, one with a backlog and an error, one never heard from."""
    from hymy.protocol import Heartbeat

    from ..heartbeat import record_heartbeat

    states = [dict(pending=0, quarantined=0, disk_free_mb=11800.0, cpu_temp_c=48.0, clock_synced=True),
              dict(pending=0, quarantined=0, disk_free_mb=9400.0, cpu_temp_c=52.5, clock_synced=True),
              None,
              dict(pending=1450, oldest_pending_s=5400.0, quarantined=2, disk_free_mb=610.0, cpu_temp_c=71.0,
                   clock_synced=False, last_error="sync: connection refused (server unreachable)")]
    for sid, state in zip(store_ids, states, strict=False):
        if state is None:
            continue
        hb = Heartbeat(app_version="0.1.0", boot_id="sample", uptime_ms=3_600_000, device_time=now, **state)
        record_heartbeat(engine, device_ids[sid], sid, "Europe/Helsinki", hb)


#: The sample's stores: name, region (0: Uusimaa, 1: Pirkanmaa), the story store whose customers (and
#: alert acknowledgements) it borrows, its index if different, and its volume against ``per_day``.
SPECS = [("Helsinki Kamppi", 0, KAMPPI, None, 1.0), ("Espoo Iso Omena", 0, TAMPERE, 80, 0.8),
         ("Vantaa Myyrmäki", 0, SODERMALM, None, 0.12), ("Tampere Keskusta", 1, TAMPERE, None, 0.9)]


def seed(engine, days: int = 45, per_day: int = 120, now: datetime | None = None, seed_value: int = 7,
         alerts=None) -> Sample:
    """Three stores in one region (+ one elsewhere), users of every role, ``days`` of presses up to now,
    about ``per_day`` presses a day in the busiest store; with ``alerts`` (the app's AlertService, with
    no sweep of its own running) also the story's past alert episodes (``replay_alerts``)."""
    from .. import admin, auth
    from ..ingest import ingest

    now = now or utcnow()
    region = admin.create_region(engine, "Uusimaa")
    other = admin.create_region(engine, "Pirkanmaa")
    store_ids, device_ids = [], {}
    start = now - timedelta(days=days)
    for i, (name, rix, story, index, volume) in enumerate(SPECS):
        sid = admin.create_store(engine, name, region_id=(region, other)[rix], config=store_config(name))
        store_ids.append(sid)
        new = admin.create_device(engine, sid, "Uloskäynti 1")
        device_id, _token, _cfg = admin.enroll(engine, new.code, app_version="0.1.0")
        device_ids[sid] = device_id
        config = admin.store_config(engine, sid)
        pattern = replace(story.pattern, rate=per_day * volume / DAY_FLOW, index=index or story.pattern.index)
        windows = [(a, b) for _, a, b in occurrences(pattern, config.timezone, start, now)]
        if alerts is not None and windows:
            admin.set_alert_rules(engine, sid, [AlertRule(**rule) for rule in ALERT_RULES])

        def deliver(piece, sid=sid, device_id=device_id, config=config) -> None:
            events = planned_events(config, piece)
            for j in range(0, len(events), 500):
                ingest(engine, device_id, sid, config.timezone, events[j:j + 500])

        deliver_history(plan_presses(config, start, now, pattern=pattern, seed=seed_value + i), deliver,
                        alerts=alerts, store_id=sid, windows=windows, acknowledgements=story.acknowledgements)
    _heartbeats(engine, store_ids, device_ids, now)
    users = {"admin": DEFAULT_PASSWORD, "anna": DEFAULT_PASSWORD, "risto": DEFAULT_PASSWORD, "teemu": DEFAULT_PASSWORD}
    auth.create_user(engine, "admin", DEFAULT_PASSWORD, "admin", display_name="Ada Admin")
    auth.create_user(engine, "anna", DEFAULT_PASSWORD, "store_manager", stores=[store_ids[0]], display_name="Anna")
    auth.create_user(engine, "risto", DEFAULT_PASSWORD, "regional_manager", regions=[region], display_name="Risto")
    auth.create_user(engine, "teemu", DEFAULT_PASSWORD, "technician", display_name="Teemu")
    return Sample(region, store_ids, users, device_ids)


def unhappy_burst(engine, sample: Sample, alerts=None, store_index: int = 0, count: int = 6) -> None:
    """A queue at the till: ``count`` very unhappy presses in the last minutes and an alert rule that fires
    on them (evaluated at once when the alerts service ``alerts`` is given)."""
    from hymy.protocol import AlertRule

    from .. import admin
    from ..ingest import ingest

    sid = sample.store_ids[store_index]
    admin.set_alert_rules(engine, sid, [AlertRule(id="jono", kind="negative_share", window_min=15, min_count=4,
                                                  threshold=50, local=True)])
    now = utcnow()
    events = [{"type": "response", "id": str(uuid7()), "question_id": "q-default", "mood": 1, "scale": 4,
               "source": "touch", "pressed_at": format_ts(now - timedelta(seconds=20 * (i + 1))), "clock_synced": True,
               "boot_id": "sample", "uptime_ms": 1000, "flags": [], "app_version": "0.1.0"} for i in range(count)]
    ingest(engine, sample.device_ids[sid], sid, "Europe/Helsinki", events)
    if alerts is not None:
        alerts.evaluate_store(sid)
