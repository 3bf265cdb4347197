"""``Section``: the base of every table of a config file (the device config and its pin map, the
provisioning file)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A table of a config file: unknown keys are errors, and TOML types are taken as written
    (strict: ``"800"`` is text, not a number; ``"true"`` is not a boolean)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
