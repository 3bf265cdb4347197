"""``hymy server``, ``hymy admin ...`` and ``hymy export``: a few lines each over the Python API."""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta

import click

from .cliopts import cli_day, db_option, engine_for, settings_for


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="TCP port.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes on the one port (default: HYMY_WORKERS, else 1; docs/server.md: sizing).")
@db_option
def server(host: str, port: int, workers: int | None, database_url: str | None) -> None:
    """Run the central server (device API, manager API, dashboard) with Uvicorn.

    Migrations run first, once. With --workers N, N processes serve the one port; the periodic jobs run
    once across them, and the request limits hold across them. More instances (other hosts) may share
    one PostgreSQL (HYMY_DATABASE_URL) behind a load balancer.
    """
    from server.workers import serve

    settings = settings_for(database_url)
    serve(settings.with_(workers=workers) if workers else settings, host, port)


@click.group()
def admin() -> None:
    """Manage regions, stores, devices and users (works on the database directly)."""


@admin.command("add-region")
@click.argument("name")
@click.option("--id", "region_id", default=None, help="Region id (default: a slug of the name).")
@db_option
def add_region(name: str, region_id: str | None, database_url: str | None) -> None:
    """Add a region; prints its id."""
    from server import admin as api

    click.echo(api.create_region(engine_for(database_url), name, region_id))


@admin.command("add-store")
@click.argument("name")
@click.option("--id", "store_id", default=None, help="Store id (default: a slug of the name).")
@click.option("--region", "region_id", default=None, help="Region id.")
@click.option("--timezone", default="Europe/Helsinki", show_default=True, help="IANA time zone.")
@click.option("--config", "config_file", type=click.File("r"), default=None,
              help="StoreConfig JSON (question, reasons, hours...); default: the demo question.")
@db_option
def add_store(name, store_id, region_id, timezone, config_file, database_url) -> None:
    """Add a store; prints its id."""
    from hymy.errors import ConfigError
    from server import admin as api
    from server.jsontext import parse_json

    cfg = parse_json(config_file.read(), config_file.name) if config_file else None
    if cfg is not None and not isinstance(cfg, dict):
        raise ConfigError(f"{config_file.name}: must be a JSON object (a StoreConfig, see docs/server.md)")
    click.echo(api.create_store(engine_for(database_url), name, timezone=timezone, region_id=region_id,
                                store_id=store_id, config=cfg))


@admin.command("move-store")
@click.argument("store_id")
@click.option("--region", "region_id", default=None, help="Region id; leave out to take the store out of its region.")
@db_option
def move_store(store_id: str, region_id: str | None, database_url: str | None) -> None:
    """Move a store to another region (its results move with it; region figures are recomputed)."""
    from server import admin as api

    old = api.move_store(engine_for(database_url), store_id, region_id)
    click.echo(f"store {store_id}: region {old or '(none)'} -> {region_id or '(none)'}")


@admin.command("add-device")
@click.option("--store", "store_id", required=True, help="Store id the device belongs to.")
@click.option("--name", default=None, help="A name people recognise (e.g. 'Exit 1').")
@db_option
def add_device(store_id: str, name: str | None, database_url: str | None) -> None:
    """Register a device; prints its id and a one-time enrolment code valid 7 days."""
    from server import admin as api

    new = api.create_device(engine_for(database_url), store_id, name)
    click.echo(f"device {new.device_id}\ncode {new.code}\nexpires {new.expires_at}")


@admin.command("new-code")
@click.argument("device_id")
@db_option
def new_code(device_id: str, database_url: str | None) -> None:
    """A fresh enrolment code for an existing device (earlier unused codes stop working)."""
    from server import admin as api

    new = api.new_enrolment_code(engine_for(database_url), device_id)
    click.echo(f"device {new.device_id}\ncode {new.code}\nexpires {new.expires_at}")


@admin.command("revoke-device")
@click.argument("device_id")
@db_option
def revoke_device(device_id: str, database_url: str | None) -> None:
    """Revoke a device: its token gets 401 at once."""
    from server import admin as api

    api.revoke_device(engine_for(database_url), device_id)
    click.echo(f"revoked {device_id}")


@admin.command("add-user")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "regional_manager", "store_manager", "technician"]),
              required=True)
@click.option("--store", "stores", multiple=True, help="Store id (repeatable): store managers, technicians.")
@click.option("--region", "regions", multiple=True, help="Region id (repeatable): regional managers.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, envvar="HYMY_NEW_PASSWORD",
              help="Password (prompted when not given; env HYMY_NEW_PASSWORD).")
@db_option
def add_user(username, role, stores, regions, password, database_url) -> None:
    """Add a user with a role; managers are scoped to stores or regions."""
    from server import auth

    user = auth.create_user(engine_for(database_url), username, password, role, stores=stores, regions=regions)
    click.echo(f"user {user.id} {user.username} ({user.role})")


@admin.command("add-token")
@click.argument("username")
@click.option("--name", default=None, help="What the token is for.")
@db_option
def add_token(username: str, name: str | None, database_url: str | None) -> None:
    """Make a personal API token for USERNAME (printed once)."""
    from sqlalchemy import select

    from hymy.errors import NotFound
    from server import auth
    from server import tables as t

    engine = engine_for(database_url)
    with engine.connect() as conn:
        uid = conn.execute(select(t.users.c.id).where(t.users.c.username == username)).scalar()
    if uid is None:
        raise NotFound(f"user {username!r} does not exist")
    click.echo(auth.create_api_token(engine, uid, name))


@admin.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@db_option
def list_(as_json: bool, database_url: str | None) -> None:
    """List regions, stores, devices and users."""
    from server import admin as api

    data = api.listing(engine_for(database_url, existing=True))
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for kind, rows in data.items():
        click.echo(f"{kind}:")
        for row in rows:
            click.echo("  " + "  ".join(f"{k}={v}" for k, v in row.items() if v is not None))


@admin.command("delete-comment")
@click.argument("followup_id")
@db_option
def delete_comment(followup_id: str, database_url: str | None) -> None:
    """Erase the text of a customer comment."""
    from server import admin as api

    click.echo("deleted" if api.delete_comment(engine_for(database_url), followup_id) else "no such comment")


@admin.command("prune")
@click.option("--older-than-days", type=int, default=None,
              help="Default: HYMY_RETENTION_DAYS.")
@db_option
def prune(older_than_days: int | None, database_url: str | None) -> None:
    """Delete raw events older than N days; daily and hourly results stay."""
    from server import admin as api

    days = older_than_days or settings_for(database_url).retention_days
    if not days:
        raise click.UsageError("give --older-than-days or set HYMY_RETENTION_DAYS")
    click.echo(json.dumps(api.prune(engine_for(database_url), days)))


@click.command()
@click.option("--store", "store_id", required=True, help="Store id.")
@click.option("--from", "start", default=None, help="First local date (default: 30 days ago).")
@click.option("--to", "end", default=None, help="Last local date (default: today).")
@click.option("--kind", type=click.Choice(["responses", "daily"]), default="daily", show_default=True)
@click.option("-o", "--output", type=click.File("w"), default="-", help="File (default: stdout).")
@db_option
def export(store_id, start, end, kind, output, database_url) -> None:
    """Export a store's raw events or daily results as CSV."""
    from server.export import export_csv

    end_d = cli_day(end, "--to") if end else date.today()
    start_d = cli_day(start, "--from") if start else end_d - timedelta(days=30)
    output.write(export_csv(engine_for(database_url, existing=True), store_id, start_d, end_d, kind))
    if output is not sys.stdout:
        output.close()
