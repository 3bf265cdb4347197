"""The demo's history (``hymy demo``): weeks of the story's presses and its past alerts, made through the
real paths before the demo's own processes start.

The story is ``hymy.demostory``. A server app on the demo's database serves the device API on a free
loopback port inside this process, its alert sweep off (so nothing but the replay below moves an
episode), while:

1. the kiosk's sync agent enrols with the kiosk's one-time code, its capture core records the kiosk
   store's presses into the kiosk's own store (``kiosk.simulate``, a simulated clock) and the agent
   delivers them; the kiosk's ``hymy sync`` later goes on with the same token;
2. every other store gets a simulated device that does the same (``deploy.simulate``);
3. the server's alert engine is replayed over each watched spell's occurrence, and the story's people
   acknowledge and comment through the alert service (``server.dashboard.sample.replay_alerts``). The
   history is recorded and delivered up to the end of each occurrence first (``deliver_history``), so
   the engine reads only the presses it would have seen live.

The app stops before the demo's server process starts on the same database. Log lines go to
``logs/history.log``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from deploy.simulate import device_config, drain, enrolled
from hymy.demostory import STORES, StoryStore
from hymy.pressplan import occurrences, plan_presses
from kiosk.simulate import HISTORY_SYNCHRONOUS, SimClock, record_presses
from kiosk.store import Store

#: Seconds between the history app's own alert sweeps: never during the history.
NO_SWEEP_S = 24 * 3600.0


@contextlib.contextmanager
def _logged_to(path: Path) -> Iterator[None]:
    """Log records of this process (INFO and up) go to ``path`` instead of the terminal meanwhile (the
    history's server app logs every alert it replays)."""
    root = logging.getLogger()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    before = root.handlers[:], root.level
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.handlers[:], level = before
        root.setLevel(level)
        handler.close()


def make_history(database_url: str, base: Path, kiosk_config: Path, stores: dict[str, str],
                 codes: dict[str, str], span: timedelta, echo: Callable[[str], None] = print) -> int:
    """Record and deliver ``span`` of the story's history ending now and replay its alerts (see the module
    docstring). ``stores``: story store name -> store id; ``codes``: store name -> its device's one-time
    code (the kiosk's is in ``kiosk_config``). Returns the number of alert episodes opened."""
    from kiosk.config import load_config
    from server.settings import Settings
    from server.testing import serve

    end = datetime.now(UTC)
    kiosk = load_config(kiosk_config)
    settings = Settings(database_url=database_url, alert_sweep_s=NO_SWEEP_S)
    episodes = 0
    with _logged_to(base / "logs" / "history.log"), serve(settings) as running:
        for story in STORES:
            if story.device == "kiosk":
                config = device_config(running.base_url, kiosk.server.enrolment_code, kiosk.device.data_dir,
                                       kiosk.device.name)
                where = "the kiosk's capture core into its own store, delivered by its sync agent"
            else:
                config = device_config(running.base_url, codes[story.name],
                                       base / "simulated" / f"device-{story.seed}", story.device_name)
                where = "a simulated device through the device API"
            echo(f"  {story.name}: {span / timedelta(days=1):g} days of presses ({where}) ...")
            events, opened = _store_history(story, config, stores[story.name], running.app.state.alerts,
                                            end - span, end)
            episodes += opened
            echo(f"    {events} events delivered" + (f"; alert episodes replayed: {opened}" if opened else ""))
    return episodes


def _store_history(story: StoryStore, config, store_id: str, alerts, start: datetime,
                   end: datetime) -> tuple[int, int]:
    """One store's history through its device (events delivered, alert episodes opened)."""
    from kiosk.storeconfig import StoreConfigCache
    from server.dashboard.sample import deliver_history

    with Store(config.store_path, synchronous=HISTORY_SYNCHRONOUS) as store, enrolled(config, store) as agent:
        store_config = StoreConfigCache(config.store_config_path)()
        clock = SimClock(f"history-{story.seed}", start - timedelta(hours=1))
        sent = 0

        def deliver(presses) -> None:
            nonlocal sent
            record_presses(store, store_config, presses, clock)
            sent += drain(agent)

        plan = plan_presses(store_config, start, end, pattern=story.pattern, seed=story.seed)
        windows = [(a, b) for _, a, b in occurrences(story.pattern, story.timezone, start, end)]
        opened = deliver_history(plan, deliver, alerts=alerts, store_id=store_id, windows=windows,
                                 acknowledgements=story.acknowledgements)
    return sent, len(opened)
