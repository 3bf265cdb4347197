"""server.settings: everything the server reads from its environment, typed, in one object (issue 17)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hymy.errors import ConfigError
from server.settings import ENV, Settings, SmtpSettings

ROOT = Path(__file__).resolve().parents[2]
EVERY = {"HYMY_DATABASE_URL": "postgresql+psycopg://h:p@db/hymy", "HYMY_DEVICE_RATE": "60", "HYMY_IP_RATE": "0",
         "HYMY_ENROLL_RATE": "5", "HYMY_RETENTION_DAYS": "400", "HYMY_PRUNE_INTERVAL_S": "3600",
         "HYMY_ENROLMENT_VALID_DAYS": "3", "HYMY_SESSION_IDLE_S": "600", "HYMY_INSECURE_COOKIES": "1",
         "HYMY_FORCE_HTTPS": "yes", "HYMY_PUBLIC_URL": "https://hymy.shop.example/", "HYMY_ALERT_SWEEP_S": "2.5",
         "HYMY_REPORT_INTERVAL_S": "30", "HYMY_SMTP_HOST": "mail.shop.example", "HYMY_SMTP_PORT": "2525",
         "HYMY_SMTP_USER": "hymy", "HYMY_SMTP_PASSWORD": "secret", "HYMY_SMTP_FROM": "hymy@shop.example",
         "HYMY_SMTP_STARTTLS": "required", "HYMY_SMTP_SSL": "0", "HYMY_SMTP_VERIFY": "1",
         "HYMY_SMTP_CA_FILE": "/etc/ssl/shop.pem", "HYMY_WORKERS": "4", "HYMY_DB_POOL": "10",
         "HYMY_KEEPALIVE_S": "90", "HYMY_MIGRATE": "0"}


def test_every_variable_reaches_its_typed_field():
    s = Settings.from_env(EVERY)
    assert (s.database_url, s.device_rate_per_min, s.ip_rate_per_min, s.enroll_rate_per_min) == (
        "postgresql+psycopg://h:p@db/hymy", 60, 0, 5)
    assert (s.retention_days, s.prune_interval_s, s.enrolment_valid_days, s.session_idle_s) == (400, 3600.0, 3, 600)
    assert (s.secure_cookies, s.force_https, s.public_url) == (False, True, "https://hymy.shop.example")
    assert (s.alert_sweep_s, s.report_interval_s) == (2.5, 30.0)
    assert (s.workers, s.db_pool, s.pool_per_worker, s.keep_alive_s, s.migrate) == (4, 10, 3, 90.0, False)
    assert s.smtp == SmtpSettings(host="mail.shop.example", port=2525, username="hymy", password="secret",
                                  sender="hymy@shop.example", starttls="required", ssl=False, verify=True,
                                  ca_file="/etc/ssl/shop.pem")
    assert Settings.from_env({}) == Settings()  # nothing set: the documented defaults, no e-mail
    assert Settings.from_env({"HYMY_IP_RATE": ""}).ip_rate_per_min == 600  # empty counts as unset


@pytest.mark.parametrize("name, raw, valid", [
    ("HYMY_DEVICE_RATE", "ten", "a whole number >= 0"),
    ("HYMY_RETENTION_DAYS", "-1", "a whole number >= 0"),
    ("HYMY_SESSION_IDLE_S", "0", "a whole number >= 1"),
    ("HYMY_ALERT_SWEEP_S", "0", "a number of seconds > 0"),
    ("HYMY_REPORT_INTERVAL_S", "inf", "a number of seconds > 0"),
    ("HYMY_FORCE_HTTPS", "maybe", "1/0, true/false, yes/no or on/off"),
    ("HYMY_INSECURE_COOKIES", "2", "1/0, true/false, yes/no or on/off"),
    ("HYMY_PUBLIC_URL", "hymy.shop.example", "an http:// or https:// address without spaces"),
    ("HYMY_SMTP_PORT", "70000", "a TCP port 1-65535"),
    ("HYMY_WORKERS", "0", "a whole number >= 1"),
    ("HYMY_KEEPALIVE_S", "-5", "a number of seconds > 0"),
    ("HYMY_SMTP_SSL", "sometimes", "1/0, true/false, yes/no or on/off"),
])
def test_a_bad_value_names_the_variable_and_what_is_valid(name, raw, valid):
    env = {"HYMY_SMTP_HOST": "mail.shop.example", name: raw}
    with pytest.raises(ConfigError) as err:
        Settings.from_env(env)
    assert str(err.value) == f"{name}: {raw!r} is not valid; use {valid}"


def test_settings_built_in_code_are_checked_too():
    with pytest.raises(ConfigError) as err:
        Settings(alert_sweep_s=0, ip_rate_per_min=-5, public_url="ftp://x")
    assert err.value.problems == [
        "Settings.ip_rate_per_min: -5 is not valid; use a whole number >= 0 (0 = off)",
        "Settings.alert_sweep_s: 0 is not valid; use a number of seconds > 0",
        "Settings.public_url: 'ftp://x' is not valid; use an http:// or https:// address without spaces"]


def test_every_variable_is_documented_with_its_default():
    """docs/server.md has a row per variable: name, type, unit, default."""
    doc = (ROOT / "docs" / "server.md").read_text()
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `(HYMY_[A-Z_]+)`.*$", doc, re.M)}
    names = [v.env for v in ENV] + [n for n in EVERY if n.startswith("HYMY_SMTP_")]
    assert sorted(n for n in names if n not in rows) == []
    for name in names:
        assert rows[name].count("|") >= 5, f"{name}: give its type, unit and default"


def test_nothing_else_in_the_server_reads_the_environment():
    """``os.environ`` / ``getenv`` only in server/settings.py (server/testing.py only composes a child
    process's environment); no untyped ``extra`` settings and no ``getattr(settings, ..., default)``."""
    offenders = []
    for path in sorted((ROOT / "server").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text()
        if rel not in ("server/settings.py", "server/testing.py") and re.search(r"os\.environ|getenv", text):
            offenders.append(f"{rel}: reads the environment")
        if re.search(r"getattr\(\s*(self\.)?settings\b|\bsettings\.extra\b", text):
            offenders.append(f"{rel}: untyped settings")
    assert offenders == []


def test_workers_read_what_the_parent_decided(monkeypatch):
    """``hymy server --workers 3 --database-url X``: the parent migrates, then each spawned worker reads the
    environment it inherited: the same database, 3 workers (its pool is a third of HYMY_DB_POOL), and no
    migrations of its own."""
    from server.settings import export_for_workers

    for name in ("HYMY_DATABASE_URL", "HYMY_WORKERS", "HYMY_MIGRATE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HYMY_DB_POOL", "12")
    parent = Settings.from_env(database_url="sqlite:////srv/hymy.db", workers=3)
    assert parent.migrate is True
    export_for_workers(parent)
    worker = Settings.from_env()
    assert (worker.database_url, worker.workers, worker.pool_per_worker, worker.migrate) == (
        "sqlite:////srv/hymy.db", 3, 4, False)
    assert Settings(workers=7, db_pool=20).pool_per_worker == 3 and Settings(workers=40).pool_per_worker == 1
