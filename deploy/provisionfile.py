"""The provisioning file ``hymy.toml`` (boot partition): its keys, their rules, and parsing.

The keys that end up in the device config (``server.url``, ``server.enrolment_code``, ``device.name``,
``display.rotation``) use the very field types of ``kiosk.config``, so the two files can never
disagree on what is valid; the others (CA bundle file, host name, time zone, Wi-Fi) exist only here.
Every problem comes out of ``hymy.configfile.messages``: line, key, what is wrong, what is valid. The
placeholder values of ``image/hymy.toml.example`` are refused, so an unedited copy of the example
never reaches a device.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo

from hymy.configfile.messages import check, located, secret_keys, sort_problems
from hymy.configfile.section import Section
from hymy.configfile.syntax import load_toml
from hymy.errors import ConfigError
from kiosk.config import DeviceName, EnrolmentCode, Rotation, ServerUrl

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


def _zone(value: str, info: ValidationInfo) -> str:
    zones = (info.context or {}).get("zones") or zoneinfo.available_timezones()
    if value not in zones:
        raise ValueError('is not an IANA time zone; write it like "Europe/Helsinki"')
    return value


def _ssid(value: str) -> str:
    if not 1 <= len(value.encode("utf-8")) <= 32:
        raise ValueError("must be 1-32 bytes long (the network name as the Wi-Fi shows it)")
    return value


def _password(value: str) -> str:
    if not (8 <= len(value) <= 63 or _HEX64.match(value)):
        raise ValueError("must be 8-63 characters (or 64 hex digits); leave the key out for an open network")
    if any(ord(c) < 32 for c in value):
        raise ValueError("must not contain control characters")
    return value


def _country(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{2}", value):
        raise ValueError("is not a two-letter country code such as FI or SE")
    return value.upper()


_SECRET = {"secret": True}
CaFileName = Annotated[str, StringConstraints(min_length=1), Field(
    description='the file name of a PEM CA bundle copied next to hymy.toml, e.g. "shop-ca.pem"')]
Hostname = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"), Field(
    description="a host name in quotes: 1-63 of a-z, 0-9 and '-', not starting or ending with '-'")]
TimeZone = Annotated[str, AfterValidator(_zone), Field(
    description='an IANA time zone in quotes, e.g. "Europe/Helsinki"')]
Ssid = Annotated[str, AfterValidator(_ssid), Field(description="the network name in quotes (1-32 bytes)")]
WifiPassword = Annotated[str, AfterValidator(_password), Field(json_schema_extra=_SECRET, description=(
    "the WPA2/WPA3 passphrase in quotes, 8-63 characters (or 64 hex digits)"))]
Country = Annotated[str, AfterValidator(_country), Field(
    description='a two-letter country code (ISO 3166-1) in quotes, e.g. "FI"')]


class ServerTable(Section):
    url: ServerUrl | None = None
    enrolment_code: EnrolmentCode | None = None
    ca_bundle: CaFileName | None = None


class DeviceTable(Section):
    name: DeviceName | None = None
    hostname: Hostname | None = None
    timezone: TimeZone | None = None


class WifiTable(Section):
    ssid: Ssid
    password: WifiPassword | None = None
    country: Country
    hidden: bool = False


class DisplayTable(Section):
    rotation: Rotation | None = None


class ProvisioningFile(Section):
    """The whole ``hymy.toml``. Every table is optional; ``[wifi]`` needs ``ssid`` and ``country``."""

    server: ServerTable = ServerTable()
    device: DeviceTable = DeviceTable()
    wifi: WifiTable | None = None
    display: DisplayTable = DisplayTable()


#: Keys whose values are secrets: never shown in a message, removed from the boot partition once applied.
SECRETS: set[tuple[str, ...]] = secret_keys(ProvisioningFile)

#: Values of image/hymy.toml.example that only stand for the real ones (a test keeps them in step).
PLACEHOLDERS: dict[tuple[str, str], tuple[str, str]] = {
    ("server", "enrolment_code"): ("K7Q2-M9XP-4R", "write the code printed by `hymy admin add-device`"),
    ("wifi", "ssid"): ("Kauppa WLAN", "write your network's name, or leave out the whole [wifi] table on Ethernet"),
    ("wifi", "password"): ("correct horse battery staple", "write your network's password, or leave the key "
                           "out for an open network"),
}
#: Host names reserved for documentation (RFC 2606): never a real server.
EXAMPLE_HOSTS = re.compile(r"(^|\.)example\.(com|net|org)$")


@dataclass
class Provisioning:
    """A validated provisioning file (``None`` = not given, keep what the device has)."""

    server_url: str | None = None
    enrolment_code: str | None = None
    ca_bundle: Path | None = None
    device_name: str | None = None
    hostname: str | None = None
    timezone: str | None = None
    wifi_ssid: str | None = None
    wifi_password: str | None = None
    wifi_country: str | None = None
    wifi_hidden: bool = False
    rotation: int | None = None


def parse(text: str, boot_dir: Path | None = None, *, known_zones: set[str] | None = None,
          require_url: bool = True) -> Provisioning:
    """Validate a provisioning file's text; raise ConfigError listing every problem (line and key).

    ``boot_dir`` is where a ``ca_bundle`` file name is looked up; ``known_zones`` defaults to the
    IANA zones this system knows (``zoneinfo.available_timezones()``); ``require_url`` (default True)
    makes ``server.url`` mandatory (False when the device already has one and the file only changes,
    say, the Wi-Fi).
    """
    data = load_toml(text)
    model, problems = check(ProvisioningFile, data, text, context={"zones": known_zones})
    problems += _file_problems(data, text, boot_dir, require_url)
    if problems or model is None:
        raise ConfigError(sort_problems(problems))
    assert isinstance(model, ProvisioningFile)
    server, device, wifi = model.server, model.device, model.wifi
    return Provisioning(
        server_url=server.url, enrolment_code=server.enrolment_code,
        ca_bundle=(boot_dir / server.ca_bundle if boot_dir else Path(server.ca_bundle)) if server.ca_bundle else None,
        device_name=device.name, hostname=device.hostname, timezone=device.timezone,
        wifi_ssid=wifi.ssid if wifi else None, wifi_password=wifi.password if wifi else None,
        wifi_country=wifi.country if wifi else None, wifi_hidden=bool(wifi and wifi.hidden),
        rotation=model.display.rotation,
    )


def _file_problems(data: dict[str, Any], text: str, boot_dir: Path | None, require_url: bool) -> list[str]:
    """What the model cannot know: a required URL, placeholders left in, a CA file that is not there."""
    problems: list[str] = []

    def value(table: str, key: str) -> Any:
        section = data.get(table)
        return section.get(key) if isinstance(section, dict) else None

    url = value("server", "url")
    if url is None and require_url:
        problems.append(located(text, "server.url", 'missing; the server address is required the first time: '
                                'url = "https://..." under [server]'))
    elif isinstance(url, str) and EXAMPLE_HOSTS.search(_host(url)):
        problems.append(located(text, "server.url", f'"{url}" is the example\'s placeholder (example.com is '
                                "reserved for documentation); write your server's address"))
    for (table, key), (placeholder, what) in PLACEHOLDERS.items():
        found = value(table, key)
        if isinstance(found, str) and found.strip() == placeholder:
            shown = "the value" if (table, key) in SECRETS else f'"{found}"'
            problems.append(located(text, f"{table}.{key}", f"{shown} is the example's placeholder; {what}"))
    ca = value("server", "ca_bundle")
    if isinstance(ca, str) and ca:
        try:
            pem = ((boot_dir / ca) if boot_dir is not None else Path(ca)).read_text(encoding="ascii", errors="replace")
        except OSError:
            problems.append(located(text, "server.ca_bundle", f'"{ca}": no such file next to hymy.toml; copy the '
                                    "PEM file there too"))
        else:
            if "-----BEGIN CERTIFICATE-----" not in pem:
                problems.append(located(text, "server.ca_bundle", f'"{ca}" holds no PEM certificate '
                                        "(-----BEGIN CERTIFICATE-----)"))
    return problems


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
