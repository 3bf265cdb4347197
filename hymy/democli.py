"""``hymy demo``: a thin command over ``hymy.demo``."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import click


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Dashboard port on 127.0.0.1 (another free port is used when it is taken).")
@click.option("--no-screen", is_flag=True, help="Run the buttons-only kiosk instead of the Kivy screen.")
@click.option("--days", type=click.FloatRange(0, 365), default=30, show_default=True,
              help="Days of simulated history.")
@click.option("--dir", "base", type=click.Path(file_okay=False, path_type=Path), default=Path(".hymy/demo"),
              show_default=True, help="Where the demo keeps its files (made fresh at every start).")
def demo(port: int, no_screen: bool, days: float, base: Path) -> None:
    """Run the whole system: server, kiosk, sync agent, demo data. Prints the dashboard URL and a login."""
    from hymy import demo as d

    def interrupted(signum, _frame):  # SIGTERM/SIGHUP stop the children like Ctrl-C does
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupted)
    click.echo("Setting up the demo organisation ...")
    run = d.setup(base, port)
    try:
        d.start(run, screen=not no_screen, days=days, echo=click.echo)
        click.echo(d.banner(run))
        while True:
            for proc, name in zip(run.processes, ("server", "sync", "kiosk"), strict=False):
                if proc.poll() is not None:
                    raise click.ClickException(
                        f"the {name} process stopped (exit {proc.returncode}); see {run.base / 'logs' / (name + '.log')}")
            time.sleep(0.5)
    except KeyboardInterrupt:
        click.echo("\nStopping ...")
    finally:
        d.stop(run)
        click.echo("Demo stopped.")
