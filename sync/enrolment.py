"""Enrolment: a one-time code becomes a device id and a bearer token, kept in a file only we can read.

``EnrolmentSteps`` is the sync agent's part (``sync.agent.Agent``): enrol with the config's code, use
the stored token, and notice a refused token (revocation). The rest are the files it keeps.

The token file (``server.token_file``, default ``<data_dir>/device-token``) is written atomically with
mode 0600 (temporary file created 0600, fsync, rename), so a power cut leaves the old file or the new one,
never half a token, and no other user can read it at any moment. After enrolment the code is removed
from the device config where the file is writable: the line is dropped and everything else (comments,
order) stays as the technician wrote it; the code is single-use on the server anyway.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hymy.atomicfile import write_atomic
from hymy.errors import NotEnrolled, ServerUnreachable, SyncError
from kiosk.storeconfig import write_store_config
from sync.backoff import Failure

if TYPE_CHECKING:  # the agent's parts, named for the reader (provisioning imports this module too)
    from kiosk.config import DeviceConfig
    from kiosk.store.outbox import Outbox
    from sync.backoff import Backoff
    from sync.client import Client
    from sync.delivery import DeliveryPolicy

log = logging.getLogger(__name__)
#: The agent's log (its enrolment messages are the agent's).
agent_log = logging.getLogger("hymy.sync")

#: What ``meta.enrolment`` says after a 401/403 (``hymy status`` and the maintenance screen show it).
REVOKED = "revoked: device not enrolled or revoked"
#: ``meta`` key holding the SHA-256 of the enrolment code the device enrolled with (never the code).
CODE_HASH_KEY = "enrolment_code_sha256"

_CODE_LINE = re.compile(r"^\s*enrolment_code\s*=")
_SECTION = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]\s*(#.*)?$")


def read_token(path: Path) -> str | None:
    """The stored device token, or None when there is none (missing or empty file)."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return token or None


def write_token(path: Path, token: str) -> None:
    """Replace the token file atomically; the file is mode 0600 from its first byte."""
    write_atomic(path, token + "\n", mode=0o600, sync_dir=True)


def remove_enrolment_code(config_path: Path) -> bool:
    """Drop ``enrolment_code`` from the ``[server]`` table of the device TOML; True when the file changed.

    The rest of the file is kept byte for byte. Nothing is written unless the result still parses and
    differs from the original only by that key; a read-only file is left alone (logged).
    """
    try:
        text = config_path.read_text(encoding="utf-8")
        before = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        log.warning("%s: cannot read the device config to remove the used enrolment code: %s", config_path, exc)
        return False
    if "enrolment_code" not in before.get("server", {}):
        return False
    lines = text.splitlines(keepends=True)
    section = None
    kept: list[str] = []
    for line in lines:
        m = _SECTION.match(line)
        if m:
            section = m.group(1)
        if section == "server" and _CODE_LINE.match(line):
            continue
        kept.append(line)
    new_text = "".join(kept)
    try:
        after = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError:
        after = None
    expected = {**before, "server": {k: v for k, v in before["server"].items() if k != "enrolment_code"}}
    if after != expected:
        log.warning("%s: could not remove enrolment_code safely (unusual layout); remove it by hand", config_path)
        return False
    try:
        mode = config_path.stat().st_mode & 0o7777
        write_atomic(config_path, new_text, mode=mode)
    except OSError as exc:
        log.warning("%s: the used enrolment code stays in the file (%s); it cannot be used again",
                    config_path, exc.strerror or exc)
        return False
    log.info("%s: removed the used enrolment code", config_path)
    return True


class EnrolmentSteps:
    """The enrolment part of ``sync.agent.Agent`` (its only user), kept apart by concept.

    Works on the agent's config, client, outbox, backoffs and timers (declared below; ``Agent.__init__``
    sets them) and reports through its ``_error``.
    """

    config: DeviceConfig
    client: Client
    store: Outbox
    policy: DeliveryPolicy
    side_backoff: Backoff
    monotonic: Callable[[], float]
    auth_retry_s: float
    _next_send: float
    _next_beat: float
    _next_enrol: float
    #: The last value written to ``meta.enrolment`` (None: not known yet).
    _enrolment: str | None
    #: A new ``server.enrolment_code`` the server refused: the old token goes on being used.
    _refused_code: str | None
    _error: Callable[[str], None]

    def _load_token(self) -> bool:
        """Use the stored token; False when there is none, or when the config holds a new enrolment code.

        A code whose hash matches the one we enrolled with is a leftover (a crash between writing the
        token and editing the config): it is removed. Any other code is a technician's new one (a
        re-enrolment, e.g. after a revocation): the caller enrols with it; if the server refuses it,
        the old token is used again.
        """
        token = read_token(self.config.token_path)
        if token is None:
            return False
        code = self.config.server.enrolment_code
        if code and code != self._refused_code:
            if self.store.get_meta(CODE_HASH_KEY) == _code_hash(code):
                if self.config.source:
                    remove_enrolment_code(self.config.source)
            else:
                return False
        self.client.set_token(token)
        return True

    def enrol(self) -> bool:
        """Enrol with ``server.enrolment_code`` (one attempt); True when the device now has a token."""
        code = self.config.server.enrolment_code
        if not code:
            self._set_enrolment("not enrolled")
            self._error("not enrolled: no device token and no server.enrolment_code in the device config")
            self._next_enrol = self.monotonic() + self.auth_retry_s
            return False
        try:
            answer = self.client.enroll(code, self.config.device.name)
        except NotEnrolled as exc:
            self._error(str(exc))
            if read_token(self.config.token_path):  # a refused new code: keep the old token
                agent_log.warning("keeping the existing device token; server.enrolment_code was refused")
                self._refused_code = code
                return self._load_token()
            self._set_enrolment(f"not enrolled: {exc}")
            self._next_enrol = self.monotonic() + self.auth_retry_s
            return False
        except SyncError as exc:
            self._error(f"enrolment: {exc}")
            kind = Failure.unreachable if isinstance(exc, ServerUnreachable) else Failure.server
            self._next_enrol = self.monotonic() + self.side_backoff.failure(getattr(exc, "retry_after", None), kind)
            return False
        self.side_backoff.success()
        write_token(self.config.token_path, answer.token)
        self.client.set_token(answer.token)
        self.store.set_meta("device_id", answer.device_id)
        self.store.set_meta(CODE_HASH_KEY, _code_hash(code))
        self._set_enrolment("enrolled")
        self.policy.on_auth_ok()
        self._next_send = 0.0
        write_store_config(self.config.store_config_path, answer.config, None)
        agent_log.info("enrolled as device %s of store %s", answer.device_id, answer.config.store_name)
        if self.config.source:
            remove_enrolment_code(self.config.source)
        return True

    def _set_enrolment(self, value: str) -> None:
        if value != self._enrolment:
            self.store.set_meta("enrolment", value)
            self._enrolment = value

    def _unauthorized(self, error: str) -> None:
        """The server refused the device token (HTTP 401/403): say so in ``meta.enrolment``, stop
        delivery and heartbeats, and try again every ``auth_retry_s``."""
        if self._enrolment is None or not self._enrolment.startswith("revoked"):
            agent_log.error("the server refused the device token: %s; stopping delivery, retrying every %.0f s",
                            error, self.auth_retry_s)
        status = re.search(r"HTTP (\d{3})", error)
        self._set_enrolment(f"{REVOKED} (HTTP {status.group(1)})" if status else REVOKED)
        self.policy.unauthorized = True
        later = self.monotonic() + self.auth_retry_s
        self._next_send = max(self._next_send, later)
        self._next_beat = max(self._next_beat, later)


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().encode("utf-8")).hexdigest()
