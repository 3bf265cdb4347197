"""One exception hierarchy for the whole project (modelled on gpiozero's ``exc.py``).

Every class also subclasses the builtin that matches it, so callers that know nothing of Hymy can
still catch ``ValueError`` or ``OSError``. Messages name the file, key or field and what is valid.
"""

from __future__ import annotations


class HymyError(Exception):
    """Base class of every error Hymy raises on purpose."""


class ConfigError(HymyError, ValueError):
    """A configuration file or value is invalid.

    ``problems`` lists one human sentence per bad key, e.g.
    ``pins.buttons[2]: 4 is used twice``; ``path`` is the file, when there is one.
    """

    def __init__(self, problems: list[str] | str, path: str | None = None):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.path = path
        where = f"{path}: " if path else ""
        if len(self.problems) == 1:
            text = f"{where}{self.problems[0]}"
        else:
            text = f"{where}{len(self.problems)} problems:\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(text)


class MissingPackage(HymyError, ImportError):
    """A part of Hymy that was asked for cannot load: a package its extra provides is not installed.

    The message names the part, the package and the extra to install, e.g. ``the dashboard cannot
    start: the package 'babel' is not installed; install the server extra: pip install 'hymy[server]'``.
    ``package`` is the missing distribution (or module), ``extra`` the extra that provides it (``""``: the
    core; ``None``: unknown).
    """

    def __init__(self, message: str, package: str, extra: str | None):
        super().__init__(message, name=package)
        self.package = package
        self.extra = extra


class CaptureError(HymyError, ValueError):
    """A press cannot be recorded as asked (bad mood for the scale, unknown source...)."""


class StoreError(HymyError, OSError):
    """The device's local store cannot do what was asked."""


class StoreUnavailable(StoreError):
    """The store cannot write now (disk full, read-only file system); retry later.

    Nothing already committed is lost; the caller keeps the event and retries.
    """


class StoreCorrupt(StoreError):
    """The store file failed ``PRAGMA quick_check``; it is moved aside and a fresh one made."""


class HardwareError(HymyError, RuntimeError):
    """GPIO hardware is missing, busy or misconfigured."""


class SyncError(HymyError, ConnectionError):
    """Delivery to the central server failed; the agent backs off and retries."""


class ServerUnreachable(SyncError):
    """The request never reached the server: connection refused, host name not resolved, connect timeout.

    It cost the server nothing, so the agent retries it on a short cap (``sync.backoff``)."""


class NotEnrolled(SyncError):
    """The server refused the device token (401/403): not enrolled, or revoked."""


class DeliveryError(HymyError, ConnectionError):
    """An alert or report could not be delivered (webhook, e-mail) after its retries.

    The message names the channel and target (URL or SMTP host) and the last error.
    """


class NotFound(HymyError, LookupError):
    """A server object (store, region, device, user) does not exist; the message names its kind and id."""


class EnrolmentError(HymyError, ValueError):
    """An enrolment cannot go ahead; each case is a subclass carrying the HTTP status the device API
    answers with (``http_status``), so the API maps by type, never by the message's text."""

    http_status = 400


class UnknownCode(EnrolmentError):
    """No enrolment code like this exists (mistyped, or never made)."""

    http_status = 404


class CodeUsed(EnrolmentError):
    """The enrolment code was used already (each is single use)."""

    http_status = 409


class CodeExpired(EnrolmentError):
    """The enrolment code is past its validity (7 days by default)."""

    http_status = 410


class DeviceRevoked(EnrolmentError):
    """The device was revoked, which is for good: it can never enrol again (add a new device)."""

    http_status = 410


class JsonError(HymyError, ValueError):
    """A JSON text from outside (a request body, a config file) cannot be read: not UTF-8, not JSON, or
    nested deeper than the limit (``too_deep`` is then True). The message names the body or file."""

    def __init__(self, message: str, too_deep: bool = False):
        super().__init__(message)
        self.too_deep = too_deep
