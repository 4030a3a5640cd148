"""Constants: the domain, option keys and the fixed intervals (polling is not an option)."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "nezha"
LOGGER = logging.getLogger(__package__)

MANUFACTURER: Final = "Nezha"

CONF_ONLINE_THRESHOLD: Final = "online_threshold"
CONF_TAGS: Final = "tags"
# Tags (groups) whose servers get every entity on dashboards past Home Assistant's entity cap.
CONF_FULL_DETAIL: Final = "full_detail"
# The dashboard line (v0, v1, v2); entries made before v1/v2 support have none and are v0.
CONF_FLAVOR: Final = "flavor"

# v0 has no stream: poll at Home Assistant's own default for polling integrations. v1/v2
# poll only while their stream is down, at the same pace. A user who wants fresher values asks
# with homeassistant.update_entity (Home Assistant's convention: no user-set interval).
POLL_INTERVAL: Final = timedelta(seconds=30)
# A restart or an upgrade of the dashboard takes seconds: while nothing answers for it, the
# last data is kept this long, asked again every GRACE_RETRY (under 2 s, so the stream is back
# within 2 s of the dashboard), before entities turn unavailable and the failure is logged.
OUTAGE_GRACE: Final = 10.0
GRACE_RETRY: Final = 1.0
# Past the grace, or while it hangs, a failing dashboard is asked again this long after the
# previous attempt began: seen back within that, and never asked more often.
DOWN_RETRY: Final = 10.0
# The dashboard keeps service checks of the last ~15 minutes and per day: once a minute is
# plenty.
SERVICES_SCAN_INTERVAL: Final = timedelta(seconds=60)
# Agents report every few seconds; the official front end calls a server offline after 30 s
# of silence, which also absorbs the 1 s resolution of the HTTP Date header.
DEFAULT_ONLINE_THRESHOLD: Final = 30
MIN_ONLINE_THRESHOLD: Final = 10
MAX_ONLINE_THRESHOLD: Final = 3600

# While the stream is up (polling paused), servers are still read over REST this often: a
# stream sends public notes (billing) in a connection's first frame only, so a note changed
# on the dashboard is learned here. Billing moves by days: ten minutes is plenty, and costs one
# request (two when the server groups are due) where polling would make twenty.
NOTES_INTERVAL: Final = timedelta(minutes=10)
# A server whose public note says it expires within this many days is "expiring soon".
CONF_EXPIRING_DAYS: Final = "expiring_days"
DEFAULT_EXPIRING_DAYS: Final = 7
MIN_EXPIRING_DAYS: Final = 0
MAX_EXPIRING_DAYS: Final = 365

# Scheduled tasks change rarely and their runs take a while: once a minute, like services,
# and once more shortly after a task is run by hand.
CRON_SCAN_INTERVAL: Final = timedelta(seconds=60)
CRON_CHECK_AFTER_RUN: Final = 5.0

# Alerts as events (off by default): the notification groups to join, and where the webhook,
# its secret and the dashboard's channel are kept (entry data, absent until first enabled).
CONF_ALERTS: Final = "alerts"
CONF_ALERT_GROUPS: Final = "alert_groups"
DATA_ALERTS: Final = "alerts"

# The dashboard's metric history in the sensors' long-term statistics (v2, on by default), and
# how many days back (the dashboard keeps 30 by default and answers at most 30).
CONF_HISTORY: Final = "history"
CONF_HISTORY_DAYS: Final = "history_days"
DEFAULT_HISTORY_DAYS: Final = 30
MAX_HISTORY_DAYS: Final = 30
