"""``hymy report``: show or send a store's daily or weekly report now (a few lines over the Python API)."""

from __future__ import annotations

from datetime import timedelta

import click

from server.cliopts import db_option


@click.command()
@click.argument("store_id")
@click.option("--date", "day", default=None, help="Local date YYYY-MM-DD (default: yesterday in the store's zone).")
@click.option("--weekly", is_flag=True, help="The week (Monday-Sunday) containing --date instead of one day.")
@click.option("--html", "as_html", is_flag=True, help="Print the HTML part instead of the plain text.")
@click.option("--send", is_flag=True, help="Send it by e-mail (HYMY_SMTP_*) instead of printing it.")
@click.option("--to", "to", multiple=True, help="Recipient (repeatable; default: the store's alert e-mail list).")
@db_option
def report(store_id: str, day: str | None, weekly: bool, as_html: bool, send: bool, to: tuple[str, ...],
           database_url: str | None) -> None:
    """Print (or --send) the report of STORE_ID for a day or a week, as the scheduler would send it."""
    from hymy.errors import ConfigError, DeliveryError
    from hymy.hours import zone
    from hymy.timestamps import utcnow
    from server.alerts.outbox import split_addresses
    from server.alerts.smtp import send_message
    from server.alerts.tables import alert_channels
    from server.cliopts import cli_day, engine_for, settings_for
    from server.reports import data
    from server.reports.render import render_report, report_mail

    engine = engine_for(database_url, existing=True)
    with engine.connect() as conn:
        cfg = data.store_config(conn, store_id)
        if cfg is None:
            raise click.ClickException(f"store {store_id!r} does not exist; see `hymy admin list`")
        when = cli_day(day, "--date") if day else utcnow().astimezone(zone(cfg.timezone)).date() - timedelta(days=1)
        if weekly:
            rd = data.weekly(conn, store_id, when - timedelta(days=when.weekday()))
        else:
            rd = data.daily(conn, store_id, when)
        row = conn.execute(alert_channels.select().where(alert_channels.c.store_id == store_id)).first()
    if not send:
        rendered = render_report(rd)
        click.echo(rendered.html if as_html else rendered.text)
        return
    smtp = settings_for(database_url).smtp
    if smtp is None:
        raise ConfigError("HYMY_SMTP_HOST: not set; e-mail needs a mail server (see docs/alerts.md)")
    recipients = list(to) or split_addresses(row.email_to if row else None)
    if not recipients:
        raise click.UsageError("no recipients: give --to or set the store's alert e-mail list")
    try:
        send_message(smtp, report_mail(smtp, recipients, rd))
    except DeliveryError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"sent {rd.period} report of {store_id} for {rd.start} to {', '.join(recipients)}")
