"""Login throttling: after too many failed sign-ins for one user name or one address, wait.

Defaults: 5 failures within 15 minutes lock that user name (and, separately, 20 failures from one
address lock the address) until the oldest failure leaves the window. The failures are rows in the
database (``server.attempts``), so the limits hold exactly across every worker and instance of the
server: each sign-in is recorded as a failure *before* its password is checked, and a successful one
takes its record back and clears the user name's failures.
"""

from __future__ import annotations

from server.attempts import Attempt, AttemptLog, Limit


class LoginThrottle:
    """Failed sign-ins per user name and per address in a sliding window (``window_s`` seconds)."""

    def __init__(self, log: AttemptLog, max_per_user: int = 5, max_per_address: int = 20, window_s: float = 900.0):
        self.log = log
        self.max_per_user = max_per_user
        self.max_per_address = max_per_address
        self.window_s = window_s

    @staticmethod
    def _user(username: str) -> str:
        return f"login-user:{username.lower()}"

    def begin(self, username: str, address: str) -> Attempt:
        """A sign-in starts: refused (``wait_s`` > 0) while the user name or the address is locked, else
        recorded as a failure until :meth:`succeeded` says otherwise."""
        return self.log.begin([Limit(self._user(username), self.max_per_user, self.window_s),
                               Limit(f"login-address:{address}", self.max_per_address, self.window_s)])

    @staticmethod
    def retry_after(attempt: Attempt) -> int:
        """Whole seconds until another sign-in may be tried (0: now)."""
        return int(attempt.wait_s + 0.999) if not attempt.allowed else 0

    def succeeded(self, username: str, attempt: Attempt) -> None:
        """The sign-in of ``attempt`` was right: it was no failure, and the user name's failures are cleared
        (the address keeps the failures it had)."""
        self.log.drop(attempt.ids)
        self.log.forget(self._user(username))
