"""The wire contract: every record and message that crosses between a kiosk and the server.

Both ends import these pydantic models, so the device can never send what the server would not
parse. ``docs/protocol.md`` describes the same format for people (and curl). Timestamps are RFC 3339
UTC with milliseconds (``2026-11-23T11:30:00.123Z``); ids are UUIDv7 strings made on the device.
Unknown fields are rejected: a typo must not silently drop data. Booleans, numbers and times are strict:
``"true"`` or ``1`` for a boolean, ``"4"`` or ``4.5`` for an integer, a number for a time are refused,
not guessed at.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from hymy import rules
from hymy.hours import validate_hours, zone
from hymy.score import SCALES
from hymy.timestamps import format_ts

PROTOCOL_VERSION = 1
#: Most events in one POST /api/v1/responses batch.
MAX_BATCH_EVENTS = 500
#: Largest batch body before compression, in bytes (256 KiB).
MAX_BATCH_BYTES = 256 * 1024
#: Longest follow-up value (a free comment), in characters.
MAX_VALUE_CHARS = 280

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
LANG_CODES = ("fi", "sv", "en")

#: Plain words for the pydantic error types of the constrained types below (``explain`` uses them);
#: the checks themselves run inside pydantic-core, not as Python validators (ingest validates 500
#: events per batch).
MESSAGES = {
    "string_pattern_mismatch": "must be a lower-case UUID string like 0192f7c4-8b1a-7c3e-9f00-1234567890ab",
    "timezone_aware": "must carry a time zone offset (Z for UTC)",
}


def explain(err: dict) -> str:
    """The message of one pydantic error (``ValidationError.errors()`` item), in plain words where the
    default would only repeat a pattern."""
    if err.get("type") == "string_pattern_mismatch" and (err.get("ctx") or {}).get("pattern") != UUID_PATTERN:
        return err["msg"]
    return MESSAGES.get(err.get("type", ""), err.get("msg", "invalid"))


EventId = Annotated[str, StringConstraints(pattern=UUID_PATTERN)]


def _text_time(value):
    """Times are RFC 3339 text (or datetimes in Python): a number is not taken as seconds since 1970."""
    if isinstance(value, (int, float)):
        raise PydanticCustomError("datetime_type", "must be an RFC 3339 time like 2026-11-23T11:30:00.123Z, "
                                  "not a number")
    return value

#: An aware datetime serialised as ``YYYY-MM-DDTHH:MM:SS.mmmZ``.
Timestamp = Annotated[AwareDatetime, BeforeValidator(_text_time), PlainSerializer(format_ts, return_type=str)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(StrEnum):
    touch = "touch"
    button = "button"
    simulated = "simulated"


class Flag(StrEnum):
    """Why a press is kept but not counted."""

    repeat = "repeat"  #: inside the response interval after the last counted press
    closed = "closed"  #: outside opening hours
    maintenance = "maintenance"  #: voided by the technician's hold gesture


class FollowupKind(StrEnum):
    reason = "reason"
    praise = "praise"
    comment = "comment"
    #: voids its response (the technician's maintenance gesture); ``value`` says why
    void = "void"


class Response(_Model):
    """One press of a smiley face (or button). Immutable once made."""

    type: Literal["response"] = "response"
    id: EventId
    question_id: ShortText
    mood: StrictInt = Field(ge=1, le=5, description="1..scale, 1 = most negative")
    scale: Literal[3, 4, 5] = 4
    source: Source
    pressed_at: Timestamp = Field(description="device wall clock at the press, corrected if it was unsynced")
    clock_synced: StrictBool = Field(description="was the device clock NTP-synced when pressed")
    boot_id: ShortText
    uptime_ms: StrictInt = Field(ge=0, description="milliseconds since boot at the press (CLOCK_BOOTTIME)")
    flags: list[Flag] = Field(default_factory=list, max_length=3)
    app_version: ShortText
    clock_corrected: StrictBool = Field(False, description="pressed_at was corrected after the clock synced")
    device_pressed_at: Timestamp | None = Field(None, description="the uncorrected wall clock, for audit")

    @field_validator("flags")
    @classmethod
    def _flags_unique(cls, flags: list[Flag]) -> list[Flag]:
        if len(set(flags)) != len(flags):
            raise ValueError("flags must not repeat")
        return sorted(flags)

    @model_validator(mode="after")
    def _mood_in_scale(self) -> Response:
        if self.mood > self.scale:
            raise ValueError(f"mood {self.mood} is outside scale {self.scale}; use 1..{self.scale}")
        return self

    @property
    def counted(self) -> bool:
        """True when the press counts towards results (it carries no flag)."""
        return not self.flags


class Followup(_Model):
    """An answer after a press: a reason, praise or free comment. Its own immutable event."""

    type: Literal["followup"] = "followup"
    id: EventId
    response_id: EventId
    kind: FollowupKind
    value: str = Field(min_length=1, max_length=MAX_VALUE_CHARS, description="reason or praise id, or comment text")
    pressed_at: Timestamp
    clock_synced: StrictBool = True
    boot_id: ShortText | None = None
    uptime_ms: StrictInt | None = Field(None, ge=0)
    clock_corrected: StrictBool = False
    device_pressed_at: Timestamp | None = None


Event = Annotated[Response | Followup, Field(discriminator="type")]


class Batch(_Model):
    """Body of ``POST /api/v1/responses``: events in the order they were recorded."""

    events: list[Event] = Field(max_length=MAX_BATCH_EVENTS)


class EventStatus(StrEnum):
    accepted = "accepted"
    duplicate = "duplicate"  #: same id and same content already stored: safe to mark sent
    rejected = "rejected"  #: never stored; ``reason`` says why; the device quarantines it


class EventResult(_Model):
    id: str
    status: EventStatus
    reason: str | None = None


class BatchResult(_Model):
    results: list[EventResult]


# --------------------------------------------------------------------------- store configuration


class Texts(_Model):
    """One text per language; Finnish is required, the others fall back to it."""

    fi: ShortText
    sv: ShortText | None = None
    en: ShortText | None = None

    def get(self, lang: str) -> str:
        return getattr(self, lang, None) or self.fi


class Question(_Model):
    id: ShortText
    texts: Texts
    scale: Literal[3, 4, 5] = 4


class Reason(_Model):
    id: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_-]+$")]
    texts: Texts


def _kind_schema(schema: dict) -> None:
    schema["enum"] = list(rules.RULE_KINDS)


def _rule_schema(schema: dict, _model: type) -> None:
    """Kinds that need a face say so in the JSON Schema too, so the OpenAPI document describes what is taken."""
    faces = [k.name for k in rules.RULE_KINDS.values() if k.needs_mood]
    if faces:
        schema["if"] = {"properties": {"kind": {"enum": faces}}, "required": ["kind"]}
        schema["then"] = {"properties": {"mood": {"type": "integer"}}, "required": ["mood"]}


class AlertRule(_Model):
    """A store's alert rule (evaluated by ``hymy.rules`` on the server and, if ``local``, on the kiosk).

    ``kind`` is one of ``hymy.rules.RULE_KINDS`` (what ``threshold`` means depends on it; a kind that
    ``needs_mood`` also needs ``mood``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_rule_schema)

    id: ShortText
    kind: str = Field(json_schema_extra=_kind_schema, description="the rule's kind (hymy.rules.RULE_KINDS)")
    window_min: StrictInt = Field(15, ge=1, le=24 * 60)
    min_count: StrictInt = Field(4, ge=1, le=10_000)
    threshold: StrictFloat = Field(50.0, ge=0, le=100_000)
    mood: StrictInt | None = Field(None, ge=1, le=5)
    local: StrictBool = Field(False, description="also drive the kiosk's staff lamp, with no network needed")

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        rules.rule_kind(value)  # raises naming the kinds there are
        return value

    @model_validator(mode="after")
    def _mood_when_needed(self) -> AlertRule:
        if rules.rule_kind(self.kind).needs_mood and self.mood is None:
            raise ValueError(f"mood is required for kind {self.kind}")
        return self


class StoreConfig(_Model):
    """What the server decides for every kiosk of a store (``GET /api/v1/config``).

    The device caches the last good one and works offline with it.
    """

    store_id: str
    store_name: ShortText
    timezone: str = "Europe/Helsinki"
    languages: list[Literal["fi", "sv", "en"]] = Field(default_factory=lambda: ["fi", "sv", "en"], min_length=1)
    question: Question
    reasons: list[Reason] = Field(default_factory=list, max_length=6)
    praise: list[Reason] = Field(default_factory=list, max_length=6)
    followup: dict[str, Literal["reason", "praise", "none"]] = Field(
        default_factory=dict,
        description='follow-up per mood as a string key, e.g. {"1": "reason", "2": "reason", "4": "praise"}',
    )
    comments_enabled: StrictBool = False
    opening_hours: dict[str, list[str]] = Field(default_factory=dict)
    closed_display: Literal["closed_view", "backlight_off"] = "closed_view"
    response_interval_s: StrictFloat = Field(5.0, ge=0, le=60)
    thank_you_s: StrictFloat = Field(3.0, ge=1, le=30)
    followup_timeout_s: StrictFloat = Field(8.0, ge=3, le=60)
    show_today_result: StrictBool = False
    alert_rules: list[AlertRule] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("opening_hours")
    @classmethod
    def _hours(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        problems = validate_hours(value)
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @field_validator("followup")
    @classmethod
    def _followup_keys(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if key not in {"1", "2", "3", "4", "5"}:
                raise ValueError(f"followup: key {key!r} is not a mood; use \"1\"..\"5\"")
        return value

    def followup_for(self, mood: int) -> str:
        """``reason``, ``praise`` or ``none`` for a press of ``mood``."""
        kind = self.followup.get(str(mood), "none")
        if kind == "reason" and not self.reasons:
            return "none"
        return kind


def default_store_config() -> StoreConfig:
    """What an unenrolled kiosk shows (development, demo before enrolment): one question, 4 faces."""
    return StoreConfig(
        store_id="local",
        store_name="Hymy",
        question=Question(
            id="q-default",
            texts=Texts(fi="Miten onnistuimme tänään?", sv="Hur lyckades vi i dag?", en="How did we do today?"),
        ),
        reasons=[
            Reason(id="queue", texts=Texts(fi="Jono", sv="Kön", en="Queue")),
            Reason(id="service", texts=Texts(fi="Palvelu", sv="Service", en="Service")),
            Reason(id="selection", texts=Texts(fi="Valikoima", sv="Sortiment", en="Selection")),
            Reason(id="price", texts=Texts(fi="Hinta", sv="Pris", en="Price")),
            Reason(id="cleanliness", texts=Texts(fi="Siisteys", sv="Renlighet", en="Cleanliness")),
        ],
        followup={"1": "reason", "2": "reason"},
    )


# --------------------------------------------------------------------------- enrolment and heartbeat


class EnrollRequest(_Model):
    code: Annotated[str, Field(min_length=6, max_length=64)]
    device_name: ShortText | None = None
    app_version: ShortText | None = None


class EnrollResponse(_Model):
    device_id: str
    token: str = Field(description="the device's bearer token; shown once, stored hashed on the server")
    config: StoreConfig


class Heartbeat(_Model):
    """Fleet health, every 60 s; also carries the clock data the server corrects timestamps with."""

    app_version: ShortText
    boot_id: ShortText
    uptime_ms: StrictInt = Field(ge=0)
    device_time: Timestamp
    clock_synced: StrictBool
    pending: StrictInt = Field(0, ge=0)
    oldest_pending_s: StrictFloat | None = Field(None, ge=0)
    quarantined: StrictInt = Field(0, ge=0)
    last_error: str | None = Field(None, max_length=500)
    disk_free_mb: StrictFloat | None = Field(None, ge=0)
    cpu_temp_c: StrictFloat | None = None
    config_etag: str | None = Field(None, max_length=200)
    store_recoveries: int = Field(0, ge=0, description="damaged local stores moved aside on the device "
                                  "(and still kept there for inspection)")


class HeartbeatResult(_Model):
    server_time: Timestamp
    corrected: int = Field(0, description="stored presses and follow-ups of this boot whose timestamps were corrected now")


__all__ = [
    "AlertRule", "Batch", "BatchResult", "EnrollRequest", "EnrollResponse", "Event", "EventResult",
    "EventStatus", "Flag", "Followup", "FollowupKind", "Heartbeat", "HeartbeatResult", "Question",
    "Reason", "Response", "Source", "StoreConfig", "Texts", "default_store_config", "SCALES",
    "MAX_BATCH_BYTES", "MAX_BATCH_EVENTS", "MAX_VALUE_CHARS", "PROTOCOL_VERSION",
]
