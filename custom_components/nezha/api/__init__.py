"""Client for the Nezha Monitoring dashboard API. Free of Home Assistant imports."""

from .client import NezhaClient, normalize_url
from .errors import (
    NezhaAuthError,
    NezhaConnectionError,
    NezhaError,
    NezhaInvalidUrlError,
    NezhaMissingScopeError,
    NezhaNotDashboardError,
    NezhaRateLimitError,
    NezhaResponseError,
    NezhaSSLError,
    NezhaTimeoutError,
    NezhaTokenExpiredError,
)
from .models import (
    DashboardFlavor,
    DashboardSnapshot,
    Server,
    ServerHost,
    ServerStatus,
    Temperature,
)

__all__ = [
    "DashboardFlavor",
    "DashboardSnapshot",
    "NezhaAuthError",
    "NezhaClient",
    "NezhaConnectionError",
    "NezhaError",
    "NezhaInvalidUrlError",
    "NezhaMissingScopeError",
    "NezhaNotDashboardError",
    "NezhaRateLimitError",
    "NezhaResponseError",
    "NezhaSSLError",
    "NezhaTimeoutError",
    "NezhaTokenExpiredError",
    "Server",
    "ServerHost",
    "ServerStatus",
    "Temperature",
    "normalize_url",
]
