"""Repairs: the issues this integration raises, each switched on or off by one helper.

None is fixable by a flow: each says what to change on the dashboard or in the options, and
goes away by itself once the next answer shows it changed.
"""

from __future__ import annotations

from typing import Literal, get_args

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN

# The dashboard's clock is off; the chosen tags are gone; a v2 token cannot read services, or
# scheduled tasks, or manage the notification channel; the dashboard cannot reach Home
# Assistant (it refuses private addresses, or its test message failed); the dashboard has more
# entities than Home Assistant enables per entry.
type Issue = Literal[
    "clock_skew",
    "tags_not_found",
    "service_scope",
    "entity_cap",
    "cron_scope",
    "alerts_scope",
    "alerts_need_external_url",
    "alerts_not_delivered",
]
# Every issue, for clearing them all on unload: read off the type, so the two cannot differ.
ISSUES: tuple[Issue, ...] = get_args(Issue.__value__)


def _issue_id(entry: ConfigEntry, issue: Issue) -> str:
    return f"{issue}_{entry.entry_id}"


@callback
def async_set_issue(
    hass: HomeAssistant,
    entry: ConfigEntry,
    issue: Issue,
    active: bool,
    **placeholders: str,
) -> None:
    """Raise the issue for this entry, or clear it; the entry's title is always a placeholder."""
    issue_id = _issue_id(entry, issue)
    if not active:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=issue,
        translation_placeholders={"title": entry.title, **placeholders},
    )


@callback
def async_clear_issues(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Remove every issue of the entry (on unload; each is raised again if still true)."""
    for issue in ISSUES:
        ir.async_delete_issue(hass, DOMAIN, _issue_id(entry, issue))
