"""hymy.periodic: the one helper behind every periodic background job (real threads, no fakes).

Waits use events with a generous deadline only as a safety net; nothing asserts how long anything took.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

import pytest

from hymy.periodic import Jobs, PeriodicJob

SAFETY_S = 10.0


def wait_until(check, what: str) -> None:
    deadline = time.monotonic() + SAFETY_S
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.005)


def test_a_failing_run_is_logged_and_the_job_keeps_its_schedule(caplog):
    calls = []

    def work():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database away")

    job = PeriodicJob("flaky", 0.01, work, first_after_s=0)
    with caplog.at_level(logging.ERROR, logger="hymy.periodic"):
        job.start()
        wait_until(lambda: job.runs >= 2, "two good runs after the failure")
        assert job.stop()
    assert job.failures == 1 and job.last_error is None
    assert "periodic job flaky failed" in caplog.text and "database away" in caplog.text
    assert not job.running and not any(t.name == "hymy-flaky" for t in threading.enumerate())


def test_wake_runs_now_whatever_the_interval():
    ran = threading.Event()
    job = PeriodicJob("hourly", 3600, ran.set)
    job.start()
    try:
        job.wake()
        assert ran.wait(SAFETY_S)
    finally:
        assert job.stop()
    assert job.runs == 1


def test_stop_waits_a_bounded_time_for_a_run_in_progress(caplog):
    inside, release = threading.Event(), threading.Event()

    def slow():
        inside.set()
        release.wait(SAFETY_S)

    job = PeriodicJob("slow", 3600, slow, first_after_s=0)
    job.start()
    assert inside.wait(SAFETY_S)
    with caplog.at_level(logging.WARNING, logger="hymy.periodic"):
        assert job.stop(timeout_s=0.05) is False  # the run goes on; stop did not hang on it
    assert "periodic job slow: still running" in caplog.text
    release.set()
    assert job.stop() is True
    assert job.runs == 1  # asked to stop during its first run: no second one


def test_the_gate_decides_each_run_and_is_always_left():
    """A gate is where a cross-worker lease goes: entered before each run, left after it even when the
    run fails; a run it refuses never calls the work."""
    log: list[str] = []
    allow = [False, True, True]

    @contextlib.contextmanager
    def lease(job):
        log.append(f"claim {job.name}")
        try:
            yield allow.pop(0)
        finally:
            log.append(f"release {job.name}")

    def work():
        log.append("work")
        if log.count("work") == 2:
            raise ValueError("second run fails")

    job = PeriodicJob("leased", 3600, work, gate=lease)
    assert [job.run_once(), job.run_once(), job.run_once()] == [False, True, False]
    assert log == ["claim leased", "release leased", "claim leased", "work", "release leased",
                   "claim leased", "work", "release leased"]
    assert (job.runs, job.failures) == (1, 1)


def test_jobs_start_and_stop_together_with_one_gate():
    seen: list[str] = []

    @contextlib.contextmanager
    def gate(job):
        seen.append(job.name)
        yield True

    jobs = Jobs(gate=gate)
    a, b = threading.Event(), threading.Event()
    jobs.add("a", 3600, a.set, first_after_s=0)
    jobs.add("b", 3600, b.set, first_after_s=0)
    with pytest.raises(ValueError, match="a: a periodic job of this name exists already"):
        jobs.add("a", 1, a.set)
    jobs.start()
    assert a.wait(SAFETY_S) and b.wait(SAFETY_S)
    assert all(j.running for j in jobs)
    assert jobs.stop() is True
    assert not any(j.running for j in jobs) and sorted(seen) == ["a", "b"]


@pytest.mark.parametrize("kwargs, message", [
    ({"every_s": 0}, "every_s 0 is not valid; use a number of seconds > 0"),
    ({"every_s": float("nan")}, "every_s nan is not valid"),
    ({"every_s": 1, "first_after_s": -1}, "first_after_s -1 is not valid; use a number of seconds >= 0"),
])
def test_bad_intervals_are_refused_naming_the_job_and_value(kwargs, message):
    with pytest.raises(ValueError, match=f"sweep: {message}"):
        PeriodicJob("sweep", work=lambda: None, **kwargs)
