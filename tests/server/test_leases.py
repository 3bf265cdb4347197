"""server.leases on real SQLite and PostgreSQL: one holder at a time, taken over only after expiry, and the
periodic jobs' gate that runs each job's work once per period across processes (issue 16)."""

from __future__ import annotations

import threading

from hymy.periodic import Jobs, PeriodicJob
from server.db import make_engine
from server.leases import HOLD_S, LeaseGate, Leases


class Clock:
    """Unix seconds that a test moves by hand (the holders of one test share it, as hosts share NTP)."""

    def __init__(self, at: float = 1_000_000.0):
        self.at = at

    def __call__(self) -> float:
        return self.at


def test_a_lease_has_one_holder_until_it_expires(db_url):
    engine = make_engine(db_url)
    clock = Clock()
    a, b = Leases(engine, "a", clock), Leases(engine, "b", clock)
    assert a.take("job:x", 10) is True
    assert b.take("job:x", 10) is False and a.holder_of("job:x") == "a"
    assert a.take("job:x", 10) is True  # renewing our own
    clock.at += 9.9
    assert b.take("job:x", 10) is False
    clock.at += 0.1  # a's lease ends: b takes it, and a cannot act on it any more
    assert b.take("job:x", 10) is True and a.holder_of("job:x") == "b"
    assert a.hold_until("job:x", clock.at + 100) is False
    a.release("job:x")  # not a's to release
    assert a.holder_of("job:x") == "b"
    b.release("job:x")
    assert a.holder_of("job:x") is None and a.take("job:x", 1) is True
    engine.dispose()


def test_many_takers_at_once_get_one_lease(db_url):
    """Eight holders race for one free lease, each from its own thread and connection: one wins."""
    engine = make_engine(db_url)
    holders = [Leases(engine, f"h{i}") for i in range(8)]
    barrier = threading.Barrier(len(holders))
    won: list[str] = []

    def race(leases: Leases) -> None:
        barrier.wait()
        if leases.take("job:race", 60):
            won.append(leases.holder)

    threads = [threading.Thread(target=race, args=(h,)) for h in holders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(won) == 1 and holders[0].holder_of("job:race") == won[0]
    engine.dispose()


def test_presence_counts_live_holders_only(db_url):
    engine = make_engine(db_url)
    clock = Clock()
    a, b = Leases(engine, "a", clock), Leases(engine, "b", clock)
    a.take("limits:a", 10)
    clock.at += 5
    b.take("limits:b", 10)
    a.take("job:other", 100)
    assert a.live("limits:") == 2
    clock.at += 6  # a stopped renewing
    assert a.live("limits:") == 1
    clock.at += 4000  # both presences ended more than an hour ago: forgotten (job leases are not)
    assert a.forget_expired("limits:") == 2 and a.live("job:") == 0
    engine.dispose()


def test_the_gate_runs_a_job_once_per_period_across_holders(db_url):
    """Two processes' timers fire every 10 s at different moments of the period: the work runs once per
    period, in whichever process's timer comes first after the lease expired."""
    engine = make_engine(db_url)
    clock = Clock()
    done: list[tuple[str, float]] = []
    jobs = {}
    for name in ("a", "b"):
        gate = LeaseGate(Leases(engine, name, clock))
        jobs[name] = PeriodicJob("sweep", 10, lambda name=name: done.append((name, clock.at)), gate=gate)
    start = clock.at
    for period in range(6):  # a fires at +0.0 s of each period, b at +3.0 s
        clock.at = start + 10 * period
        jobs["a"].run_once()
        clock.at += 3
        jobs["b"].run_once()
    assert done == [("a", start + 10 * p) for p in range(6)]
    # a dies after its last run: b takes over at its first timer after the lease expired (10 s after
    # a's run began), never before
    last = start + 50
    for t in (53, 58, 59.9):
        clock.at = start + t
        assert jobs["b"].run_once() is False
    clock.at = last + 10
    assert jobs["b"].run_once() is True and done[-1] == ("b", last + 10)
    engine.dispose()


def test_a_run_in_progress_holds_its_lease_past_its_period(db_url):
    """A run longer than the period is not started again elsewhere; a holder dying in a run frees the
    lease HOLD_S after the run began."""
    engine = make_engine(db_url)
    clock = Clock()
    a, b = Leases(engine, "a", clock), Leases(engine, "b", clock)
    seen = []

    def slow():
        clock.at += 30  # the run takes 30 s of a 5 s period; meanwhile b's timer fires
        seen.append(PeriodicJob("sweep", 5, lambda: seen.append("b ran"), gate=LeaseGate(b)).run_once())

    began = clock.at
    assert PeriodicJob("sweep", 5, slow, gate=LeaseGate(a)).run_once() is True
    assert seen == [False]  # b did not run during a's run
    # after the run, a's lease expires 5 s after the run began: already past, so b's next timer takes it
    assert PeriodicJob("sweep", 5, lambda: seen.append("b ran"), gate=LeaseGate(b)).run_once() is True
    # a holder that dies inside a run keeps the lease HOLD_S after the run began
    clock.at += 100
    assert a.take("job:long", max(5, HOLD_S)) is True
    clock.at += HOLD_S - 1
    assert b.take("job:long", 5) is False
    clock.at += 1
    assert b.take("job:long", 5) is True
    assert began < clock.at
    engine.dispose()


def test_jobs_with_the_lease_gate_and_a_job_every_process_runs(db_url):
    """``Jobs(gate=LeaseGate(...))`` gives its jobs the lease; a job added with ``gate=always`` (the
    request limits' merge) runs in every process."""
    from hymy.periodic import always

    engine = make_engine(db_url)
    clock = Clock()
    runs: list[str] = []
    sets = []
    for name in ("a", "b"):
        jobs = Jobs(gate=LeaseGate(Leases(engine, name, clock)))
        jobs.add("sweep", 5, lambda name=name: runs.append(f"sweep {name}"))
        jobs.add("limits", 1, lambda name=name: runs.append(f"limits {name}"), gate=always)
        sets.append(jobs)
    for jobs in sets:
        for job in jobs:
            job.run_once()
    assert runs == ["sweep a", "limits a", "limits b"]
    engine.dispose()


def test_two_app_instances_on_one_database_sweep_once_per_period(db_url):
    """Two apps (two instances, each with its own holder) on one database, their lifespans running: the
    alert sweep's runs, taken together, start at least ``alert_sweep_s`` apart: once per period. Without
    the lease each app's timer would sweep every period, so two runs would often come closer."""
    import time

    from fastapi.testclient import TestClient

    from server.app import create_app
    from server.settings import Settings

    period = 0.3
    settings = Settings(database_url=db_url, components=("alerts",), alert_sweep_s=period, smtp=None,
                        device_rate_per_min=0, ip_rate_per_min=0)
    starts: list[tuple[float, int]] = []
    apps = [create_app(settings), create_app(settings)]
    for i, app in enumerate(apps):
        job = app.state.jobs["alert-sweep"]
        sweep = job.work

        def counted(i=i, sweep=sweep):
            starts.append((time.time(), i))
            sweep()

        job.work = counted
    with TestClient(apps[0]), TestClient(apps[1]):
        deadline = time.monotonic() + 60  # a safety net only: the runs come every `period`
        while len(starts) < 12 and time.monotonic() < deadline:
            time.sleep(0.05)
    times = sorted(at for at, _ in starts)
    assert len(times) >= 12
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= period - 0.001
    for app in apps:
        app.state.engine.dispose()
