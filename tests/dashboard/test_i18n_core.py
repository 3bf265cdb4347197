from datetime import date

from server.csrf import check_prelogin_token, check_session_token, token_for_session
from server.dashboard.throttle import LoginThrottle
from server.i18n import format_day, negotiate, weekday_names


def test_negotiate_prefers_cookie_then_accept_language_then_finnish():
    assert negotiate("sv", "en-GB,en;q=0.9") == "sv"
    assert negotiate(None, "de-DE,sv;q=0.8,en;q=0.9") == "en"
    assert negotiate("xx", "de") == "fi"


def test_weekday_names_monday_first():
    assert weekday_names("fi")[0] == "ma" and weekday_names("sv")[6] == "sön"
    assert format_day(date(2026, 11, 23), "en") == "Mon 23 Nov"


def test_throttle_locks_user_after_failures_and_releases_after_window():
    now = [0.0]
    t = LoginThrottle(max_per_user=3, max_per_address=100, window_s=60, clock=lambda: now[0])
    for _ in range(3):
        assert t.retry_after("Anna", "1.2.3.4") == 0
        t.failed("anna", "1.2.3.4")
        now[0] += 1
    assert 55 <= t.retry_after("ANNA", "5.6.7.8") <= 58
    assert t.retry_after("bert", "1.2.3.4") == 0
    now[0] += 60
    assert t.retry_after("anna", "1.2.3.4") == 0


def test_throttle_locks_address_and_success_clears_user():
    t = LoginThrottle(max_per_user=2, max_per_address=3, window_s=60, clock=lambda: 0.0)
    t.failed("a", "ip")
    t.succeeded("a")
    assert t.retry_after("a", "ip") == 0
    t.failed("b", "ip")
    t.failed("c", "ip")
    assert t.retry_after("zzz", "ip") == 60


def test_csrf_tokens():
    tok = token_for_session("s" * 43)
    assert check_session_token("s" * 43, tok)
    assert not check_session_token("t" * 43, tok)
    assert not check_session_token(None, tok) and not check_session_token("s" * 43, "")
    assert check_prelogin_token("x" * 40, "x" * 40) and not check_prelogin_token("short", "short")
