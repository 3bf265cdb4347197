"""The device's own TOML file (``/etc/hymy/kiosk.toml``): only device matters.

What a store asks (questions, reasons, opening hours...) comes from the server and is cached in the
data dir (see ``kiosk.storeconfig``). Validation happens at start: every error names the file, line and
key, what is wrong and what is valid (worded by ``hymy.configfile.syntax`` and ``hymy.configfile.messages``); unknown
keys are errors, so a typo never silently does nothing. Every key is explained in ``kiosk.toml.example``
next to this file (a test keeps the two in step).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, PrivateAttr, StringConstraints, ValidationError

from hardware.pins import PinsSection
from hymy.configfile.section import Section
from hymy.errors import ConfigError

DEFAULT_PATH = Path("/etc/hymy/kiosk.toml")
#: The commented example of this file (every key: what, unit, default, valid values). It ships inside
#: the package, so an installed ``hymy`` can name its path (a missing config's error does).
EXAMPLE_PATH = Path(__file__).with_name("kiosk.toml.example")
#: Where development runs keep their data when no config names a data dir.
DEV_DATA_DIR = Path(".hymy")
#: The file in the data dir where ``hymy firstboot`` explains a refused provisioning file: the same
#: name as ``deploy.provision.ERROR_FILE_NAME`` (a test keeps them equal), named here so the kiosk's
#: first frame does not wait for the provisioning code to load.
PROVISION_ERROR_FILE = "provision-error.txt"


# Field types shared with the provisioning file (``deploy.provisionfile``): one copy of each rule. The
# tables' base, ``Section``, is the core's (``hymy.configfile.section``); the pin map, ``PinsSection``,
# is the hardware's (``hardware.pins``), composed here.


def _server_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        ok = parts.scheme in ("https", "http") and bool(parts.hostname) and not any(c.isspace() for c in value)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError('is not a server address; write it like "https://hymy.example.com" '
                         "(http:// only on a trusted LAN)")
    return value.rstrip("/")


#: The central server's address, without a trailing slash.
ServerUrl = Annotated[str, AfterValidator(_server_url),
                      Field(description='the server\'s address in quotes, "https://..." (http:// only on a trusted LAN)')]
#: The one-time code of ``hymy admin add-device`` (a secret: never shown in messages).
EnrolmentCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=6, max_length=64, pattern=r"^\S+$"),
                          Field(json_schema_extra={"secret": True}, description="the 6-64 character code printed by `hymy admin add-device`, "
                                                        'in "double quotes", no spaces')]
DeviceName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Rotation = Literal[0, 90, 180, 270]
#: A file or directory; written as a TOML string.
FilePath = Annotated[Path, Field(strict=False)]


class DeviceSection(Section):
    name: DeviceName = "kiosk"
    #: Directory for kiosk.db, the device token and the cached store config.
    data_dir: FilePath = Path("/var/lib/hymy")
    #: ``kernel``: trust the wall clock only once the kernel reports NTP sync (adjtimex);
    #: ``trust``: always trust it (development, or a Pi 5 with its battery-backed RTC);
    #: ``timesyncd``: trust it once ``clock_sync_file`` exists (systemd-timesyncd touches it on sync).
    clock: Literal["kernel", "trust", "timesyncd"] = "kernel"
    #: The flag file of ``clock = "timesyncd"`` (on tmpfs, so absent after every boot until synced).
    clock_sync_file: FilePath = Path("/run/systemd/timesync/synchronized")
    #: Sent events older than this many days are pruned from the device; unsent never are.
    retention_days: int = Field(30, ge=1, le=3650)


class ServerSection(Section):
    url: ServerUrl | None = None
    enrolment_code: EnrolmentCode | None = None
    #: A PEM bundle to trust instead of the system CA store (TLS is never turned off).
    ca_bundle: FilePath | None = None
    #: Where the device token is kept (mode 0600). Default: <data_dir>/device-token.
    token_file: FilePath | None = None


class DisplaySection(Section):
    #: False runs the buttons-only kiosk (same as ``hymy kiosk --no-screen``).
    enabled: bool = True
    rotation: Rotation = 0
    width: int = Field(800, ge=240, le=7680)
    height: int = Field(480, ge=240, le=4320)
    fullscreen: bool = True
    show_cursor: bool = False
    #: Frame-rate cap; keeps idle CPU low on a Pi Zero 2 W.
    maxfps: int = Field(30, ge=5, le=120)
    #: A small amber dot in a corner while a local staff-alert rule fires (staff see it, customers hardly).
    staff_indicator: bool = True


class MaintenanceSection(Section):
    #: Argon2id hash of the maintenance screen's PIN (``kiosk.pinlock.hash_pin`` makes one; see kiosk.toml.example).
    pin_hash: str | None = None


class DeviceConfig(Section):
    """The whole device file. Every section is optional; defaults suit a Pi with a screen."""

    device: DeviceSection = DeviceSection()
    server: ServerSection = ServerSection()
    pins: PinsSection = PinsSection()
    display: DisplaySection = DisplaySection()
    maintenance: MaintenanceSection = MaintenanceSection()
    _source: Path | None = PrivateAttr(None)

    @property
    def source(self) -> Path | None:
        """The file this was read from (not a key of the file); None when built from a dict."""
        return self._source

    @property
    def data_dir(self) -> Path:
        return self.device.data_dir

    @property
    def store_path(self) -> Path:
        return self.device.data_dir / "kiosk.db"

    @property
    def token_path(self) -> Path:
        return self.server.token_file or self.device.data_dir / "device-token"

    @property
    def provision_error_path(self) -> Path:
        """Where ``hymy firstboot`` explains a refused provisioning file (shown on screen and in status)."""
        return self.device.data_dir / PROVISION_ERROR_FILE

    @property
    def store_config_path(self) -> Path:
        return self.device.data_dir / "store-config.json"


def parse_config(data: dict[str, Any], source: str | Path | None = None, *, text: str | None = None) -> DeviceConfig:
    """Validate a dict (parsed TOML) into a DeviceConfig, or raise ConfigError listing every problem.

    ``text``, the TOML source of ``data``, lets each problem name its line; ``source`` is the file.
    """
    where = str(source) if source else None
    if not isinstance(data, dict):
        raise ConfigError(f"expected a table of sections, got {type(data).__name__}", where)
    try:
        cfg = DeviceConfig.model_validate(data)
    except ValidationError as exc:
        from hymy.configfile.messages import validation_problems

        raise ConfigError(validation_problems(exc, DeviceConfig, text), where) from None
    cfg._source = Path(source) if source else None
    return cfg


def resolve_path(path: str | Path | None = None) -> Path:
    """The config path: the argument, else ``HYMY_CONFIG``, else /etc/hymy/kiosk.toml."""
    return Path(path or os.environ.get("HYMY_CONFIG") or DEFAULT_PATH)


def load_config(path: str | Path | None = None, *, missing_ok: bool = True) -> DeviceConfig:
    """Read and validate the device file.

    A missing file at the default path gives the development defaults (data in ``.hymy/``) when
    ``missing_ok``; a file named explicitly must exist. Every error names the file, and the line and
    key where there is one (``hymy.configfile.messages``).
    """
    explicit = path is not None or bool(os.environ.get("HYMY_CONFIG"))
    p = resolve_path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        if explicit or not missing_ok:
            raise ConfigError(f"no such file; copy the example {EXAMPLE_PATH} there (every key is explained "
                              "in it) and edit it, or pass another file with --config", str(p)) from None
        return parse_config({"device": {"data_dir": str(DEV_DATA_DIR), "clock": "trust"}})
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", str(p)) from None
    import tomllib  # the error wording (hymy.configfile.syntax) is only imported when something is wrong

    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        from hymy.configfile.syntax import file_error

        raise file_error(raw, p) from None
    return parse_config(data, p, text=text)
