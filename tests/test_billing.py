"""Billing and plan from the servers' public notes, through Home Assistant against the fake.

A note written in the community themes' convention gives a server *Expires*, *Price*,
*Auto-renewal*, *Expiring soon* and the plan's figures; they change and vanish with the note,
stay while the agent is silent, and a v1/v2 stream (which sends notes in a connection's first
frame only) keeps them and learns changes from a REST read every ten minutes.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
import logging

from aiohttp import web
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.sensor import ATTR_STATE_CLASS, SensorDeviceClass
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    EntityCategory,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_platform, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
)

from custom_components.nezha import (
    budget as nezha_budget,
    coordinator as nezha_coordinator,
)
from custom_components.nezha.const import CONF_EXPIRING_DAYS, DOMAIN
from fake_dashboard import FakeDashboard, make_server
from tests.helpers import (
    BANDWIDTH,
    BILLING,
    CPU,
    DAY,
    EXAMPLE_NOW,
    EXPIRES,
    EXPIRING,
    ONLINE,
    PRICE,
    RENEWAL,
    SERVER,
    STREAM,
    TRAFFIC,
    Clock,
    MakeEntry,
    Refresh,
    SetupEntry,
    StopDashboard,
    billing_note,
    note_end,
    start_dashboard,
    wait_for,
)


def _above_debug(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno > logging.DEBUG and record.name.startswith("custom_components.nezha")
    ]


@pytest.fixture(params=["v1", "v2"])
async def polled(
    request: pytest.FixtureRequest,
    clock: Clock,
    socket_enabled: None,
    stop_dashboard: StopDashboard,
) -> AsyncGenerator[FakeDashboard]:
    """A v1, then a v2 dashboard whose Server1 has the issue's note; stream off (polled)."""
    fake = await start_dashboard(clock, request.param)
    fake.stream_enabled = False
    fake.servers[1].public_note = billing_note()
    yield fake
    await stop_dashboard(fake)


@pytest.fixture
def poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> Refresh:
    """Move time one polling interval on and wait until the servers' refresh was handled.

    The stream task (trying again in the background) never ends: wait for the coordinator to
    tell its listeners, not for every background task.
    """

    async def _poll(seconds: float = 30) -> None:
        coordinator = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.coordinator
        done = hass.loop.create_future()
        unsubscribe = coordinator.async_add_listener(lambda: done.done() or done.set_result(None))
        try:
            freezer.tick(timedelta(seconds=seconds))
            async_fire_time_changed(hass)
            await done
        finally:
            unsubscribe()
        await hass.async_block_till_done()

    return _poll


def _registered(hass: HomeAssistant) -> set[str]:
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    registry = er.async_get(hass)
    return {
        item.entity_id
        for item in er.async_entries_for_config_entry(registry, entry.entry_id)
        if item.entity_id in BILLING
    }


async def test_billing_entities_from_thebilling_note(
    hass: HomeAssistant,
    polled: FakeDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """The issue's note: every billing and plan entity, as the note says; none elsewhere."""
    await setup_entry(make_entry(polled))

    expires = hass.states.get(EXPIRES)
    assert expires is not None
    assert expires.state == datetime.fromtimestamp(EXAMPLE_NOW + 20 * DAY, UTC).isoformat()
    assert expires.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.TIMESTAMP

    price = hass.states.get(PRICE)
    assert price is not None
    assert price.state == "3.99"
    assert price.attributes[ATTR_UNIT_OF_MEASUREMENT] == "USD"
    assert price.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.MONETARY
    # A price is not a measurement: no statistics.
    assert ATTR_STATE_CLASS not in price.attributes
    assert price.attributes["amount"] == "$3.99"
    assert price.attributes["cycle"] == "月"

    expiring = hass.states.get(EXPIRING)
    assert expiring is not None
    assert expiring.state == STATE_OFF
    assert expiring.attributes[ATTR_DEVICE_CLASS] == "problem"
    assert expiring.attributes["expires"] == expires.state
    assert hass.states.get(RENEWAL).state == STATE_ON  # type: ignore[union-attr]
    assert hass.states.get(BANDWIDTH).state == "30Mbps"  # type: ignore[union-attr]
    assert hass.states.get(TRAFFIC).state == "1TB/月"  # type: ignore[union-attr]

    registry = er.async_get(hass)
    for entity_id in (BANDWIDTH, TRAFFIC):
        item = registry.async_get(entity_id)
        assert item is not None
        assert item.entity_category is EntityCategory.DIAGNOSTIC
    # Server2 has no note: no billing entity at all.
    assert hass.states.get("sensor.server2_cpu_usage") is not None
    for entity_id in BILLING:
        assert hass.states.get(entity_id.replace("server1", "server2")) is None


async def test_billing_follows_thebilling_note(
    hass: HomeAssistant,
    polled: FakeDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
    poll: Refresh,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A note changed on the dashboard updates, adds and removes entities at the next refresh."""
    await setup_entry(make_entry(polled))
    assert _registered(hass) == set(BILLING)
    caplog.clear()

    # Three days left, a price in renminbi, no word on renewal: updated, and one goes.
    polled.servers[1].public_note = billing_note(
        endDate=note_end(3), amount="¥30", autoRenewal=None
    )
    await poll()
    assert hass.states.get(EXPIRING).state == STATE_ON  # type: ignore[union-attr]
    assert hass.states.get(EXPIRES).state == (  # type: ignore[union-attr]
        datetime.fromtimestamp(EXAMPLE_NOW + 3 * DAY, UTC).isoformat()
    )
    price = hass.states.get(PRICE)
    assert price is not None
    assert (price.state, price.attributes[ATTR_UNIT_OF_MEASUREMENT]) == ("30.0", "CNY")
    assert hass.states.get(RENEWAL) is None
    assert _registered(hass) == set(BILLING) - {RENEWAL}

    # An amount that cannot be read: unknown, the text kept; renewal is back.
    polled.servers[1].public_note = billing_note(amount="免费", autoRenewal=0)
    await poll()
    price = hass.states.get(PRICE)
    assert price is not None
    assert price.state == STATE_UNKNOWN
    assert ATTR_UNIT_OF_MEASUREMENT not in price.attributes
    assert price.attributes["amount"] == "免费"
    assert hass.states.get(RENEWAL).state == STATE_OFF  # type: ignore[union-attr]
    assert hass.states.get(EXPIRING).state == STATE_OFF  # type: ignore[union-attr]

    # Never expires: nothing to show as a date, and never expiring soon.
    polled.servers[1].public_note = billing_note(endDate="0000-00-00T23:59:59+08:00")
    await poll()
    assert hass.states.get(EXPIRES) is None
    assert hass.states.get(EXPIRING).state == STATE_OFF  # type: ignore[union-attr]

    # Plain text, then JSON of another shape: every billing entity goes, nothing is logged.
    for note in ("Tokyo, renews monthly", '{"price": 5}'):
        polled.servers[1].public_note = note
        await poll()
        assert _registered(hass) == set()
        assert all(hass.states.get(entity_id) is None for entity_id in BILLING)
    assert _above_debug(caplog) == []

    # Written again: they come back.
    polled.servers[1].public_note = billing_note()
    await poll()
    assert _registered(hass) == set(BILLING)
    assert hass.states.get(PRICE).state == "3.99"  # type: ignore[union-attr]


async def test_a_server_that_leaves_comes_back_with_its_billing(
    hass: HomeAssistant,
    polled: FakeDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
    poll: Refresh,
) -> None:
    """Deleted on the dashboard, its device and billing go; added again, they come back."""
    await setup_entry(make_entry(polled))
    server = polled.servers[1]
    polled.remove(1)
    await poll()
    assert _registered(hass) == set()
    polled.add(server)
    await poll()
    assert _registered(hass) == set(BILLING)
    assert hass.states.get(PRICE).state == "3.99"  # type: ignore[union-attr]


async def test_expiry_is_judged_as_time_passes(
    hass: HomeAssistant,
    polled: FakeDashboard,
    clock: Clock,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
    poll: Refresh,
) -> None:
    """The same note: off 20 days before, on within 7 days, and still on once expired."""
    await setup_entry(make_entry(polled))
    assert hass.states.get(EXPIRING).state == STATE_OFF  # type: ignore[union-attr]
    for days, expected in ((12, STATE_OFF), (14, STATE_ON), (30, STATE_ON)):
        clock.now = EXAMPLE_NOW + days * DAY
        polled.tick(0)
        await poll()
        assert hass.states.get(EXPIRING).state == expected, days  # type: ignore[union-attr]


async def test_threshold_from_the_options(
    hass: HomeAssistant, polled: FakeDashboard, make_entry: MakeEntry, setup_entry: SetupEntry
) -> None:
    """A 30-day threshold makes 20 days left "expiring soon"; the option is offered on v1/v2."""
    entry = make_entry(polled)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={CONF_EXPIRING_DAYS: 30})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(EXPIRING).state == STATE_ON  # type: ignore[union-attr]

    result = await hass.config_entries.options.async_init(entry.entry_id)
    schema = result["data_schema"].schema
    key = next(key for key in schema if key == CONF_EXPIRING_DAYS)
    assert key.default() == 30
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"online_threshold": 30, CONF_EXPIRING_DAYS: 7}
    )
    await hass.async_block_till_done()
    assert entry.options[CONF_EXPIRING_DAYS] == 7
    assert hass.states.get(EXPIRING).state == STATE_OFF  # type: ignore[union-attr]


async def test_billing_stays_while_the_agent_is_silent(
    hass: HomeAssistant,
    polled: FakeDashboard,
    clock: Clock,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
    poll: Refresh,
) -> None:
    """An offline server's readings are unavailable; what its note says is not."""
    await setup_entry(make_entry(polled))
    polled.agent_disconnect(1)
    clock.now += 120
    await poll()
    assert hass.states.get(CPU).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    for entity_id in BILLING:
        assert hass.states.get(entity_id).state != STATE_UNAVAILABLE, entity_id  # type: ignore[union-attr]


async def test_stream_keeps_notes_between_connections(
    hass: HomeAssistant,
    clock: Clock,
    socket_enabled: None,
    stop_dashboard: StopDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
) -> None:
    """Frames after a connection's first carry no note: the entities stay, and a changed note
    is not learned from them (nor read over REST before ten minutes); a new connection is."""
    fake = await start_dashboard(clock, "v2")
    fake.frame_interval = 0.05
    fake.servers[1].public_note = billing_note()
    try:
        await setup_entry(make_entry(fake))
        coordinator = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.coordinator
        await wait_for(lambda: coordinator.stream_connected)
        assert hass.states.get(PRICE).state == "3.99"  # type: ignore[union-attr]
        rest = fake.requests[SERVER]
        # Later frames are handed over when a server goes off- or online: no note in them.
        fake.agent_disconnect(1)
        await wait_for(lambda: hass.states.get(ONLINE).state == STATE_OFF)  # type: ignore[union-attr]
        fake.agent_reconnect(1)
        await wait_for(lambda: hass.states.get(ONLINE).state == STATE_ON)  # type: ignore[union-attr]
        await hass.async_block_till_done()
        assert _registered(hass) == set(BILLING)
        assert hass.states.get(PRICE).state == "3.99"  # type: ignore[union-attr]
        frames = fake.frames_sent

        fake.servers[1].public_note = billing_note(amount="€5", autoRenewal=None)
        await wait_for(lambda f=frames: fake.frames_sent >= f + 5)
        await hass.async_block_till_done()
        assert hass.states.get(PRICE).state == "3.99"  # type: ignore[union-attr]
        assert fake.requests[SERVER] == rest

        # A new connection's first frame tells every note again.
        await fake.drop_streams()
        await wait_for(lambda: hass.states.get(PRICE).state == "5.0")  # type: ignore[union-attr]
        await hass.async_block_till_done()
        assert hass.states.get(PRICE).attributes[ATTR_UNIT_OF_MEASUREMENT] == "EUR"  # type: ignore[union-attr]
        assert hass.states.get(RENEWAL) is None
    finally:
        await stop_dashboard(fake)


async def test_stream_reads_notes_on_a_slow_cadence(
    hass: HomeAssistant,
    clock: Clock,
    socket_enabled: None,
    stop_dashboard: StopDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While streaming, the servers are read over REST on the notes' cadence (ten minutes,
    one second here): a changed note is learned, polling stays paused, and a failed read
    changes nothing."""
    monkeypatch.setattr(nezha_coordinator, "NOTES_INTERVAL", timedelta(seconds=1))
    fake = await start_dashboard(clock, "v2")
    fake.frame_interval = 0.05
    fake.servers[1].public_note = billing_note()
    try:
        await setup_entry(make_entry(fake))
        coordinator = hass.config_entries.async_entries(DOMAIN)[0].runtime_data.coordinator
        await wait_for(lambda: coordinator.stream_connected)
        rest = fake.requests[SERVER]
        fake.servers[1].public_note = billing_note(amount="€5", autoRenewal=None)
        await wait_for(lambda: hass.states.get(PRICE).state == "5.0")  # type: ignore[union-attr]
        await hass.async_block_till_done()
        assert hass.states.get(RENEWAL) is None
        assert fake.requests[SERVER] > rest
        assert fake.requests[STREAM] == 1
        assert coordinator.stream_connected
        assert coordinator.update_interval is None

        # A read that fails (the dashboard answers 500) leaves every entity as it was.
        async def refuse(request: web.Request) -> web.Response | None:
            if request.path == SERVER:
                return web.Response(status=500)
            return None

        fake.hook = refuse
        failed = fake.requests[SERVER]
        await wait_for(lambda: fake.requests[SERVER] > failed)
        await hass.async_block_till_done()
        assert hass.states.get(PRICE).state == "5.0"  # type: ignore[union-attr]
        assert hass.states.get(CPU).state != STATE_UNAVAILABLE  # type: ignore[union-attr]
        assert coordinator.last_update_success
    finally:
        await stop_dashboard(fake)


async def test_billing_ranks_right_after_online_in_the_budget(
    hass: HomeAssistant,
    clock: Clock,
    socket_enabled: None,
    stop_dashboard: StopDashboard,
    make_entry: MakeEntry,
    setup_entry: SetupEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the entity cap every server keeps its online sensor, then its billing entities,
    before its readings; the plan's figures go with the other diagnostics."""
    monkeypatch.setattr(entity_platform, "MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY", 500)
    monkeypatch.setattr(nezha_budget, "MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY", 500)
    fake = await start_dashboard(clock, "v2")
    fake.stream_enabled = False
    for server_id in range(10, 30):
        server = make_server(server_id, now=clock.now)
        server.public_note = billing_note()
        fake.add(server)
    fake.servers[1].public_note = billing_note()
    try:
        await setup_entry(make_entry(fake))
        entry = hass.config_entries.async_entries(DOMAIN)[0]
        registry = er.async_get(hass)
        by_key: dict[str, set[str]] = {}
        for item in er.async_entries_for_config_entry(registry, entry.entry_id):
            server_id, key = item.unique_id.removeprefix(f"{entry.entry_id}_").split("_", 1)
            if server_id.isdigit():
                by_key.setdefault(key, set()).add(server_id)
        noted = {str(server_id) for server_id in (1, *range(10, 30))}
        assert len(by_key["online"]) == len(fake.servers)
        for key in ("billing_expiring_soon", "billing_auto_renewal"):
            assert by_key[key] == noted, key
        for key in ("billing_expires", "billing_price"):
            assert by_key[key] == noted, key
        # The share ran out before the last readings and the plan's figures.
        assert len(by_key["cpu"]) == len(fake.servers)
        for key in ("ipv4", "country_code", "plan_bandwidth", "plan_traffic_volume"):
            assert key not in by_key, key
    finally:
        await stop_dashboard(fake)
