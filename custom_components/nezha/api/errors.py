"""Errors raised by the Nezha dashboard client.

Messages never contain the token: they are built from the URL's host and the kind of failure only.
"""

from __future__ import annotations

from enum import StrEnum

# What the package re-exports (every error).
__all__ = [
    "MetricsErrorReason",
    "NezhaAuthError",
    "NezhaConnectionError",
    "NezhaError",
    "NezhaInvalidUrlError",
    "NezhaMetricsError",
    "NezhaMissingScopeError",
    "NezhaNotDashboardError",
    "NezhaNotFoundError",
    "NezhaRateLimitError",
    "NezhaResponseError",
    "NezhaSSLError",
    "NezhaTimeoutError",
    "NezhaTokenExpiredError",
    "NezhaUnreachableError",
]


class NezhaError(Exception):
    """Base class for every error the client raises."""


class NezhaInvalidUrlError(NezhaError):
    """The dashboard URL is not a usable http(s) URL."""


class NezhaConnectionError(NezhaError):
    """The dashboard could not be reached, or answered with a server error."""


class NezhaUnreachableError(NezhaConnectionError):
    """Nothing answers for the dashboard, or a proxy in front of it says it is down.

    Connection refused or reset, no DNS answer, HTTP 502/503/504: what a restart or an
    upgrade of the dashboard looks like, usually over in seconds.
    """


class NezhaTimeoutError(NezhaConnectionError):
    """The dashboard did not answer in time."""


class NezhaSSLError(NezhaConnectionError):
    """The dashboard's TLS certificate could not be verified."""


class NezhaAuthError(NezhaError):
    """The dashboard refused the credentials."""


class NezhaNotDashboardError(NezhaError):
    """The URL answers, but not like a Nezha dashboard (HTML, foreign JSON)."""


class NezhaNotFoundError(NezhaNotDashboardError):
    """HTTP 404 for one route: a release without it, or a proxy that forwards only some paths."""


class NezhaResponseError(NezhaError):
    """The dashboard answered with something the client cannot use."""

    def __init__(self, message: str, reason: str = "") -> None:
        """Keep the dashboard's own words when it gave a reason (``{"error": ...}``)."""
        super().__init__(message)
        self.reason = reason


class NezhaRateLimitError(NezhaConnectionError):
    """The dashboard (or a proxy in front of it) asked the client to slow down."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        """Keep the delay the dashboard asked for, when it gave one."""
        super().__init__(message)
        self.retry_after = retry_after


class NezhaTokenExpiredError(NezhaAuthError):
    """The dashboard knows the API token, but it has expired."""


class NezhaMissingScopeError(NezhaAuthError):
    """The API token is valid but lacks a scope the request needs."""

    def __init__(self, message: str, scope: str) -> None:
        """Keep the scope the dashboard named (a fixed identifier, never the token)."""
        super().__init__(message)
        self.scope = scope


class MetricsErrorReason(StrEnum):
    """Why a v2 dashboard refused a metric history (its answers are HTTP 200 errors)."""

    UNKNOWN_METRIC = "unknown_metric"
    BAD_PERIOD = "bad_period"
    # Without credentials only the last day is given.
    GUESTS_ONE_DAY = "guests_one_day"
    # The server is unknown or hidden from these credentials (its text is translated).
    SERVER = "server"
    # The dashboard has no metric history at all (v0, v1).
    UNSUPPORTED = "unsupported"


class NezhaMetricsError(NezhaResponseError):
    """The dashboard refused a metric history request; ``reason`` says why."""

    def __init__(self, message: str, reason: MetricsErrorReason) -> None:
        """Keep the reason (fixed identifiers, never the token)."""
        super().__init__(message)
        self.reason = reason
