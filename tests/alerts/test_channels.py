"""Alert channels against real loopback servers: signed webhooks with retries, SMTP with STARTTLS."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from hymy.errors import ConfigError, DeliveryError
from server.alerts.notice import AlertNotice, alert_mail, webhook_payload
from server.alerts.smtp import SmtpSettings, send_message
from server.alerts.webhook import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    send_webhook,
    sign,
    verify,
)
from tests.alerts.servers import WebhookReceiver, make_cert, smtp_server

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
NOTICE = AlertNotice(
    event="alert.fired", alert_id=7, store_id="s1", store_name="Kauppa Keskusta", rule_id="neg",
    kind="negative_share", summary="3 of 4 presses (75%) unhappy in the last 15 min (limit 50%)",
    fired_at=T0, n=4, value=75.0, threshold=50.0, window_min=15, url="http://hymy.local/alerts#alert-7",
)
NO_SLEEP = []


def no_sleep(seconds: float) -> None:
    NO_SLEEP.append(seconds)


def test_webhook_payload_is_valid_for_slack_and_teams_and_carries_the_alert():
    p = webhook_payload(NOTICE, T0)
    assert p["text"].startswith("Many unhappy customers at Kauppa Keskusta: 3 of 4 presses (75%)")
    assert p["summary"] and p["event"] == "alert.fired"
    assert p["alert"]["fired_at"] == "2026-11-23T10:00:00.000Z" and p["alert"]["value"] == 75.0
    assert "event" not in p["alert"]
    json.dumps(p)  # JSON-ready


def test_webhook_is_signed_and_verifiable_by_the_receiver():
    with WebhookReceiver() as rx:
        d = send_webhook(rx.url, webhook_payload(NOTICE, T0), "s3cret", event="alert.fired")
        (req,) = rx.wait_for(1)
    assert d.status == 200 and d.attempts == 1
    assert req.headers["Content-Type"].startswith("application/json")
    assert req.headers[EVENT_HEADER] == "alert.fired" and req.headers[DELIVERY_HEADER] == d.delivery_id
    assert verify("s3cret", req.headers[TIMESTAMP_HEADER], req.headers[SIGNATURE_HEADER], req.body)
    assert not verify("wrong", req.headers[TIMESTAMP_HEADER], req.headers[SIGNATURE_HEADER], req.body)
    assert not verify("s3cret", req.headers[TIMESTAMP_HEADER], req.headers[SIGNATURE_HEADER], req.body + b" ")
    assert json.loads(req.body)["alert"]["alert_id"] == 7


def test_webhook_verify_refuses_old_timestamps_and_garbage():
    body = b'{"text":"x"}'
    sig = sign("k", 1_000_000, body)
    assert verify("k", "1000000", sig, body, now=1_000_100)
    assert not verify("k", "1000000", sig, body, now=1_000_000 + 301)  # replayed later
    assert not verify("k", "abc", sig, body) and not verify("k", None, sig, body)
    # the documented recipe, computed independently
    import hashlib
    import hmac
    assert sig == "sha256=" + hmac.new(b"k", b"1000000." + body, hashlib.sha256).hexdigest()


def test_webhook_retries_server_errors_with_backoff_and_keeps_one_delivery_id():
    NO_SLEEP.clear()
    with WebhookReceiver(statuses=[503, 500, 429]) as rx:
        d = send_webhook(rx.url, {"text": "hi"}, "k", wait_s=0.5, sleep=no_sleep)
        reqs = rx.wait_for(4)
    assert d.attempts == 4 and len(reqs) == 4
    assert len({r.headers[DELIVERY_HEADER] for r in reqs}) == 1
    assert NO_SLEEP == [0.5, 1.0, 2.0]  # exponential backoff
    for r in reqs:  # every attempt is signed afresh
        assert verify("k", r.headers[TIMESTAMP_HEADER], r.headers[SIGNATURE_HEADER], r.body)


def test_webhook_gives_up_after_its_attempts_and_names_the_url():
    with WebhookReceiver(statuses=[502] * 10) as rx:
        with pytest.raises(DeliveryError, match=r"webhook http://127.0.0.1:\d+/hook: failed after 3 attempts"):
            send_webhook(rx.url, {"text": "hi"}, "k", attempts=3, sleep=no_sleep)
        assert len(rx.requests) == 3


def test_webhook_does_not_retry_a_client_error():
    with WebhookReceiver(statuses=[404]) as rx:
        with pytest.raises(DeliveryError, match="refused with HTTP 404"):
            send_webhook(rx.url, {"text": "hi"}, "k", sleep=no_sleep)
        assert len(rx.requests) == 1


def test_webhook_retries_when_nobody_listens():
    from tests.alerts.servers import free_port

    url = f"http://127.0.0.1:{free_port()}/hook"
    with pytest.raises(DeliveryError, match="failed after 2 attempts"):
        send_webhook(url, {"text": "hi"}, None, attempts=2, sleep=no_sleep, timeout_s=1)


def test_webhook_without_secret_sends_no_signature():
    with WebhookReceiver() as rx:
        send_webhook(rx.url, {"text": "hi"}, None)
        (req,) = rx.wait_for(1)
    assert SIGNATURE_HEADER not in req.headers and TIMESTAMP_HEADER not in req.headers


# ------------------------------------------------------------------------------------ e-mail


def test_smtp_sends_alert_mail_in_plain_and_html_without_tls():
    with smtp_server() as (port, sink):
        settings = SmtpSettings(host="127.0.0.1", port=port, sender="hymy@shop.example")
        send_message(settings, alert_mail(settings, ["boss@shop.example"], NOTICE))
        (msg,) = sink.wait_for(1)
    assert msg["Subject"] == "[Hymy] Many unhappy customers at Kauppa Keskusta"
    assert sink.envelopes[0][:2] == ("hymy@shop.example", ["boss@shop.example"])
    assert "3 of 4 presses (75%) unhappy" in msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "http://hymy.local/alerts#alert-7" in html and "<img" not in html


def test_smtp_upgrades_with_starttls_and_logs_in(tmp_path):
    cert = make_cert(tmp_path)
    with smtp_server(cert=cert, require_starttls=True, users={"hymy": "pw"}) as (port, sink):
        settings = SmtpSettings(host="127.0.0.1", port=port, sender="hymy@shop.example", username="hymy",
                                password="pw", starttls="required", ca_file=str(cert[0]))
        send_message(settings, alert_mail(settings, ["a@shop.example", "b@shop.example"], NOTICE))
        sink.wait_for(1)
    assert sink.envelopes[0] == ("hymy@shop.example", ["a@shop.example", "b@shop.example"], True)


def test_smtp_checks_the_certificate(tmp_path):
    cert = make_cert(tmp_path)
    with smtp_server(cert=cert) as (port, sink):
        settings = SmtpSettings(host="127.0.0.1", port=port, sender="hymy@shop.example")  # system CAs only
        with pytest.raises(DeliveryError, match="SSLCertVerificationError|certificate verify failed"):
            send_message(settings, alert_mail(settings, ["a@shop.example"], NOTICE))
        off = SmtpSettings(host="127.0.0.1", port=port, sender="hymy@shop.example", verify=False)
        send_message(off, alert_mail(off, ["a@shop.example"], NOTICE))
        sink.wait_for(1)
    assert sink.envelopes[0][2] is True


def test_smtp_required_starttls_refuses_a_plain_server():
    with smtp_server() as (port, sink):
        settings = SmtpSettings(host="127.0.0.1", port=port, sender="hymy@shop.example", starttls="required")
        with pytest.raises(DeliveryError, match="does not offer STARTTLS"):
            send_message(settings, alert_mail(settings, ["a@shop.example"], NOTICE))
    assert sink.messages == []


def test_smtp_wrong_password_and_dead_server_are_delivery_errors(tmp_path):
    cert = make_cert(tmp_path)
    with smtp_server(cert=cert, users={"hymy": "pw"}) as (port, _):
        bad = SmtpSettings(host="127.0.0.1", port=port, sender="h@x.example", username="hymy", password="no",
                           ca_file=str(cert[0]))
        with pytest.raises(DeliveryError, match="SMTPAuthenticationError"):
            send_message(bad, alert_mail(bad, ["a@x.example"], NOTICE))
    from tests.alerts.servers import free_port

    dead = SmtpSettings(host="127.0.0.1", port=free_port(), sender="h@x.example", timeout_s=2)
    with pytest.raises(DeliveryError, match=r"smtp 127.0.0.1:\d+"):
        send_message(dead, alert_mail(dead, ["a@x.example"], NOTICE))


def test_smtp_settings_validate_and_read_the_environment():
    with pytest.raises(ConfigError) as err:
        SmtpSettings(host="", sender="nobody", starttls="maybe", port=70000)
    assert len(err.value.problems) == 4
    assert SmtpSettings.from_env({}) is None
    s = SmtpSettings.from_env({"HYMY_SMTP_HOST": "mail.shop", "HYMY_SMTP_PORT": "2525", "HYMY_SMTP_FROM": "h@shop",
                               "HYMY_SMTP_STARTTLS": "required", "HYMY_SMTP_VERIFY": "0"})
    assert (s.host, s.effective_port, s.sender, s.starttls, s.verify) == ("mail.shop", 2525, "h@shop", "required", False)
    assert SmtpSettings(host="h", sender="a@b", ssl=True).effective_port == 465
