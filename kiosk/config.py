"""The device's own TOML file (``/etc/hymy/kiosk.toml``): only device matters.

What a store asks (questions, reasons, opening hours...) comes from the server and is cached in the
data dir (see ``kiosk.storeconfig``). Validation happens at start: every error names the file, line and
key, what is wrong and what is valid (worded by ``hymy.tomlerrors`` and ``hymy.configerrors``); unknown
keys are errors, so a typo never silently does nothing. Every key is explained in ``kiosk.toml.example``
next to this file (a test keeps the two in step).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    model_validator,
)

from hardware.pins import pin_problems
from hymy.errors import ConfigError

DEFAULT_PATH = Path("/etc/hymy/kiosk.toml")
#: The commented example of this file (every key: what, unit, default, valid values). It ships inside
#: the package, so an installed ``hymy`` can name its path (a missing config's error does).
EXAMPLE_PATH = Path(__file__).with_name("kiosk.toml.example")
#: Where development runs keep their data when no config names a data dir.
DEV_DATA_DIR = Path(".hymy")
#: The file in the data dir where ``hymy firstboot`` explains a refused provisioning file: the same
#: name as ``hymy.provision.ERROR_FILE_NAME`` (a test keeps them equal), named here so the kiosk's
#: first frame does not wait for the provisioning code to load.
PROVISION_ERROR_FILE = "provision-error.txt"


class Section(BaseModel):
    """A table of a config file: unknown keys are errors, and TOML types are taken as written
    (strict: ``"800"`` is text, not a number; ``"true"`` is not a boolean)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# Field types shared with the provisioning file (``hymy.provisionfile``): one copy of each rule.


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
#: A BCM GPIO number (the pin map's rules, hardware.pins, check which ones are usable).
Pin = Annotated[int, Field(description="a BCM pin number 2-27, without quotes (GPIO5 is written 5)")]
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


class PinsSection(Section):
    #: BCM pins of the smiley buttons, most negative face first (3-5 of them; empty = no buttons).
    #: Pins are strict integers: ``"5"`` or ``true`` in the file is a type error, not pin 5 or 1.
    buttons: list[Pin] = Field(default_factory=list, max_length=5, description=(
        "a list of at most 5 BCM pin numbers, one per face, most negative first, e.g. [5, 6, 13, 19]"))
    #: BCM pins of the buttons' LEDs, in the same order (empty = no LEDs).
    leds: list[Pin] = Field(default_factory=list, max_length=5, description=(
        "a list of at most 5 BCM pin numbers, one per button in the same order, e.g. [17, 27, 22, 23]"))
    #: LEDs are on PWM-capable drivers: pulse softly while idle, dim blink for repeats.
    pwm: bool = False
    idle_pulse: bool = True
    staff_alert: Pin | None = None
    staff_alert_kind: Literal["lamp", "buzzer"] = "lamp"
    #: Buses in use on this Pi; their pins may not be used for buttons or LEDs.
    reserved: list[Literal["i2c", "spi", "uart"]] = Field(default_factory=list)
    #: Contact-bounce filter, in milliseconds.
    bounce_ms: int = Field(20, ge=1, le=200)
    #: Colours of the arcade buttons, same order (``hymy hwtest`` asks for them by colour); empty = defaults.
    colours: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(default_factory=list, max_length=5)

    @model_validator(mode="after")
    def _pin_map(self) -> PinsSection:
        named = [(f"pins.buttons[{i}]", p) for i, p in enumerate(self.buttons)]
        named += [(f"pins.leds[{i}]", p) for i, p in enumerate(self.leds)]
        named.append(("pins.staff_alert", self.staff_alert))
        problems = [tuple(p.split(": ", 1)) for p in pin_problems(named, self.reserved)]
        if self.leds and len(self.leds) != len(self.buttons):
            problems.append(("pins.leds", f"{len(self.leds)} LEDs for {len(self.buttons)} buttons; "
                                          "give one LED per button or none"))
        if self.colours and len(self.colours) != len(self.buttons):
            problems.append(("pins.colours", f"{len(self.colours)} colours for {len(self.buttons)} buttons; "
                                             "name every button or none"))
        if problems:
            from hymy.configerrors import Problems

            raise Problems(problems)
        return self


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
        from hymy.configerrors import validation_problems

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
    key where there is one (``hymy.configerrors``).
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
    import tomllib  # the error wording (hymy.tomlerrors) is only imported when something is wrong

    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        from hymy.tomlerrors import file_error

        raise file_error(raw, p) from None
    return parse_config(data, p, text=text)
