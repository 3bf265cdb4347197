"""The store config the server decides (``hymy.protocol.StoreConfig``), cached on the device.

The sync agent writes it atomically (temp file, fsync, rename) when ``GET /api/v1/config`` returns a
new one; the kiosk process notices the file's change and uses it without a restart. The last good
config survives reboots; a file that fails validation is refused with a logged reason and the
previous one stays in force.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from pydantic import ValidationError

from hymy.atomicfile import write_atomic
from hymy.protocol import StoreConfig, default_store_config

log = logging.getLogger(__name__)


def write_store_config(path: Path, config: StoreConfig, etag: str | None = None) -> None:
    """Atomically replace the cached config (readers see the old or the new file, never half)."""
    doc = {"etag": etag, "config": config.model_dump(mode="json")}
    write_atomic(path, json.dumps(doc, ensure_ascii=False, indent=1))


def read_store_config(path: Path) -> tuple[StoreConfig, str | None]:
    """The cached config and its ETag; raises ValueError naming the file when it is invalid."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return StoreConfig.model_validate(doc["config"]), doc.get("etag")
    except (ValueError, KeyError, TypeError, ValidationError) as exc:
        raise ValueError(f"{path}: invalid store config: {exc}") from None


def cached_scale(path: Path, buttons: int = 0) -> int:
    """Faces of the cached question at ``path`` (only read: no file is made), else ``buttons`` (the
    number wired) when it is a valid scale (3, 4 or 5), else 4, the default scale."""
    try:
        return read_store_config(path)[0].question.scale
    except (OSError, ValueError):
        return buttons if buttons in (3, 4, 5) else 4


class StoreConfigCache:
    """The kiosk's view of the store config: re-read when the file changes, else the last good one.

    Call it (``cache()``) to get the current StoreConfig; cheap enough for every press (one stat).
    """

    def __init__(self, path: Path):
        self.path = path
        self._mtime: float | None = None
        self._config = default_store_config()
        self.etag: str | None = None
        self.error: str | None = None
        self.refresh()

    def refresh(self) -> bool:
        """Re-read the file if it changed; return True when a new config took effect."""
        try:
            mtime = self.path.stat().st_mtime_ns
        except OSError:
            return False
        if mtime == self._mtime:
            return False
        self._mtime = mtime
        try:
            self._config, self.etag = read_store_config(self.path)
        except (OSError, ValueError) as exc:
            self.error = str(exc)
            log.error("%s; keeping the previous store config", exc)
            return False
        self.error = None
        return True

    def __call__(self) -> StoreConfig:
        self.refresh()
        return self._config
