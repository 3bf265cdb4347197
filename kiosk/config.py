"""The device's own TOML file (``/etc/hymy/kiosk.toml``): only device matters.

What a store asks (questions, reasons, opening hours...) comes from the server and is cached in the
data dir (see ``kiosk.storeconfig``). Validation happens at start: every error names the key, the value
and what is valid; unknown keys are errors, so a typo never silently does nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from hardware.pins import pin_problems
from hymy.errors import ConfigError

DEFAULT_PATH = Path("/etc/hymy/kiosk.toml")
#: Where development runs keep their data when no config names a data dir.
DEV_DATA_DIR = Path(".hymy")
#: The file in the data dir where ``hymy firstboot`` explains a refused provisioning file: the same
#: name as ``hymy.provision.ERROR_FILE_NAME`` (a test keeps them equal), named here so the kiosk's
#: first frame does not wait for the provisioning code to load.
PROVISION_ERROR_FILE = "provision-error.txt"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeviceSection(_Section):
    name: Annotated[str, Field(min_length=1, max_length=100)] = "kiosk"
    #: Directory for kiosk.db, the device token and the cached store config.
    data_dir: Path = Path("/var/lib/hymy")
    #: ``kernel``: trust the wall clock only once the kernel reports NTP sync (adjtimex);
    #: ``trust``: always trust it (development, or a Pi 5 with its battery-backed RTC);
    #: ``timesyncd``: trust it once ``clock_sync_file`` exists (systemd-timesyncd touches it on sync).
    clock: Literal["kernel", "trust", "timesyncd"] = "kernel"
    #: The flag file of ``clock = "timesyncd"`` (on tmpfs, so absent after every boot until synced).
    clock_sync_file: Path = Path("/run/systemd/timesync/synchronized")
    #: Sent events older than this many days are pruned from the device; unsent never are.
    retention_days: int = Field(30, ge=1, le=3650)


class ServerSection(_Section):
    url: str | None = None
    enrolment_code: str | None = Field(None, min_length=6, max_length=64)
    #: A PEM bundle to trust instead of the system CA store (TLS is never turned off).
    ca_bundle: Path | None = None
    #: Where the device token is kept (mode 0600). Default: <data_dir>/device-token.
    token_file: Path | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// or http://")
        return value.rstrip("/")


class PinsSection(_Section):
    #: BCM pins of the smiley buttons, most negative face first (3-5 of them; empty = no buttons).
    #: Pins are strict integers: ``"5"`` or ``true`` in the file is a type error, not pin 5 or 1.
    buttons: list[StrictInt] = Field(default_factory=list, max_length=5)
    #: BCM pins of the buttons' LEDs, in the same order (empty = no LEDs).
    leds: list[StrictInt] = Field(default_factory=list, max_length=5)
    #: LEDs are on PWM-capable drivers: pulse softly while idle, dim blink for repeats.
    pwm: bool = False
    idle_pulse: bool = True
    staff_alert: StrictInt | None = None
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
        problems = pin_problems(named, self.reserved)
        if self.leds and len(self.leds) != len(self.buttons):
            problems.append(
                f"pins.leds: {len(self.leds)} LEDs for {len(self.buttons)} buttons; give one LED per button or none"
            )
        if self.colours and len(self.colours) != len(self.buttons):
            problems.append(
                f"pins.colours: {len(self.colours)} colours for {len(self.buttons)} buttons; name every button or none"
            )
        if problems:
            raise _Problems(problems)
        return self


class DisplaySection(_Section):
    #: False runs the buttons-only kiosk (same as ``hymy kiosk --no-screen``).
    enabled: bool = True
    rotation: Literal[0, 90, 180, 270] = 0
    width: int = Field(800, ge=240, le=7680)
    height: int = Field(480, ge=240, le=4320)
    fullscreen: bool = True
    show_cursor: bool = False
    #: Frame-rate cap; keeps idle CPU low on a Pi Zero 2 W.
    maxfps: int = Field(30, ge=5, le=120)
    #: A small amber dot in a corner while a local staff-alert rule fires (staff see it, customers hardly).
    staff_indicator: bool = True


class MaintenanceSection(_Section):
    #: Argon2id hash of the maintenance screen's PIN (``hymy admin hash-pin`` makes one).
    pin_hash: str | None = None


class DeviceConfig(_Section):
    """The whole device file. Every section is optional; defaults suit a Pi with a screen."""

    device: DeviceSection = DeviceSection()
    server: ServerSection = ServerSection()
    pins: PinsSection = PinsSection()
    display: DisplaySection = DisplaySection()
    maintenance: MaintenanceSection = MaintenanceSection()
    #: The file this was read from (not a key of the file).
    source: Path | None = Field(None, exclude=True)

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


class _Problems(ValueError):
    """Several already-worded problems raised from a validator (kept as separate lines)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def _key(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _describe(err: dict[str, Any], data: dict[str, Any]) -> list[str]:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    ctx_error = (err.get("ctx") or {}).get("error")
    if isinstance(ctx_error, _Problems):
        return list(ctx_error.problems)
    key = _key(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        parent = _lookup_model(loc[:-1])
        valid = ", ".join(k for k in parent.model_fields if k not in _NOT_KEYS) if parent else ""
        return [f"{key}: unknown key; valid keys here: {valid}"]
    value = err.get("input")
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    shown = "" if isinstance(value, dict) else f"{value!r}: "
    return [f"{key}: {shown}{msg[0].lower() + msg[1:] if msg else msg}"]


def _lookup_model(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = DeviceConfig
    for part in loc:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        ann = field.annotation if field else None
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return None
        model = ann
    return model


#: Fields of DeviceConfig that are not keys of the file.
_NOT_KEYS = ("source",)


def parse_config(data: dict[str, Any], source: str | Path | None = None) -> DeviceConfig:
    """Validate a dict (already parsed TOML) into a DeviceConfig, or raise ConfigError listing every problem."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ConfigError(f"expected a table of sections, got {type(data).__name__}", str(source) if source else None)
    data = dict(data)
    for key in _NOT_KEYS:
        if key in data:
            data.pop(key)
            valid = ", ".join(k for k in DeviceConfig.model_fields if k not in _NOT_KEYS)
            problems.append(f"{key}: unknown key; valid keys here: {valid}")
    try:
        cfg = DeviceConfig.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            problems.extend(_describe(err, data))
    if problems:
        raise ConfigError(problems, str(source) if source else None) from None
    return cfg.model_copy(update={"source": Path(source) if source else None})


def resolve_path(path: str | Path | None = None) -> Path:
    """The config path: the argument, else ``HYMY_CONFIG``, else /etc/hymy/kiosk.toml."""
    return Path(path or os.environ.get("HYMY_CONFIG") or DEFAULT_PATH)


def load_config(path: str | Path | None = None, *, missing_ok: bool = True) -> DeviceConfig:
    """Read and validate the device file.

    A missing file at the default path gives the development defaults (data in ``.hymy/``) when
    ``missing_ok``; a file named explicitly must exist.
    """
    import tomllib  # only reading a file needs it; the kiosk's start-up validates without it

    explicit = path is not None or bool(os.environ.get("HYMY_CONFIG"))
    p = resolve_path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        if explicit or not missing_ok:
            raise ConfigError("no such file; create it (see image/hymy.toml.example) or pass --config", str(p)) from None
        return parse_config({"device": {"data_dir": str(DEV_DATA_DIR), "clock": "trust"}})
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", str(p)) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("is not UTF-8 text", str(p)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"TOML syntax error: {exc}", str(p)) from None
    return parse_config(data, p)
