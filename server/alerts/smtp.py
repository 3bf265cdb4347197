"""E-mail channel: the server's SMTP settings and one function that sends a message.

Uses the standard library's ``smtplib`` and ``email``: every mail server speaks it and nothing more
is needed. Transport security, ``starttls``:

- ``auto`` (default): upgrade with STARTTLS when the server offers it, else send in the clear
  (a shop's own relay on the LAN often offers nothing);
- ``required``: refuse to send unless STARTTLS succeeds (the right choice over the internet);
- ``off``: never upgrade.

``ssl=True`` instead connects with implicit TLS (SMTPS, usually port 465). The certificate is
checked against the system's CAs, or ``ca_file``; ``verify=False`` turns checking off (test relays).
"""

from __future__ import annotations

import email.policy
import logging
import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from hymy.errors import ConfigError, DeliveryError

log = logging.getLogger(__name__)

STARTTLS_MODES = ("auto", "required", "off")
#: Headers up to 200 characters stay on one line (RFC 5322 allows 998): the standard library's
#: folder otherwise sometimes folds a whole subject onto a continuation line, which some clients
#: then show with a leading space.
HEADER_POLICY = email.policy.default.clone(max_line_length=200)


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how the server sends mail. ``port`` defaults to 587 (submission), 465 with ssl.

    ``timeout_s``: per network operation, in seconds (default 10).
    """

    host: str
    sender: str
    port: int | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: str = "auto"
    ssl: bool = False
    verify: bool = True
    ca_file: str | None = None
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        problems = []
        if not self.host:
            problems.append("smtp.host: empty; give the mail server's name or address")
        if not self.sender or "@" not in self.sender:
            problems.append(f"smtp.sender: {self.sender!r} is not an address like hymy@shop.example")
        if self.starttls not in STARTTLS_MODES:
            problems.append(f"smtp.starttls: {self.starttls!r} is not valid; use auto, required or off")
        if self.port is not None and not 0 < self.port < 65536:
            problems.append(f"smtp.port: {self.port!r} is not a TCP port (1-65535)")
        if problems:
            raise ConfigError(problems)

    @property
    def effective_port(self) -> int:
        return self.port or (465 if self.ssl else 587)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings | None:
        """Settings from ``HYMY_SMTP_HOST``, ``_PORT``, ``_USER``, ``_PASSWORD``, ``_FROM``,
        ``_STARTTLS`` (auto|required|off), ``_SSL`` (1/0), ``_VERIFY`` (1/0), ``_CA_FILE``;
        None when ``HYMY_SMTP_HOST`` is unset (e-mail disabled)."""
        env = os.environ if environ is None else environ
        host = env.get("HYMY_SMTP_HOST", "").strip()
        if not host:
            return None

        def flag(name: str, default: bool) -> bool:
            raw = env.get(name)
            return default if raw is None or raw == "" else raw.strip().lower() in ("1", "true", "yes", "on")

        port = env.get("HYMY_SMTP_PORT", "").strip()
        try:
            port_n = int(port) if port else None
        except ValueError:
            raise ConfigError(f"HYMY_SMTP_PORT: {port!r} is not a number") from None
        return cls(
            host=host, port=port_n, sender=env.get("HYMY_SMTP_FROM", f"hymy@{host}"),
            username=env.get("HYMY_SMTP_USER") or None, password=env.get("HYMY_SMTP_PASSWORD") or None,
            starttls=env.get("HYMY_SMTP_STARTTLS", "auto").strip().lower() or "auto",
            ssl=flag("HYMY_SMTP_SSL", False), verify=flag("HYMY_SMTP_VERIFY", True),
            ca_file=env.get("HYMY_SMTP_CA_FILE") or None,
        )

    def tls_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.ca_file)
        if not self.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx


def new_message(settings: SmtpSettings, to: list[str], subject: str) -> EmailMessage:
    """An empty message with From, To, Subject, Date and Message-ID set."""
    msg = EmailMessage(policy=HEADER_POLICY)
    msg["From"] = settings.sender
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=settings.sender.rsplit("@", 1)[-1])
    return msg


def send_message(settings: SmtpSettings, msg: EmailMessage) -> None:
    """Send ``msg`` to its To recipients; DeliveryError naming the host on any failure."""
    where = f"{settings.host}:{settings.effective_port}"
    try:
        if settings.ssl:
            conn: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.effective_port,
                                                  timeout=settings.timeout_s, context=settings.tls_context())
        else:
            conn = smtplib.SMTP(settings.host, settings.effective_port, timeout=settings.timeout_s)
        with conn:
            conn.ehlo()
            if not settings.ssl and settings.starttls != "off":
                if conn.has_extn("starttls"):
                    conn.starttls(context=settings.tls_context())
                    conn.ehlo()
                elif settings.starttls == "required":
                    raise DeliveryError(f"smtp {where}: the server does not offer STARTTLS "
                                        "(smtp.starttls=required); use auto or a server that offers it")
            if settings.username:
                conn.login(settings.username, settings.password or "")
            refused = conn.send_message(msg)
    except DeliveryError:
        raise
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"smtp {where}: {type(exc).__name__}: {exc}") from exc
    if refused:
        log.warning("smtp %s refused some recipients: %s", where, refused)
    log.info("mail %r sent via %s", msg["Subject"], where)
