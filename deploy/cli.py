"""The composition's commands, a few lines each over ``deploy``'s Python API: ``hymy demo`` (deploy.demo),
``hymy simulate`` (kiosk.simulate, and deploy.simulate for --server), ``hymy firstboot``
(deploy.provision) and ``hymy update`` (deploy.update)."""

from __future__ import annotations

import signal
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import click

from hymy.cli import config_option


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
    from deploy import demo as d

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


@click.command()
@config_option
@click.option("--days", type=click.FloatRange(0.01, 3650), default=30, show_default=True,
              help="History to simulate, ending now.")
@click.option("--rate", type=click.FloatRange(0.1, 10_000), default=12, show_default=True,
              help="Counted presses in a peak hour, per device.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed (same seed, same presses).")
@click.option("--server", "server_url", default=None,
              help="Deliver straight through this server's device API instead of the device's store.")
@click.option("--code", "codes", multiple=True,
              help="One-time enrolment code of a simulated device (repeat for several devices); needs --server.")
def simulate(config_path: str | None, days: float, rate: float, seed: int, server_url: str | None,
             codes: tuple[str, ...]) -> None:
    """Simulate presses: daily and hourly patterns, a bad hour, follow-ups, repeats, after-hours presses.

    Without --server the presses go into the store of the device named by --config (its sync agent
    delivers them). With --server and one --code per simulated device, each device is enrolled and its
    presses are delivered through the real device API.
    """
    from kiosk.simulate import simulate_device_store

    if codes and not server_url:
        raise click.UsageError("--code needs --server")
    if server_url:
        if not codes:
            raise click.UsageError("--server needs at least one --code (from `hymy admin add-device`)")
        from deploy.simulate import deliver_simulated

        with tempfile.TemporaryDirectory(prefix="hymy-sim-") as tmp:
            for i, code in enumerate(codes):
                with _bar(f"device {i + 1}/{len(codes)}") as progress:
                    sent = deliver_simulated(server_url, code, Path(tmp) / f"d{i}", timedelta(days=days),
                                             rate=rate, seed=seed + i, progress=progress)
                click.echo(f"device {i + 1}: {sent} events delivered")
        return
    from kiosk.config import load_config

    with _bar("presses") as progress:
        stored = simulate_device_store(load_config(config_path), timedelta(days=days), rate=rate, seed=seed,
                                       progress=progress)
    click.echo(f"{stored} events stored; the sync agent delivers them")


class _bar:
    """A click progress bar whose length is unknown up front: shows a running count."""

    def __init__(self, label: str):
        self.label = label
        self.count = 0

    def __enter__(self):
        return self

    def __call__(self, n: int) -> None:
        self.count += n
        if self.count % 250 == 0:
            click.echo(f"\r{self.label}: {self.count} presses", nl=False, err=True)

    def __exit__(self, *exc: object) -> None:
        click.echo(f"\r{self.label}: {self.count} presses", err=True)


@click.command()
@click.option("--root", type=click.Path(file_okay=False), default="/", show_default=True,
              help="Apply to a system mounted here (an image being built, a test); commands such as "
                   "`hostname` run only when this is /.")
def firstboot(root: str) -> None:
    """Provision this device from /boot/firmware/hymy.toml (run by hymy-firstboot.service as root).

    Validates the whole file, then writes /etc/hymy/kiosk.toml, the Wi-Fi connection, time zone and
    hostname, and removes the Wi-Fi password and enrolment code from the boot partition (the file is
    renamed hymy.toml.applied). A bad file changes nothing: the problems, each with its line and key,
    go to the journal and to /var/lib/hymy/provision-error.txt for the kiosk screen. Exit code 2 then.
    """
    from deploy.provision import firstboot as run

    result = run(root)
    for line in result.changed:
        click.echo(f"provisioned: {line}")
    if not result.changed:
        click.echo("firstboot: nothing to do")


@click.command()
@click.argument("source", type=click.Path(exists=True))
@click.option("--prefix", type=click.Path(file_okay=False), default="/opt/hymy", show_default=True,
              help="Where releases/<version> and the `current` link live.")
@click.option("--unit", "units", multiple=True,
              help="Service to restart and watch (repeatable). Default: the enabled ones of "
                   "hymy-kiosk, hymy-sync, hymy-server.")
@click.option("--watch", type=float, default=60.0, show_default=True,
              help="Seconds the services must stay up after the restart; a failure in that time rolls back.")
@click.option("--extras", default=None,
              help="Package extras to install (default: those of the current release, else 'kiosk').")
@click.option("--keep", type=int, default=3, show_default=True, help="Releases to keep on disk.")
def update(source: str, prefix: str, units: tuple[str, ...], watch: float, extras: str | None,
           keep: int) -> None:
    """Install SOURCE (a wheel, a directory of wheels, or a source tree) beside the running release,
    switch to it, restart the services and wait until they are ready and healthy; if they fail within
    --watch seconds, switch back to the previous release by itself (exit code 1).

    Local data (/var/lib/hymy) and config (/etc/hymy) are never touched by an update or rollback.
    """
    from deploy.update import Updater

    updater = Updater(prefix, units=list(units) or None, watch_s=watch, extras=extras, keep=keep,
                      log=lambda line: click.echo(line))
    outcome = updater.update(source)
    click.echo(outcome.summary)
    if not outcome.ok:
        sys.exit(1)
