"""Which requests uvicorn's access log writes: ``HYMY_ACCESS_LOG`` (``Settings.access_log``).

- ``quiet`` (the default): every request except the device API's answered ones (``POST /api/v1/responses``,
  ``POST /api/v1/heartbeat``, ``GET /api/v1/config`` with a status under 400). A fleet sends those all the
  time (10,000 kiosks: about 670 a second, 58 million lines a day) and the metrics count them by route
  and status (``hymy_http_requests_total``); a device request that fails is still logged, as is every
  dashboard, manager API and enrolment request.
- ``all``: every request, as uvicorn logs by default.
- ``off``: none (a reverse proxy in front keeps its own access log).

The lines are uvicorn's own (its format and logger, ``uvicorn.access``): ``quiet`` is a filter on that
logger, declared in the logging configuration uvicorn applies in every worker process. It costs about a
third of a logged line for a request it drops (the log record is still made; measured in docs/server.md).
"""

from __future__ import annotations

import copy
import logging

#: The values of ``HYMY_ACCESS_LOG``.
MODES = ("quiet", "all", "off")
#: The device API's requests a fleet sends all the time (method, path).
FLEET_REQUESTS = frozenset({("POST", "/api/v1/responses"), ("POST", "/api/v1/heartbeat"), ("GET", "/api/v1/config")})


class QuietFleet(logging.Filter):
    """Drops uvicorn's access-log records of answered fleet requests (see the module's doc)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not isinstance(args, tuple) or len(args) != 5:
            return True
        _, method, path, _, status = args
        return not (isinstance(status, int) and status < 400 and (method, path.split("?", 1)[0]) in FLEET_REQUESTS)


def uvicorn_options(mode: str) -> dict:
    """What ``uvicorn.run`` gets for access-log ``mode``: ``access_log``, and for ``quiet`` its logging
    configuration with :class:`QuietFleet` on the ``uvicorn.access`` logger."""
    if mode not in MODES:
        raise ValueError(f"access log: {mode!r} is not one of {', '.join(MODES)}")
    if mode != "quiet":
        return {"access_log": mode == "all"}
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["quiet_fleet"] = {"()": f"{__name__}.QuietFleet"}
    config["loggers"]["uvicorn.access"]["filters"] = ["quiet_fleet"]
    return {"access_log": True, "log_config": config}
