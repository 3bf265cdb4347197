"""Development hook: press the mock GPIO buttons of a running kiosk from another process, no display needed.

Only with gpiozero's mock pins (``GPIOZERO_PIN_FACTORY=mock``, as ``hymy demo`` runs it): the kiosk,
with its screen (``hymy kiosk``, also offscreen) or buttons only (``hymy kiosk --no-screen``), makes a
named pipe ``mockpress.fifo`` in its data directory and reads lines from it. Each line is a button
number (1 = the leftmost, most negative face) and optionally a hold time in seconds::

    echo 3 > .hymy/demo/kiosk/mockpress.fifo         # the demo's kiosk: press button 3
    echo "1 0.1" > .hymy/demo/kiosk/mockpress.fifo   # press button 1 for 0.1 s

``hymy demo`` prints the command with its full path. The press goes through
``hardware.gpio.mock_press``: the pin is driven low and high again, so the panel's debounce, the
capture core and the LEDs see exactly what a real button does. The whole-system tests (tests/e2e) use
it to press a button of a kiosk running as its own process. A named pipe (not a UNIX socket) because
its path may be as long as the data directory's; the reader opens it read-write so it never sees
end-of-file between writers. With real pins nothing is made.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import stat
import threading
from collections.abc import Callable
from pathlib import Path

from hardware.gpio import is_mock

log = logging.getLogger(__name__)

FIFO_NAME = "mockpress.fifo"
#: Seconds the reader waits for input before checking whether it should stop.
POLL_S = 0.2


class PressPipe:
    """Reads ``mockpress.fifo`` on a daemon thread and presses ``panel().press(index, hold_s)``."""

    def __init__(self, path: Path, panel: Callable[[], object]):
        self.path = path
        self.panel = panel
        self._stop = threading.Event()
        if path.exists() and not stat.S_ISFIFO(path.stat().st_mode):
            path.unlink()
        if not path.exists():
            os.mkfifo(path, 0o600)
        self._fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        self._thread = threading.Thread(target=self._run, name="hymy-mockpress", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        pending = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self._fd], [], [], POLL_S)
            if not ready:
                continue
            try:
                pending += os.read(self._fd, 4096)
            except BlockingIOError:
                continue
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self.handle(line.decode("utf-8", "replace"))

    def handle(self, line: str) -> None:
        """One line: ``N`` or ``N HOLD_S``; bad lines are logged and ignored."""
        parts = line.split()
        if not parts:
            return
        try:
            number = int(parts[0])
            hold_s = float(parts[1]) if len(parts) > 1 else 0.05
        except ValueError:
            log.warning("mock press: %r is not 'BUTTON [HOLD_S]'", line)
            return
        panel = self.panel()
        press = getattr(panel, "press", None)
        if press is None:
            log.warning("mock press %d ignored: no panel (the pin map does not fit the question)", number)
            return
        try:
            press(number - 1, hold_s)
        except (IndexError, Exception) as exc:  # a development hook must never stop the kiosk
            log.warning("mock press %d failed: %s", number, exc)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2 * POLL_S + 1)
        os.close(self._fd)
        with contextlib.suppress(OSError):
            self.path.unlink()


def open_press_pipe(data_dir: Path, factory, panel: Callable[[], object]) -> PressPipe | None:
    """A PressPipe in ``data_dir`` when ``factory`` is gpiozero's mock factory, else None."""
    if factory is None or not is_mock(factory):
        return None
    pipe = PressPipe(Path(data_dir) / FIFO_NAME, panel)
    log.info("mock GPIO: write a button number to %s to press it", pipe.path)
    return pipe
