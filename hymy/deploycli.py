"""``hymy firstboot`` and ``hymy update``: a few lines each over hymy.provision and hymy.update."""

from __future__ import annotations

import sys

import click


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
    from hymy.provision import firstboot as run

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
    from hymy.update import Updater

    updater = Updater(prefix, units=list(units) or None, watch_s=watch, extras=extras, keep=keep,
                      log=lambda line: click.echo(line))
    outcome = updater.update(source)
    click.echo(outcome.summary)
    if not outcome.ok:
        sys.exit(1)
