"""E-mail channel: one function that sends a message with the server's SMTP settings
(``server.settings.SmtpSettings``, from ``HYMY_SMTP_*``).

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
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from hymy.errors import DeliveryError
from server.settings import SmtpSettings

log = logging.getLogger(__name__)

#: Headers up to 200 characters stay on one line (RFC 5322 allows 998): the standard library's
#: folder otherwise sometimes folds a whole subject onto a continuation line, which some clients
#: then show with a leading space.
HEADER_POLICY = email.policy.default.clone(max_line_length=200)


def tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    """The TLS context for ``settings``: the system's CAs or ``ca_file``; no checks with ``verify=False``."""
    ctx = ssl.create_default_context(cafile=settings.ca_file)
    if not settings.verify:
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
                                                  timeout=settings.timeout_s, context=tls_context(settings))
        else:
            conn = smtplib.SMTP(settings.host, settings.effective_port, timeout=settings.timeout_s)
        with conn:
            conn.ehlo()
            if not settings.ssl and settings.starttls != "off":
                if conn.has_extn("starttls"):
                    conn.starttls(context=tls_context(settings))
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
