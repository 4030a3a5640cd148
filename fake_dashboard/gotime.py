"""Go's times as the dashboards write them: v0's zero time, and ``time.Time`` in JSON (v1/v2).

Here so that the dashboard (server.py) and its actions (actions.py) share them without
actions.py importing the dashboard it is mixed into.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

# v0: ``last_active`` of a server that has not reported since the dashboard started.
GO_ZERO_TIME = -62135596800
GO_ZERO_RFC3339 = "0001-01-01T00:00:00Z"
# The dashboard's own offset in its timestamps (a dashboard in China, say).
DASHBOARD_TZ = timezone(timedelta(hours=8))


def rfc3339(seconds: float | None) -> str:
    """Go's ``time.Time`` JSON: nanoseconds and the dashboard's offset; zero time for None."""
    if seconds is None:
        return GO_ZERO_RFC3339
    when = datetime.fromtimestamp(seconds, DASHBOARD_TZ)
    nanos = f"{when.microsecond:06d}789"
    return when.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos}" + when.strftime("%z")[:3] + ":00"
