"""kiosk.headless: the buttons-only kiosk with real Store, store-config file, mock pins and sd_notify."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from gpiozero import Device

from hymy.protocol import AlertRule, Question, Texts, default_store_config
from kiosk import headless
from kiosk.config import parse_config
from kiosk.store import Store
from kiosk.storeconfig import write_store_config
from tests import procs
from tests.hardware.conftest import BUTTONS, LAMP, LEDS, ROOT_DIR, responses, wait_for


def device(tmp_path, **pins):
    return parse_config({"device": {"data_dir": str(tmp_path / "data"), "clock": "trust"},
                         "pins": {"buttons": BUTTONS, "leds": LEDS, **pins}})


def store_config(**update):
    return default_store_config().model_copy(update={"response_interval_s": 0.0, **update})


class Running:
    """headless.run on a thread, stopped through its stop_event."""

    def __init__(self, config, factory):
        self.stop = threading.Event()
        self.rc = None
        self.thread = threading.Thread(target=self._run, args=(config, factory), daemon=True)
        self.thread.start()

    def _run(self, config, factory):
        self.rc = headless.run(config, pin_factory=factory, stop_event=self.stop)

    def finish(self) -> int | None:
        self.stop.set()
        self.thread.join(timeout=10)
        return self.rc


@pytest.fixture(autouse=True)
def fast_loop(monkeypatch):
    monkeypatch.setattr(headless, "TICK_S", 0.02)


@pytest.fixture
def notify_socket(tmp_path, monkeypatch):
    """A real sd_notify socket: what the process tells systemd arrives here."""
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(10)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield sock
    sock.close()


def test_headless_records_button_presses_and_says_ready(tmp_path, factory, notify_socket):
    cfg = device(tmp_path)
    run = Running(cfg, factory)
    assert notify_socket.recv(1024).decode().startswith("READY=1")
    factory.pin(BUTTONS[0]).drive_low()
    factory.pin(BUTTONS[0]).drive_high()
    assert run.finish() == 0
    assert "STOPPING=1" in notify_socket.recv(1024).decode()
    with Store(cfg.store_path) as store:
        rows = responses(store)
    assert [(r["mood"], r["source"]) for r in rows] == [(1, "button")]
    # every pin released: a new device may claim them
    assert all(factory.pin(p).when_changed is None for p in BUTTONS)


def test_headless_leds_pulse_while_open_and_are_dark_when_closed(tmp_path, pwm_factory, notify_socket):
    cfg = device(tmp_path, pwm=True)
    write_store_config(cfg.store_config_path, store_config(opening_hours={}))
    run = Running(cfg, pwm_factory)
    try:
        notify_socket.recv(1024)
        assert wait_for(lambda: pwm_factory.pin(LEDS[0]).state > 0, timeout=3)  # breathing
        always_closed = store_config(opening_hours={"mon": ["00:00-00:01"], "tue": ["00:00-00:01"],
                                                    "wed": ["00:00-00:01"], "thu": ["00:00-00:01"],
                                                    "fri": ["00:00-00:01"], "sat": ["00:00-00:01"],
                                                    "sun": ["00:00-00:01"]})
        time.sleep(0.02)  # a new mtime for the cached file
        write_store_config(cfg.store_config_path, always_closed)
        assert wait_for(lambda: all(pwm_factory.pin(p).state == 0 for p in LEDS), timeout=3)
        time.sleep(0.3)
        assert all(pwm_factory.pin(p).state == 0 for p in LEDS)
    finally:
        assert run.finish() == 0


def test_headless_waits_for_a_question_the_buttons_fit(tmp_path, factory, notify_socket, caplog):
    cfg = device(tmp_path)
    three = store_config(question=Question(id="q3", texts=Texts(fi="?", sv="?", en="?"), scale=3))
    write_store_config(cfg.store_config_path, three)
    with caplog.at_level(logging.ERROR, logger="kiosk"):
        run = Running(cfg, factory)
        notify_socket.recv(1024)
        factory.pin(BUTTONS[0]).drive_low()
        factory.pin(BUTTONS[0]).drive_high()
        time.sleep(0.02)
        write_store_config(cfg.store_config_path, store_config())  # back to 4 faces
        with Store(cfg.store_path) as store:
            def pressed_once():
                factory.pin(BUTTONS[1]).drive_low()
                factory.pin(BUTTONS[1]).drive_high()
                return len(responses(store)) > 0

            assert wait_for(pressed_once, timeout=3, step=0.05)
            moods = {r["mood"] for r in responses(store)}
    assert run.finish() == 0
    assert moods == {2}
    assert "pins.buttons: 4 buttons for a question with 3 faces" in caplog.text


def test_headless_drives_the_staff_lamp_from_local_rules(tmp_path, factory, notify_socket):
    cfg = device(tmp_path, staff_alert=LAMP)
    write_store_config(cfg.store_config_path,
                       store_config(alert_rules=[AlertRule(id="neg", kind="negative_share", local=True)]))
    run = Running(cfg, factory)
    try:
        notify_socket.recv(1024)
        assert factory.pin(LAMP).state is False
        for _ in range(6):
            factory.pin(BUTTONS[0]).drive_low()
            time.sleep(0.03)
            factory.pin(BUTTONS[0]).drive_high()
            time.sleep(0.03)
        assert wait_for(lambda: factory.pin(LAMP).state is True, timeout=3)
    finally:
        assert run.finish() == 0
    assert factory.pin(LAMP).state is False


def test_headless_without_buttons_exits_1(tmp_path, factory, caplog):
    cfg = parse_config({"device": {"data_dir": str(tmp_path / "data")}})
    with caplog.at_level(logging.ERROR, logger="kiosk"):
        assert headless.run(cfg, pin_factory=factory) == 1
    assert "pins.buttons is empty" in caplog.text


def test_headless_without_gpio_exits_1_with_a_plain_line(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-factory")
    monkeypatch.setattr(Device, "pin_factory", None)
    with caplog.at_level(logging.ERROR, logger="kiosk"):
        assert headless.run(device(tmp_path), stop_event=threading.Event()) == 1
    assert "GPIO buttons unavailable: no GPIO library could be loaded" in caplog.text
    assert "a buttons-only kiosk cannot record without them" in caplog.text
    assert "touchscreen" not in caplog.text  # there is none: the message must not promise one


def test_headless_kiosk_command_stops_cleanly_on_sigterm(tmp_path, notify_socket):
    """``hymy kiosk --no-screen`` as systemd runs it: READY, then SIGTERM -> a clean exit."""
    toml = tmp_path / "kiosk.toml"
    toml.write_text(f'[device]\ndata_dir = "{tmp_path / "data"}"\nclock = "trust"\n'
                    f"[pins]\nbuttons = {BUTTONS}\nleds = {LEDS}\n")
    env = {**os.environ, "GPIOZERO_PIN_FACTORY": "mock", "NOTIFY_SOCKET": notify_socket.getsockname()}
    proc = procs.Popen([sys.executable, "-m", "hymy", "kiosk", "--no-screen", "--config", str(toml)],
                       cwd=ROOT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert notify_socket.recv(1024).decode().startswith("READY=1")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert (tmp_path / "data" / "kiosk.db").exists()
