"""``hymy sync [--once]``: the sync agent's command, a few lines over ``sync.agent.Agent``."""

from __future__ import annotations

import signal
import sys

import click

from hymy.cli import config_option


@click.command()
@config_option
@click.option("--once", is_flag=True,
              help="Enrol if needed, pull the store config, deliver everything pending, send one heartbeat, "
                   "then exit (0 when the outbox is empty, 1 when something is still pending).")
def sync(config_path: str | None, once: bool) -> None:
    """Deliver the kiosk's stored presses to the central server (store-and-forward).

    Runs until stopped (SIGTERM/SIGINT) unless --once. Needs [server] url in the device config and
    either a device token or a one-time [server] enrolment_code.
    """
    from kiosk.config import load_config
    from sync.agent import Agent

    agent = Agent(load_config(config_path))
    try:
        if once:
            result = agent.once()
            click.echo(f"sent {result.sent}, quarantined {result.quarantined}, pending {result.pending}"
                       + (f"; error: {result.error}" if result.error else ""))
            sys.exit(0 if result.ok else 1)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: agent.stop())
        agent.run()
    finally:
        agent.close()
