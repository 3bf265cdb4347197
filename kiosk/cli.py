"""The device's commands: ``hymy status``, ``hymy kiosk`` and ``hymy hwtest``."""

from __future__ import annotations

import json
import sys

import click

from hymy.cli import config_option


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON instead of text.")
def status(config_path: str | None, as_json: bool) -> None:
    """Show device id, store, version, backlog, last sync, clock, disk state and store recoveries.

    Only reads: creates no file. Exit code 1 when the local store is damaged or cannot be read, else 0.
    """
    from kiosk.config import load_config
    from kiosk.status import DAMAGED, UNREADABLE, device_status, format_status

    info = device_status(load_config(config_path))
    click.echo(json.dumps(info, indent=2) if as_json else format_status(info))
    if info["store_file"]["state"] in (DAMAGED, UNREADABLE):
        sys.exit(1)


@click.command()
@config_option
@click.option("--no-screen", is_flag=True,
              help="Buttons only: record GPIO presses without the touchscreen (also when display.enabled = false).")
def kiosk(config_path: str | None, no_screen: bool) -> int | None:
    """Run the kiosk: the full-screen smiley app customers touch, with the GPIO buttons if configured."""
    from kiosk.config import load_config

    config = load_config(config_path)
    if no_screen or not config.display.enabled:
        from kiosk.headless import run

        return run(config)
    from kiosk.ui.window import configure, prepare_environment

    prepare_environment(config.data_dir)
    configure(config.display)
    from kiosk.ui.app import run_kiosk

    run_kiosk(config)


@click.command()
@config_option
@click.option("--auto", is_flag=True,
              help="No person needed: drive gpiozero's mock pins, press every button and read the LEDs back (CI).")
@click.option("--timeout", "timeout_s", type=click.FloatRange(0.1, 600), default=20.0, show_default=True,
              help="Seconds to wait for each button before flagging it as missing.")
def hwtest(config_path: str | None, auto: bool, timeout_s: float) -> None:
    """Test every smiley button, its LED and the staff lamp; print a pass/fail table per pin.

    Asks for each button in turn by colour and face. Exit code 0 when every part works, 1 otherwise.
    Presses made here are never recorded. Stop the kiosk service first: it holds the pins.
    """
    from hardware.hwtest import check_hardware, format_table, passed
    from hymy.errors import HardwareError
    from kiosk.config import load_config
    from kiosk.storeconfig import cached_scale

    config = load_config(config_path)
    scale = cached_scale(config.store_config_path, len(config.pins.buttons))
    try:
        checks = check_hardware(config.pins, scale, auto=auto, timeout_s=timeout_s, echo=click.echo)
    except HardwareError as exc:
        click.echo(f"FAIL: {exc}", err=True)
        sys.exit(1)
    click.echo("")
    click.echo(format_table(checks))
    sys.exit(0 if passed(checks) else 1)
