"""Device commands: ``hymy status`` (and ``hymy kiosk``, added with the screen)."""

from __future__ import annotations

import json

import click

from hymy.cli import config_option


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON instead of text.")
def status(config_path: str | None, as_json: bool) -> None:
    """Show device id, store, version, backlog, last sync, clock and disk state."""
    from kiosk.config import load_config
    from kiosk.status import device_status, format_status

    info = device_status(load_config(config_path))
    click.echo(json.dumps(info, indent=2) if as_json else format_status(info))
