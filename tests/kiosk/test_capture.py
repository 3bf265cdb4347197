"""The capture core: the response record, the response interval, the ``closed`` flag, follow-ups."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from hymy.errors import CaptureError
from hymy.protocol import Flag, Question, StoreConfig, Texts, default_store_config
from kiosk.capture import Recorder, build_response, decide_flags, new_id, within_interval
from kiosk.clock import ClockReading
from kiosk.store import Store

MON_NOON = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday 12:00 in Helsinki
HOURS = {"mon": ["08:00-21:00"], "tue": ["08:00-21:00"], "sat": ["22:00-02:00"]}


def cfg(**update) -> StoreConfig:
    return default_store_config().model_copy(update=update)


def reading(at=MON_NOON, uptime=100_000, boot="boot-a", synced=True) -> ClockReading:
    return ClockReading(at, synced, boot, uptime)


def last(at=MON_NOON, uptime=100_000, boot="boot-a") -> dict:
    return build_response(4, "touch", reading(at, uptime, boot), cfg(), []).model_dump(mode="json")


class FakeTime:
    """A clock callable under the test's control (the real one is kiosk.clock.SystemClock)."""

    def __init__(self, at=MON_NOON, uptime=100_000, boot="boot-a", synced=True):
        self.at, self.uptime, self.boot, self.synced = at, uptime, boot, synced

    def advance(self, seconds: float, wall: float | None = None) -> None:
        self.uptime += int(seconds * 1000)
        self.at += timedelta(seconds=seconds if wall is None else wall)

    def __call__(self) -> ClockReading:
        return ClockReading(self.at, self.synced, self.boot, self.uptime)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "kiosk.db")
    yield s
    s.close()


# ---------------------------------------------------------------------------------- the record


def test_response_has_every_field_of_the_design_brief():
    r = build_response(2, "button", reading(synced=False), cfg(), [], app_version="1.2.3")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", r.id), "UUIDv7"
    assert (r.mood, r.scale, r.source.value, r.question_id) == (2, 4, "button", "q-default")
    assert r.pressed_at == MON_NOON and r.clock_synced is False
    assert (r.boot_id, r.uptime_ms, r.flags, r.app_version) == ("boot-a", 100_000, [], "1.2.3")
    wire = r.model_dump(mode="json")
    assert wire["pressed_at"] == "2026-11-23T10:00:00.000Z"


def test_ids_are_time_ordered_and_unique():
    ids = [new_id() for _ in range(2000)]
    assert len(set(ids)) == 2000
    assert ids == sorted(ids)


@pytest.mark.parametrize("scale, good, bad", [(3, [1, 2, 3], [0, 4]), (4, [1, 4], [0, 5]), (5, [1, 5], [0, 6])])
def test_mood_must_fit_the_question_scale(scale, good, bad):
    config = cfg(question=Question(id="q", texts=Texts(fi="K?"), scale=scale))
    for mood in good:
        assert build_response(mood, "touch", reading(), config, []).scale == scale
    for mood in bad:
        with pytest.raises(CaptureError, match="mood"):
            build_response(mood, "touch", reading(), config, [])


def test_unknown_source_is_refused_with_the_valid_ones():
    with pytest.raises(CaptureError, match="source: 'keyboard' is not valid; use touch, button or simulated"):
        build_response(1, "keyboard", reading(), cfg(), [])


# ---------------------------------------------------------------------------------- response interval


def test_response_interval_defaults_to_5_s_and_is_bounded_0_to_60():
    assert cfg().response_interval_s == 5.0
    for ok in (0, 0.5, 60):
        assert StoreConfig.model_validate({**cfg().model_dump(), "response_interval_s": ok}).response_interval_s == ok
    for bad in (-1, 60.5, 3600):
        with pytest.raises(ValidationError, match="response_interval_s"):
            StoreConfig.model_validate({**cfg().model_dump(), "response_interval_s": bad})


@pytest.mark.parametrize("elapsed_ms, repeat", [(0, True), (1, True), (4999, True), (5000, False), (5001, False),
                                                (60_000, False)])
def test_interval_boundary_within_one_boot_uses_uptime(elapsed_ms, repeat):
    now = reading(uptime=100_000 + elapsed_ms)
    assert within_interval(now, last(), 5.0) is repeat


def test_interval_zero_never_flags_repeat():
    assert not within_interval(reading(), last(), 0)
    assert decide_flags(reading(), last(), cfg(response_interval_s=0)) == []


def test_no_previous_press_is_never_a_repeat():
    assert not within_interval(reading(), None, 60)


def test_a_clock_jump_within_a_boot_does_not_matter():
    """NTP sync moves the wall clock by hours between two presses 2 s apart: still a repeat;
    and presses 10 s apart whose wall clock went backwards are still counted."""
    jumped = reading(at=MON_NOON + timedelta(hours=5), uptime=102_000)
    assert within_interval(jumped, last(), 5.0)
    back = reading(at=MON_NOON - timedelta(hours=5), uptime=110_000)
    assert not within_interval(back, last(), 5.0)


def test_across_boots_the_wall_clock_decides():
    """After a reboot uptime restarts near zero; the wall clocks are compared instead."""
    prev = last(at=MON_NOON, uptime=9_000_000, boot="boot-old")
    assert within_interval(reading(at=MON_NOON + timedelta(seconds=3), uptime=1_000), prev, 5.0)
    assert not within_interval(reading(at=MON_NOON + timedelta(seconds=6), uptime=1_000), prev, 5.0)
    assert not within_interval(reading(at=MON_NOON - timedelta(seconds=1), uptime=1_000), prev, 5.0), \
        "a wall clock behind the last press is not 'inside the interval'"


def test_recorder_flags_repeats_measured_from_the_last_counted_press(store):
    clock = FakeTime()
    rec = Recorder(store, lambda: cfg(), clock, retry_s=0)
    assert rec.record(4).flags == []
    clock.advance(3)
    assert rec.record(4).flags == [Flag.repeat]
    clock.advance(1.9)  # 4.9 s after the counted one: still a repeat (repeats do not extend the interval)
    assert rec.record(1).flags == [Flag.repeat]
    clock.advance(0.1)  # exactly 5 s: counted
    assert rec.record(1).flags == []
    clock.advance(4)
    assert rec.record(2).flags == [Flag.repeat]
    counts, filtered, _ = store.today_counts("Europe/Helsinki", now=MON_NOON)
    assert counts == {4: 1, 1: 1} and filtered == 3


def test_recorder_reads_the_interval_from_the_current_config(store):
    clock = FakeTime()
    current = {"cfg": cfg(response_interval_s=60)}
    rec = Recorder(store, lambda: current["cfg"], clock, retry_s=0)
    rec.record(4)
    clock.advance(30)
    assert rec.record(4).flags == [Flag.repeat]
    current["cfg"] = cfg(response_interval_s=0)  # the sync agent pulled a new config
    clock.advance(0.1)
    assert rec.record(4).flags == []


def test_recorder_remembers_the_last_counted_press_across_a_restart(store):
    clock = FakeTime()
    Recorder(store, lambda: cfg(), clock, retry_s=0).record(4)
    clock.advance(2)
    assert Recorder(store, lambda: cfg(), clock, retry_s=0).record(4).flags == [Flag.repeat]
    clock.boot, clock.uptime = "boot-b", 500  # reboot: the wall clock decides
    clock.advance(1)
    assert Recorder(store, lambda: cfg(), clock, retry_s=0).record(4).flags == [Flag.repeat]
    clock.advance(10)
    assert Recorder(store, lambda: cfg(), clock, retry_s=0).record(4).flags == []


# ---------------------------------------------------------------------------------- closed flag


@pytest.mark.parametrize(
    "at, flags",
    [
        (datetime(2026, 11, 23, 5, 59, tzinfo=UTC), [Flag.closed]),  # Mon 07:59 local
        (datetime(2026, 11, 23, 6, 0, tzinfo=UTC), []),  # Mon 08:00 local: open
        (datetime(2026, 11, 23, 18, 59, tzinfo=UTC), []),  # Mon 20:59
        (datetime(2026, 11, 23, 19, 0, tzinfo=UTC), [Flag.closed]),  # Mon 21:00: closed
        (datetime(2026, 11, 25, 10, 0, tzinfo=UTC), [Flag.closed]),  # Wednesday: no hours that day
        (datetime(2026, 11, 28, 19, 59, tzinfo=UTC), [Flag.closed]),  # Sat 21:59 local
        (datetime(2026, 11, 28, 20, 30, tzinfo=UTC), []),  # Sat 22:30 local: open (22:00-02:00)
        (datetime(2026, 11, 28, 23, 30, tzinfo=UTC), []),  # Sun 01:30 local: still Saturday's interval
        (datetime(2026, 11, 29, 0, 0, tzinfo=UTC), [Flag.closed]),  # Sun 02:00 local: closed
    ],
)
def test_closed_flag_outside_opening_hours_in_the_store_zone(at, flags):
    assert decide_flags(reading(at=at), None, cfg(opening_hours=HOURS)) == flags


def test_closed_press_is_not_a_repeat_and_does_not_start_an_interval(store):
    clock = FakeTime(at=datetime(2026, 11, 23, 5, 59, 58, tzinfo=UTC))  # 07:59:58 local
    rec = Recorder(store, lambda: cfg(opening_hours=HOURS), clock, retry_s=0)
    assert rec.record(4).flags == [Flag.closed]
    clock.advance(2)  # 08:00:00: open, 2 s after a closed press: counted
    assert rec.record(4).flags == []


def test_no_opening_hours_means_always_open():
    assert decide_flags(reading(at=datetime(2026, 11, 23, 2, 0, tzinfo=UTC)), None, cfg()) == []


# ---------------------------------------------------------------------------------- follow-ups and callbacks


def test_followups_are_their_own_events(store):
    rec = Recorder(store, lambda: cfg(), FakeTime(), retry_s=0)
    r = rec.record(1)
    f = rec.record_followup(r.id, "reason", "queue")
    assert f.response_id == r.id and f.kind.value == "reason" and f.id != r.id
    v = rec.void(r.id)
    assert v.kind.value == "void" and v.value == "maintenance"
    assert [e.id for e in store.unsent()] == [r.id, f.id, v.id]
    assert store.get(r.id)["mood"] == 1, "the press itself is never changed"
    with pytest.raises(CaptureError, match="followup"):
        rec.record_followup(r.id, "rating", "5")


def test_a_failing_on_recorded_callback_never_loses_the_press(store, caplog):
    def broken(event):
        raise RuntimeError("LED driver gone")

    rec = Recorder(store, lambda: cfg(), FakeTime(), on_recorded=broken, retry_s=0)
    caplog.set_level(logging.ERROR)
    r = rec.record(3)
    assert store.get(r.id) is not None
    assert "on_recorded callback failed" in caplog.text


def test_on_recorded_is_called_after_the_commit(store):
    seen = []
    rec = Recorder(store, lambda: cfg(), FakeTime(), retry_s=0,
                   on_recorded=lambda e: seen.append(store.get(e.id) is not None))
    rec.record(3)
    rec.record_followup(rec.record(1).id, "reason", "queue")
    assert seen == [True, True, True]


def test_bad_mood_records_nothing(store):
    rec = Recorder(store, lambda: cfg(), FakeTime(), retry_s=0)
    with pytest.raises(CaptureError):
        rec.record(7)
    assert store.pending_count() == 0 and rec.held == 0
