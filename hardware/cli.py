"""``hymy hwtest``: the technician's self-test of buttons, LEDs and the staff lamp (see hardware.hwtest)."""

from __future__ import annotations

import sys

import click

from hymy.cli import config_option


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
    from hardware.hwtest import format_table, passed, run_from_config
    from hymy.errors import HardwareError
    from kiosk.config import load_config

    config = load_config(config_path)
    try:
        checks = run_from_config(config, auto=auto, timeout_s=timeout_s, echo=click.echo)
    except HardwareError as exc:
        click.echo(f"FAIL: {exc}", err=True)
        sys.exit(1)
    click.echo("")
    click.echo(format_table(checks))
    sys.exit(0 if passed(checks) else 1)
