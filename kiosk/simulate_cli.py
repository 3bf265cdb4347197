"""``hymy simulate``: realistic presses into this device's store, or straight through the device API."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import click

from hymy.cli import config_option


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
    from kiosk.simulate import deliver_simulated, simulate_device_store

    if codes and not server_url:
        raise click.UsageError("--code needs --server")
    if server_url:
        if not codes:
            raise click.UsageError("--server needs at least one --code (from `hymy admin add-device`)")
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
