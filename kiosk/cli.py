"""Device commands: ``hymy status`` (and ``hymy kiosk``, added with the screen)."""

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
