from datetime import date

from server.csrf import check_prelogin_token, check_session_token, token_for_session
from server.i18n import format_day, negotiate, weekday_names


def test_negotiate_prefers_cookie_then_accept_language_then_finnish():
    assert negotiate("sv", "en-GB,en;q=0.9") == "sv"
    assert negotiate(None, "de-DE,sv;q=0.8,en;q=0.9") == "en"
    assert negotiate("xx", "de") == "fi"


def test_weekday_names_monday_first():
    assert weekday_names("fi")[0] == "ma" and weekday_names("sv")[6] == "sön"
    assert format_day(date(2026, 11, 23), "en") == "Mon 23 Nov"


def test_csrf_tokens():
    tok = token_for_session("s" * 43)
    assert check_session_token("s" * 43, tok)
    assert not check_session_token("t" * 43, tok)
    assert not check_session_token(None, tok) and not check_session_token("s" * 43, "")
    assert check_prelogin_token("x" * 40, "x" * 40) and not check_prelogin_token("short", "short")
