"""What an alert says, once, for every channel: a webhook's JSON, an e-mail, the dashboard list.

``AlertNotice`` is plain data (no database, no network). ``webhook_payload`` and ``text`` render it;
the same words reach Slack, Teams, e-mail and the dashboard.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from hymy.timestamps import format_ts, parse_ts

#: Event names carried in payloads and in the ``X-Hymy-Event`` header.
EVENTS = ("alert.fired", "alert.cleared", "alert.acknowledged", "alert.test")

KIND_TITLES = {
    "negative_share": "Many unhappy customers",
    "index_below": "Happy Index low",
    "index_above": "Happy Index high",
    "face_count": "Face count reached",
}


@dataclass(frozen=True, slots=True)
class AlertNotice:
    """One alert event about one episode of one rule in one store.

    ``value`` is the measured figure (negative share %, Happy Index 0-100, or a count) when the
    episode fired; ``summary`` the human sentence from ``hymy.rules.Evaluation.describe``;
    ``url`` a link to the alert in the dashboard, when the server knows its public address.
    """

    event: str
    alert_id: int
    store_id: str
    store_name: str
    rule_id: str
    kind: str
    summary: str
    fired_at: datetime
    n: int
    value: float | None
    threshold: float
    window_min: int
    status: str = "open"
    cleared_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    comment: str | None = None
    url: str | None = None

    @property
    def title(self) -> str:
        return KIND_TITLES.get(self.kind, self.kind)

    def text(self) -> str:
        """The one-line message (the payload's ``text``, the mail's subject line's core)."""
        if self.event == "alert.cleared":
            head = f"Cleared: {self.title} at {self.store_name}"
        elif self.event == "alert.acknowledged":
            who = f" by {self.acknowledged_by}" if self.acknowledged_by else ""
            head = f"Acknowledged{who}: {self.title} at {self.store_name}"
        elif self.event == "alert.test":
            head = f"Test alert from Hymy for {self.store_name}"
        else:
            head = f"{self.title} at {self.store_name}"
        line = f"{head}: {self.summary}"
        if self.comment:
            line += f" (comment: {self.comment})"
        if self.url:
            line += f" {self.url}"
        return line

    @classmethod
    def from_dict(cls, d: dict) -> AlertNotice:
        """The inverse of ``as_dict`` (the outbox stores notices as JSON)."""
        d = dict(d)
        for key in ("fired_at", "cleared_at", "acknowledged_at"):
            d[key] = parse_ts(d[key]) if d.get(key) else None
        return cls(**d)

    def as_dict(self) -> dict:
        """JSON-ready fields (timestamps as RFC 3339 UTC)."""
        d = asdict(self)
        for key in ("fired_at", "cleared_at", "acknowledged_at"):
            d[key] = format_ts(d[key]) if d[key] is not None else None
        return d


def webhook_payload(notice: AlertNotice, sent_at: datetime) -> dict:
    """The JSON body POSTed to a store's webhook.

    The top-level ``text`` makes it a valid Slack incoming-webhook message and a valid Teams
    connector message (which also reads ``summary``); other receivers read ``event`` and ``alert``.
    """
    alert = notice.as_dict()
    alert.pop("event")
    return {
        "text": notice.text(),
        "summary": f"Hymy: {notice.title} at {notice.store_name}",
        "event": notice.event,
        "sent_at": format_ts(sent_at),
        "alert": alert,
    }


def alert_mail(settings, to: list[str], notice: AlertNotice):
    """The alert as an e-mail (``email.message.EmailMessage``): plain text plus a small HTML part.

    ``settings`` is a ``server.alerts.smtp.SmtpSettings`` (for the From address).
    """
    from html import escape

    from server.alerts.smtp import new_message

    prefix = {"alert.cleared": "[Hymy] Cleared: ", "alert.acknowledged": "[Hymy] Acknowledged: "}
    msg = new_message(settings, to, f"{prefix.get(notice.event, '[Hymy] ')}{notice.title} at {notice.store_name}")
    lines = [
        notice.text(),
        "",
        f"Store: {notice.store_name} ({notice.store_id})",
        f"Rule: {notice.rule_id} ({notice.kind}, window {notice.window_min} min, threshold {notice.threshold:g})",
        f"Fired at: {format_ts(notice.fired_at)}",
    ]
    if notice.cleared_at:
        lines.append(f"Cleared at: {format_ts(notice.cleared_at)}")
    if notice.acknowledged_at:
        lines.append(f"Acknowledged at: {format_ts(notice.acknowledged_at)} by {notice.acknowledged_by or '-'}")
    if notice.url:
        lines += ["", f"Open in Hymy: {notice.url}"]
    msg.set_content("\n".join(lines) + "\n")
    rows = "".join(f"<tr><td style=\"padding:2px 8px;color:#555\">{escape(k)}</td><td>{escape(v)}</td></tr>"
                   for k, v in (line.split(": ", 1) for line in lines[2:] if ": " in line))
    link = f'<p><a href="{escape(notice.url)}">Open in Hymy</a></p>' if notice.url else ""
    msg.add_alternative(
        f"<!doctype html><html><body style=\"font-family:sans-serif\"><h2>{escape(notice.title)}</h2>"
        f"<p>{escape(notice.summary)}</p><table>{rows}</table>{link}</body></html>",
        subtype="html",
    )
    return msg
