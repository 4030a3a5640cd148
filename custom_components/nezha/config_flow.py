"""Config flow: dashboard URL and API token (or a login on v1), checked against the dashboard.

Also reauthentication (new token, or new login on v1), reconfiguration (URL, token, TLS check)
and options (online threshold, tags or server groups). The polling interval is not an option:
it is chosen per dashboard line, as Home Assistant's integrations do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import (
    CONF_PASSWORD,
    CONF_TOKEN,
    CONF_URL,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
)
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.translation import async_get_translations
import probatio as vol
from yarl import URL

from .alerts import async_refuses_private, has_url
from .api import (
    DashboardFlavor,
    DashboardSnapshot,
    NezhaAuthError,
    NezhaClient,
    NezhaConnectionError,
    NezhaError,
    NezhaInvalidUrlError,
    NezhaMissingScopeError,
    NezhaNotDashboardError,
    NezhaSSLError,
    NezhaTokenExpiredError,
    normalize_url,
)
from .const import (
    CONF_ALERT_GROUPS,
    CONF_ALERTS,
    CONF_EXPIRING_DAYS,
    CONF_FLAVOR,
    CONF_FULL_DETAIL,
    CONF_HISTORY,
    CONF_HISTORY_DAYS,
    CONF_ONLINE_THRESHOLD,
    CONF_TAGS,
    DEFAULT_EXPIRING_DAYS,
    DEFAULT_HISTORY_DAYS,
    DEFAULT_ONLINE_THRESHOLD,
    DOMAIN,
    LOGGER,
    MAX_EXPIRING_DAYS,
    MAX_HISTORY_DAYS,
    MAX_ONLINE_THRESHOLD,
    MIN_EXPIRING_DAYS,
    MIN_ONLINE_THRESHOLD,
)
from .coordinator import NezhaConfigEntry

_URL_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.URL, autocomplete="url"))
_TOKEN_SELECTOR = TextSelector(
    TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="off")
)

REAUTH_SCHEMA = vol.Schema({vol.Required(CONF_TOKEN): _TOKEN_SELECTOR})
# The first step for every dashboard line: a v1 dashboard has no API tokens (it asks for a
# login next), so the token may be left empty there.
FIRST_STEP_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_URL): _URL_SELECTOR,
        vol.Optional(CONF_TOKEN, default=""): _TOKEN_SELECTOR,
        vol.Required(CONF_VERIFY_SSL, default=True): bool,
    }
)
# Example addresses for the URL field's help text: translations may not contain URLs
# (hassfest), so the forms pass them in as placeholders.
URL_EXAMPLES: Final[dict[str, str]] = {
    "example_url": "https://status.example.com",
    "example_subpath_url": "https://example.com/nezha",
}
LOGIN_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_USERNAME): TextSelector(
            TextSelectorConfig(type=TextSelectorType.TEXT, autocomplete="username")
        ),
        vol.Required(CONF_PASSWORD): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="current-password")
        ),
    }
)

# Which form field an error of the client belongs to, and its translation key; the first
# matching class wins, so subclasses come before their bases.
_ERRORS: Final[tuple[tuple[type[NezhaError], str, str], ...]] = (
    (NezhaMissingScopeError, CONF_TOKEN, "missing_scope"),
    (NezhaTokenExpiredError, CONF_TOKEN, "token_expired"),
    (NezhaAuthError, CONF_TOKEN, "invalid_auth"),
    (NezhaSSLError, CONF_URL, "ssl_error"),
    (NezhaConnectionError, CONF_URL, "cannot_connect"),
    (NezhaNotDashboardError, CONF_URL, "not_nezha"),
    (NezhaInvalidUrlError, CONF_URL, "invalid_url"),
)


def _title(url: str) -> str:
    """Host and sub-path of the dashboard, e.g. ``status.example.com/nezha``."""
    parsed = URL(url)
    return f"{parsed.host}{parsed.path.rstrip('/')}"


def _same_dashboard(old: DashboardSnapshot, new: DashboardSnapshot) -> bool:
    """Whether two snapshots plausibly come from one dashboard.

    A dashboard that moved keeps its servers (ids and names); an unrelated one shares none.
    With no servers on either side there is nothing to tell, so it passes.
    """
    if not old.servers or not new.servers:
        return True
    old_pairs = {(server.id, server.name) for server in old.servers.values()}
    return any((server.id, server.name) in old_pairs for server in new.servers.values())


def _explain_empty_token(user_input: Mapping[str, Any], errors: dict[str, str]) -> None:
    """An empty token refused: the dashboard is v0 or v2 (v1 would have asked for a login)."""
    if not user_input[CONF_TOKEN] and errors.get(CONF_TOKEN) == "invalid_auth":
        errors[CONF_TOKEN] = "token_required"


class NezhaConfigFlow(ConfigFlow, domain=DOMAIN):
    """Handle a config flow for Nezha Monitoring."""

    VERSION = 1
    # 1.2: no update interval option (see async_migrate_entry).
    MINOR_VERSION = 2

    def __init__(self) -> None:
        """Start with nothing learned about the dashboard."""
        self._flavor: DashboardFlavor | None = None
        self._pending: dict[str, Any] = {}

    async def _async_check(
        self, data: Mapping[str, Any]
    ) -> tuple[str | None, DashboardSnapshot | None, dict[str, str]]:
        """Try the dashboard: its normalised URL, what it answered, and form errors."""
        url: str | None = None
        try:
            url = normalize_url(data[CONF_URL])
            client = NezhaClient(
                async_get_clientsession(self.hass, data[CONF_VERIFY_SSL]),
                url,
                data.get(CONF_TOKEN, ""),
                username=data.get(CONF_USERNAME, ""),
                password=data.get(CONF_PASSWORD, ""),
            )
            self._flavor = await client.async_detect_flavor()
            if self._flavor is DashboardFlavor.V1 and not client.uses_login:
                # No API tokens on v1: the caller asks for a login.
                return url, None, {}
            snapshot = await client.async_get_servers()
        except NezhaError as err:
            for error_type, field, key in _ERRORS:
                if isinstance(err, error_type):
                    return url, None, {field: key}
            LOGGER.debug("Unexpected answer from the dashboard: %s", err)
            return url, None, {"base": "unknown"}
        except Exception:  # noqa: BLE001 - a config flow must never crash on a dashboard
            LOGGER.exception("Unexpected error while checking the dashboard")
            return url, None, {"base": "unknown"}
        return url, snapshot, {}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the dashboard URL and token."""
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input = {**user_input, CONF_TOKEN: user_input.get(CONF_TOKEN, "").strip()}
            url, snapshot, errors = await self._async_check(user_input)
            _explain_empty_token(user_input, errors)
            if url is not None and not errors:
                await self.async_set_unique_id(url)
                self._abort_if_unique_id_configured()
                if snapshot is None:
                    # A v1 dashboard: read it with a login.
                    self._pending = {**user_input, CONF_URL: url, CONF_TOKEN: ""}
                    return await self.async_step_login()
                return self.async_create_entry(
                    title=_title(url),
                    data={**user_input, CONF_URL: url, CONF_FLAVOR: snapshot.flavor.value},
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(FIRST_STEP_SCHEMA, user_input),
            description_placeholders=URL_EXAMPLES,
            errors=errors,
        )

    async def async_step_login(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """A v1 dashboard has no API tokens: ask for the login of a dashboard user."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**self._pending, **user_input}
            _, snapshot, errors = await self._async_check(data)
            if CONF_TOKEN in errors:
                # The login itself was refused: it belongs to the whole form.
                errors = {"base": errors[CONF_TOKEN]}
            if snapshot is not None and not errors:
                return self.async_create_entry(
                    title=_title(data[CONF_URL]),
                    data={**data, CONF_FLAVOR: snapshot.flavor.value},
                )
        return self.async_show_form(
            step_id="login",
            data_schema=self.add_suggested_values_to_schema(LOGIN_SCHEMA, user_input),
            description_placeholders={"url": self._pending[CONF_URL]},
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The dashboard refused the credentials: ask for a new token, or a new login on v1."""
        if entry_data.get(CONF_USERNAME) and not entry_data.get(CONF_TOKEN):
            return await self.async_step_reauth_login()
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_login(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A v1 dashboard refused the login itself: ask for the user's current login."""
        entry = self._get_reauth_entry()
        return await self._async_reauth_form(
            "reauth_login", LOGIN_SCHEMA, user_input, {CONF_USERNAME: entry.data[CONF_USERNAME]}
        )

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask only for the new token and check it against the same dashboard."""
        return await self._async_reauth_form("reauth_confirm", REAUTH_SCHEMA, user_input, {})

    async def _async_reauth_form(
        self,
        step_id: str,
        schema: vol.Schema,
        user_input: dict[str, Any] | None,
        suggested: dict[str, Any],
    ) -> ConfigFlowResult:
        """Check new credentials against the entry's dashboard; save them and reload once accepted.

        An error about a field the form does not have (the URL; the token on a login form)
        belongs to the whole form.
        """
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            _, _, errors = await self._async_check({**entry.data, **user_input})
            fields = {str(key) for key in schema.schema}
            errors = {(key if key in fields else "base"): error for key, error in errors.items()}
            if not errors:
                return self.async_update_reload_and_abort(entry, data_updates=user_input)
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, user_input or suggested),
            description_placeholders={"title": entry.title},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change URL, token or TLS verification of an existing entry."""
        entry: NezhaConfigEntry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            # A v1 entry keeps its login; the form only changes URL, token and TLS check.
            user_input = {**user_input, CONF_TOKEN: user_input.get(CONF_TOKEN, "").strip()}
            url, snapshot, errors = await self._async_check({**entry.data, **user_input})
            if not entry.data.get(CONF_USERNAME):
                _explain_empty_token(user_input, errors)
            if snapshot is None and not errors:
                # Reached a v1 dashboard without a login: that needs the setup's login step.
                errors["base"] = "login_required"
            if url is not None and snapshot is not None and not errors:
                if any(
                    other.unique_id == url and other.entry_id != entry.entry_id
                    for other in self._async_current_entries(include_ignore=False)
                ):
                    return self.async_abort(reason="already_configured")
                old = getattr(entry, "runtime_data", None)
                if old is not None and not _same_dashboard(old.coordinator.data, snapshot):
                    errors["base"] = "different_dashboard"
                else:
                    return self.async_update_reload_and_abort(
                        entry,
                        unique_id=url,
                        title=_title(url),
                        data_updates={
                            **user_input,
                            CONF_URL: url,
                            CONF_FLAVOR: snapshot.flavor.value,
                        },
                    )
        suggested = user_input or {
            CONF_URL: entry.data[CONF_URL],
            CONF_TOKEN: entry.data.get(CONF_TOKEN, ""),
            CONF_VERIFY_SSL: entry.data[CONF_VERIFY_SSL],
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(FIRST_STEP_SCHEMA, suggested),
            description_placeholders=URL_EXAMPLES,
            errors=errors,
        )

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: NezhaConfigEntry) -> NezhaOptionsFlow:
        """Create the options flow."""
        return NezhaOptionsFlow()


class NezhaOptionsFlow(OptionsFlowWithReload):
    """Online threshold, expiring-soon days, tags and full detail; saving reloads the entry."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the options; tags are those the dashboard reports, plus any chosen before.

        On v1/v2 also the alerts: whether to receive them, and from which notification
        groups. A dashboard that refuses private addresses (v2.1.0+) needs a public URL of
        Home Assistant: without one, turning alerts on is explained instead of saved.
        """
        entry: NezhaConfigEntry = self.config_entry
        runtime = getattr(entry, "runtime_data", None)
        client: NezhaClient | None = runtime.client if runtime is not None else None
        errors: dict[str, str] = {}
        groups: dict[str, str] = {}
        # Why the groups could not be listed (an error key), said in the form's description:
        # an error banner only once alerts are asked for, as only they need the dashboard.
        unlisted = ""
        if client is not None and client.supports_alerts:
            try:
                groups = {
                    str(group.id): group.name
                    for group in (await client.async_get_notification_groups()).values()
                }
            except NezhaMissingScopeError:
                unlisted = "alerts_scope"
            except NezhaError:
                unlisted = "cannot_connect"
        if user_input is not None:
            if not user_input.get(CONF_ALERTS):
                # Nothing to check: the other options never needed the dashboard.
                return self.async_create_entry(data=user_input)
            if unlisted:
                errors["base"] = unlisted
            elif client is not None:
                try:
                    public = await async_refuses_private(client)
                except NezhaError:
                    errors["base"] = "cannot_connect"
                else:
                    if not has_url(self.hass, public=public):
                        errors["base"] = "alerts_need_external_url"
            if not errors:
                return self.async_create_entry(data=user_input)
        return self.async_show_form(
            step_id="init",
            data_schema=self._schema(entry, groups, client is not None and client.supports_alerts),
            errors=errors,
            description_placeholders={"alerts_note": await self._async_note(unlisted)},
        )

    async def _async_note(self, unlisted: str) -> str:
        """The sentence, in Home Assistant's language, on why no group could be listed."""
        if not unlisted:
            return ""
        language = self.hass.config.language
        texts = await async_get_translations(self.hass, language, "options", [DOMAIN])
        text = texts.get(f"component.{DOMAIN}.options.error.{unlisted}", "")
        # A paragraph of its own after the description (markdown).
        return f"\n\n{text}" if text else ""

    @staticmethod
    def _schema(entry: NezhaConfigEntry, groups: dict[str, str], alerts: bool) -> vol.Schema:
        runtime = getattr(entry, "runtime_data", None)
        chosen: list[str] = entry.options.get(CONF_TAGS, [])
        detailed: list[str] = entry.options.get(CONF_FULL_DETAIL, [])
        reported = runtime.coordinator.dashboard_tags if runtime is not None else frozenset()
        tags = sorted(reported | set(chosen) | set(detailed))

        schema: dict[vol.Marker, Any] = {
            vol.Required(
                CONF_ONLINE_THRESHOLD,
                default=entry.options.get(CONF_ONLINE_THRESHOLD, DEFAULT_ONLINE_THRESHOLD),
            ): NumberSelector(
                NumberSelectorConfig(
                    min=MIN_ONLINE_THRESHOLD,
                    max=MAX_ONLINE_THRESHOLD,
                    step=1,
                    unit_of_measurement="s",
                    mode=NumberSelectorMode.BOX,
                )
            ),
        }
        client = runtime.client if runtime is not None else None
        if client is not None and client.supports_notes:
            # Billing comes from public notes, which v0 dashboards do not send.
            schema[
                vol.Required(
                    CONF_EXPIRING_DAYS,
                    default=entry.options.get(CONF_EXPIRING_DAYS, DEFAULT_EXPIRING_DAYS),
                )
            ] = NumberSelector(
                NumberSelectorConfig(
                    min=MIN_EXPIRING_DAYS,
                    max=MAX_EXPIRING_DAYS,
                    step=1,
                    unit_of_measurement="d",
                    mode=NumberSelectorMode.BOX,
                )
            )
        if tags:
            for key, default in ((CONF_TAGS, chosen), (CONF_FULL_DETAIL, detailed)):
                schema[vol.Optional(key, default=default)] = SelectSelector(
                    SelectSelectorConfig(
                        options=tags, multiple=True, mode=SelectSelectorMode.LIST, sort=True
                    )
                )
        if alerts:
            schema[vol.Required(CONF_ALERTS, default=entry.options.get(CONF_ALERTS, False))] = bool
            picked: list[str] = entry.options.get(CONF_ALERT_GROUPS, [])
            # Groups deleted on the dashboard stay listed while chosen, so saving keeps them.
            names = groups | {group: f"#{group}" for group in picked if group not in groups}
            schema[vol.Optional(CONF_ALERT_GROUPS, default=picked)] = SelectSelector(
                SelectSelectorConfig(
                    options=[
                        SelectOptionDict(value=value, label=label) for value, label in names.items()
                    ],
                    multiple=True,
                    mode=SelectSelectorMode.LIST,
                    sort=True,
                )
            )
        if runtime is not None and runtime.client.supports_metrics:
            schema[vol.Required(CONF_HISTORY, default=entry.options.get(CONF_HISTORY, True))] = bool
            schema[
                vol.Required(
                    CONF_HISTORY_DAYS,
                    default=entry.options.get(CONF_HISTORY_DAYS, DEFAULT_HISTORY_DAYS),
                )
            ] = NumberSelector(
                NumberSelectorConfig(
                    min=1,
                    max=MAX_HISTORY_DAYS,
                    step=1,
                    unit_of_measurement="d",
                    mode=NumberSelectorMode.BOX,
                )
            )
        return vol.Schema(schema)
