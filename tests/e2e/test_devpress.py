"""The mock-press pipe (hardware/devpress.py) the whole-system tests press buttons through."""

from __future__ import annotations

import os
import threading

from gpiozero.pins.mock import MockFactory

from hardware.devpress import FIFO_NAME, open_press_pipe
from tests.e2e.system import wait_until


class Panel:
    def __init__(self):
        self.pressed: list[tuple[int, float]] = []
        self.lock = threading.Lock()

    def press(self, index: int, hold_s: float) -> None:
        if index >= 4:
            raise IndexError(index)
        with self.lock:
            self.pressed.append((index, hold_s))


def write(path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def test_lines_press_buttons_bad_lines_are_ignored_and_close_removes_the_pipe(tmp_path):
    panel = Panel()
    pipe = open_press_pipe(tmp_path, MockFactory(), lambda: panel)
    assert pipe is not None and (tmp_path / FIFO_NAME).exists()
    try:
        write(pipe.path, "2\nnonsense\n9\n")  # 9: no such button, logged, the reader goes on
        write(pipe.path, "1 0.2\n4")  # the last line is complete only with its newline
        wait_until(lambda: len(panel.pressed) == 2, 5, "two presses")
        write(pipe.path, "\n")
        wait_until(lambda: len(panel.pressed) == 3, 5, "third press")
        assert panel.pressed == [(1, 0.05), (0, 0.2), (3, 0.05)]
    finally:
        pipe.close()
    assert not (tmp_path / FIFO_NAME).exists()


def test_no_pipe_with_real_pins_or_no_factory(tmp_path):
    assert open_press_pipe(tmp_path, None, lambda: None) is None
    assert open_press_pipe(tmp_path, object(), lambda: None) is None
    assert not (tmp_path / FIFO_NAME).exists()


def test_a_pipe_left_by_a_killed_kiosk_is_reused(tmp_path):
    os.mkfifo(tmp_path / FIFO_NAME)
    panel = Panel()
    pipe = open_press_pipe(tmp_path, MockFactory(), lambda: panel)
    try:
        write(pipe.path, "3\n")
        wait_until(lambda: panel.pressed == [(2, 0.05)], 5, "press through the old pipe")
    finally:
        pipe.close()
