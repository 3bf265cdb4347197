"""What an alert says, once, for every channel: a webhook's JSON, an e-mail, the dashboard list.

``AlertNotice`` is plain data (no database, no network). ``webhook_payload`` and ``text`` render it;
the same words reach Slack, Teams, e-mail and the dashboard.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from hymy.rules import RULE_KINDS
from hymy.timestamps import format_ts, parse_ts
from server.alerts import language

#: Event names carried in payloads and in the ``X-Hymy-Event`` header.
EVENTS = ("alert.fired", "alert.cleared", "alert.acknowledged", "alert.test")


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
        """What the rule's kind is called (``hymy.rules.RuleKind.title``); the kind itself when unknown."""
        kind = RULE_KINDS.get(self.kind)
        return kind.title if kind else self.kind

    def title_in(self, lang: str = "en") -> str:
        """``title`` in ``lang`` (fi, sv, en)."""
        return language.gettext(lang)(self.title) if self.kind in RULE_KINDS else self.title

    def headline(self, lang: str = "en") -> str:
        """What happened where, without the figures: ``Cleared: Happy Index low at Kauppa Keskusta``."""
        _ = language.gettext(lang)
        title, store = self.title_in(lang), self.store_name
        if self.event == "alert.cleared":
            return _("Cleared: %(title)s at %(store)s", title=title, store=store)
        if self.event == "alert.acknowledged":
            if self.acknowledged_by:
                return _("Acknowledged by %(who)s: %(title)s at %(store)s", who=self.acknowledged_by,
                         title=title, store=store)
            return _("Acknowledged: %(title)s at %(store)s", title=title, store=store)
        if self.event == "alert.test":
            return _("Test alert from Hymy for %(store)s", store=store)
        return _("%(title)s at %(store)s", title=title, store=store)

    def text(self, lang: str = "en") -> str:
        """The one-line message in ``lang`` (the payload's ``text``, the mail's first line)."""
        _ = language.gettext(lang)
        line = f"{self.headline(lang)}: {language.summary(self.summary, lang)}"
        if self.comment:
            line += " (" + _("comment: %(comment)s", comment=self.comment) + ")"
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


def webhook_payload(notice: AlertNotice, sent_at: datetime, lang: str = "en") -> dict:
    """The JSON body POSTed to a store's webhook; ``text`` and ``summary`` in ``lang`` (named in ``lang``).

    The top-level ``text`` makes it a valid Slack incoming-webhook message and a valid Teams
    connector message (which also reads ``summary``); other receivers read ``event`` and ``alert``,
    whose fields stay the same in every language (``alert.summary`` is the stored English sentence).
    """
    alert = notice.as_dict()
    alert.pop("event")
    return {
        "text": notice.text(lang),
        "summary": "Hymy: " + language.gettext(lang)("%(title)s at %(store)s", title=notice.title_in(lang),
                                                     store=notice.store_name),
        "event": notice.event,
        "sent_at": format_ts(sent_at),
        "lang": lang,
        "alert": alert,
    }


def alert_mail(settings, to: list[str], notice: AlertNotice, lang: str = "en", timezone: str | None = None):
    """The alert as an e-mail (``email.message.EmailMessage``) in ``lang``: plain text plus a small
    HTML part. Times are UTC (RFC 3339) in English, local to ``timezone`` (the store's) otherwise.

    ``settings`` is a ``server.alerts.smtp.SmtpSettings`` (for the From address).
    """
    from html import escape

    from server.alerts.smtp import new_message

    _ = language.gettext(lang)
    title, store = notice.title_in(lang), notice.store_name
    if notice.event == "alert.cleared":
        subject = _("Cleared: %(title)s at %(store)s", title=title, store=store)
    elif notice.event == "alert.acknowledged":
        subject = _("Acknowledged: %(title)s at %(store)s", title=title, store=store)
    else:
        subject = _("%(title)s at %(store)s", title=title, store=store)
    msg = new_message(settings, to, f"[Hymy] {subject}")

    def when(at: datetime) -> str:
        return language.moment(at, lang, timezone)

    lines = [
        notice.text(lang),
        "",
        _("Store: %(name)s (%(id)s)", name=store, id=notice.store_id),
        _("Rule: %(rule)s (%(kind)s, window %(w)s min, threshold %(t)s)", rule=notice.rule_id, kind=notice.kind,
          w=language.number(notice.window_min, lang), t=language.number(notice.threshold, lang)),
        _("Fired at: %(at)s", at=when(notice.fired_at)),
    ]
    if notice.cleared_at:
        lines.append(_("Cleared at: %(at)s", at=when(notice.cleared_at)))
    if notice.acknowledged_at:
        lines.append(_("Acknowledged at: %(at)s by %(who)s", at=when(notice.acknowledged_at),
                       who=notice.acknowledged_by or "-"))
    if notice.url:
        lines += ["", _("Open in Hymy: %(url)s", url=notice.url)]
    msg.set_content("\n".join(lines) + "\n")
    rows = "".join(f"<tr><td style=\"padding:2px 8px;color:#555\">{escape(k)}</td><td>{escape(v)}</td></tr>"
                   for k, v in (line.split(": ", 1) for line in lines[2:] if ": " in line))
    link = f'<p><a href="{escape(notice.url)}">{escape(_("Open in Hymy"))}</a></p>' if notice.url else ""
    msg.add_alternative(
        f"<!doctype html><html lang=\"{escape(lang)}\"><body style=\"font-family:sans-serif\">"
        f"<h2>{escape(title)}</h2><p>{escape(language.summary(notice.summary, lang))}</p><table>{rows}</table>"
        f"{link}</body></html>",
        subtype="html",
    )
    return msg
