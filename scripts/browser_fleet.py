"""The fleet card in the browser check: added through the UI editor, compared, photographed, timed.

On the demo (six servers) the card is added to an empty dashboard the way a user does it (edit
mode, *Add card*, the card picker, the card's own editor, *Save*): the picker finds it with no
resource added by hand. Then every server the card shows is compared with Home Assistant's
entities (device, entity, formatted state, online dot), and the card is photographed in light
and dark, at desktop and phone width. With a large fleet (``--fleet 1000``) the card is put
on a dashboard directly and its first render and update times are measured in the browser.
"""

from __future__ import annotations

from pathlib import Path
import statistics
import time
from typing import Any

from playwright.async_api import Page

from scripts.demo_stack import HassClient, StackError

CARD = "nezha-fleet-card"
DASHBOARD = "nezha-fleet"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WAIT_MS = 60_000

# What the card shows against Home Assistant's own data, read in the page from the same hass
# object the card rendered from: per tile the device and its name, its flag (country sensor),
# per value the entity (of that device, with that translation key) and its formatted state, the
# online dot; and which
# servers of the entry are shown (all of them, or a full first page).
COMPARE_JS = """
async (card) => {
  await card.updateComplete;
  const hass = card.hass;
  const root = card.shadowRoot;
  const problems = [];
  let values = 0;
  const entry = card._config.entry;
  const servers = Object.values(hass.entities).filter(
    (e) => e.platform === "nezha" && e.translation_key === "online" && e.device_id
      && hass.devices[e.device_id].config_entries.includes(entry),
  ).map((e) => e.device_id);
  const tiles = [...root.querySelectorAll("[data-device]")];
  const expected = Math.min(servers.length, card._config.page_size);
  if (tiles.length !== expected) {
    problems.push(`${tiles.length} servers shown, ${expected} expected`);
  }
  for (const tile of tiles) {
    const device = hass.devices[tile.dataset.device];
    const name = tile.querySelector(".name .text").textContent.trim();
    if (!device || name !== (device.name_by_user || device.name)) {
      problems.push(`tile ${name} is not its device`);
      continue;
    }
    const online = Object.values(hass.entities).find(
      (e) => e.device_id === device.id && e.translation_key === "online");
    const dot = tile.querySelector(".dot");
    const state = hass.states[online.entity_id].state;
    const want = state === "on" ? "on" : state === "off" ? "off" : "unknown";
    if (!dot.classList.contains(want)) problems.push(`${name}: dot is not ${want}`);
    if ((state === "off") !== tile.classList.contains("offline")) {
      problems.push(`${name}: greyed ${tile.classList.contains("offline")} while ${state}`);
    }
    const country = Object.values(hass.entities).find(
      (e) => e.device_id === device.id && e.translation_key === "country_code");
    const code = country ? hass.states[country.entity_id]?.state : undefined;
    const flag = tile.querySelector(".flag")?.title;
    if (/^[A-Z]{2}$/.test(code ?? "") ? flag !== code : flag !== undefined) {
      problems.push(`${name}: flag ${flag} for country ${code}`);
    }
    for (const button of tile.querySelectorAll("[data-entity]")) {
      const entity = hass.entities[button.dataset.entity];
      const key = button.dataset.key;
      if (!entity || entity.device_id !== device.id || entity.translation_key !== key) {
        problems.push(`${name}: ${button.dataset.key} reads ${button.dataset.entity}`);
        continue;
      }
      const stateObj = hass.states[entity.entity_id];
      const shown = button.querySelector(".bar-value")?.textContent.trim()
        ?? button.textContent.trim();
      if (!stateObj || ["unavailable", "unknown"].includes(stateObj.state)) {
        // No value: a dash, no bar.
        if (shown !== "—" || button.querySelector(".fill")) {
          problems.push(`${name}: ${key} shows ${shown} without a value`);
        }
      } else if (button.dataset.key === "last_boot") {
        // Uptime: now minus the boot time, in days/hours/minutes.
        if (!/\\d/.test(shown)) problems.push(`${name}: uptime ${shown}`);
      } else if (shown !== hass.formatEntityState(stateObj)) {
        const want = hass.formatEntityState(stateObj);
        problems.push(`${name}: ${key} shows ${shown}, state ${want}`);
      }
      const bar = button.querySelector(".fill");
      const usage = ["cpu", "memory_usage", "disk_usage"].includes(key);
      if (usage && /^[\\d.]+$/.test(stateObj?.state ?? "")) {
        // A usage is a bar whose length is the value itself.
        const width = bar ? parseFloat(bar.style.width) : NaN;
        if (!(Math.abs(width - Number(stateObj.state)) <= 0.01)) {
          problems.push(`${name}: bar ${width} for ${stateObj.state}`);
        }
      }
      values += 1;
    }
  }
  return {problems, servers: tiles.length, values, total: servers.length};
}
"""


async def create_dashboard(hass: HassClient, cards: list[dict[str, Any]]) -> str:
    """An empty (or given) panel dashboard: the card gets the whole width."""
    (dashboards,) = await hass.ws({"type": "lovelace/dashboards/list"})
    if not any(d["url_path"] == DASHBOARD for d in dashboards):
        await hass.ws(
            {
                "type": "lovelace/dashboards/create",
                "url_path": DASHBOARD,
                "title": "Fleet",
                "icon": "mdi:server",
                "mode": "storage",
                "require_admin": False,
                "show_in_sidebar": True,
            }
        )
    view = {"title": "Fleet", "path": "fleet", "type": "panel", "cards": cards}
    await hass.ws(
        {"type": "lovelace/config/save", "url_path": DASHBOARD, "config": {"views": [view]}}
    )
    return f"/{DASHBOARD}/fleet"


async def add_card_through_ui(page: Page, hass_url: str, path: str, shots: Path) -> None:
    """Edit mode, *Add card*, the picker's search, the card's editor, *Save*, *Done*."""
    await page.goto(f"{hass_url}{path}?edit=1")
    try:
        await page.get_by_text("Add card", exact=True).first.click(timeout=WAIT_MS)
        await page.get_by_text("By card", exact=True).first.click(timeout=WAIT_MS)
        await page.get_by_placeholder("Search cards").fill("Nezha", timeout=WAIT_MS)
        # The picker draws each custom card's preview from its stub config.
        await page.locator(f"hui-card-picker {CARD}").first.wait_for(timeout=WAIT_MS)
        # The picker lays a transparent overlay over each card: the click lands on it.
        await page.get_by_text("Nezha fleet", exact=True).first.click(force=True)
        # The card's own editor: the entry it picked by default, then the live preview.
        await page.locator(f"{CARD}-editor ha-form").first.wait_for(timeout=WAIT_MS)
        await page.screenshot(path=shots / "screenshot-fleet-card-editor.png")
        print(f"  {shots / 'screenshot-fleet-card-editor.png'}")
        await page.get_by_role("button", name="Save").click()
        await page.get_by_role("button", name="Done").click(timeout=WAIT_MS)
    except Exception:
        await page.screenshot(path=shots / "screenshot-fleet-card-failed.png")
        raise
    print("  the fleet card was added through the card picker and its editor")


async def compare(page: Page) -> dict[str, Any]:
    """Assert that the card shows what Home Assistant's entities say; the counts."""
    card = page.locator(CARD).first
    await card.locator("[data-device]").first.wait_for(timeout=WAIT_MS)
    result: dict[str, Any] = await card.evaluate(COMPARE_JS)
    if result["problems"] or not result["values"]:
        msg = f"the fleet card differs from the entities: {result['problems'][:10]}"
        raise StackError(msg)
    print(
        f"    {result['servers']} of {result['total']} servers shown, "
        f"{result['values']} values equal their entities' states"
    )
    return result


async def shoot_card(page: Page, path: Path, *, dark: bool, phone: bool) -> None:
    """One photograph of the card's dashboard in a theme and width."""
    await page.emulate_media(color_scheme="dark" if dark else "light")
    await page.set_viewport_size(PHONE if phone else DESKTOP)
    await page.wait_for_timeout(1200)  # bars animate, the layout settles
    await compare(page)
    await page.screenshot(path=path)
    print(f"  {path}")


async def set_card(hass: HassClient, config: dict[str, Any]) -> None:
    """Replace the card's options (as its editor would), keeping the dashboard."""
    await create_dashboard(hass, [config])


async def card_config(hass: HassClient) -> dict[str, Any]:
    """The card's config as the UI editor saved it."""
    (config,) = await hass.ws({"type": "lovelace/config", "url_path": DASHBOARD})
    card: dict[str, Any] = config["views"][0]["cards"][0]
    if card.get("type") != f"custom:{CARD}" or not card.get("entry"):
        msg = f"the editor saved {card}"
        raise StackError(msg)
    return card


async def demo_shots(hass: HassClient, page: Page, hass_url: str, out: Path) -> dict[str, Any]:
    """The demo's card: added through the UI, compared, photographed in four looks."""
    path = await create_dashboard(hass, [])
    await add_card_through_ui(page, hass_url, path, out)
    config = await card_config(hass)
    await page.goto(f"{hass_url}{path}")
    await shoot_card(page, out / "screenshot-fleet-card.png", dark=False, phone=False)
    await shoot_card(page, out / "screenshot-fleet-card-dark.png", dark=True, phone=False)
    await set_card(hass, {**config, "compact": True})
    await page.goto(f"{hass_url}{path}")
    await shoot_card(page, out / "screenshot-fleet-card-phone.png", dark=False, phone=True)
    await shoot_card(page, out / "screenshot-fleet-card-phone-dark.png", dark=True, phone=True)
    await page.emulate_media(color_scheme="light")
    await page.set_viewport_size(DESKTOP)
    await set_card(hass, config)
    return config


async def chinese_shots(page: Page, hass_url: str, out: Path) -> None:
    """After the switch to Chinese: the card speaks it, at desktop and phone width."""
    await page.goto(f"{hass_url}/{DASHBOARD}/fleet")
    await page.locator(CARD).get_by_text("台在线").first.wait_for(timeout=WAIT_MS)
    text = await page.locator(CARD).first.evaluate(
        "(card) => card.shadowRoot.querySelector('ha-card').innerText"
    )
    english = [word for word in ("online", "Uptime", "Traffic", "Memory") if word in text]
    if english or "内存" not in text:
        msg = f"the fleet card is not in Chinese: English {english}"
        raise StackError(msg)
    await shoot_card(page, out / "screenshot-fleet-card-zh.png", dark=False, phone=False)
    await shoot_card(page, out / "screenshot-fleet-card-zh-phone.png", dark=True, phone=True)
    await page.emulate_media(color_scheme="light")
    await page.set_viewport_size(DESKTOP)


# Time the card in the page: from navigation to its first drawn tile, its own render time
# (Lit's update), and long tasks (main thread blocked > 50 ms) while states change.
OBSERVE_JS = """
() => {
  window.__nezhaLongTasks = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__nezhaLongTasks.push(entry.duration);
  }).observe({type: "longtask", buffered: false});
}
"""
STATS_JS = """
(card) => ({...card.stats, long_tasks: window.__nezhaLongTasks || []})
"""


async def fleet_figures(
    hass: HassClient,
    page: Page,
    hass_url: str,
    entry_id: str,
    any_entity: str,
    out: Path,
    updates: int,
) -> dict[str, Any]:
    """A large fleet: first render and update times, measured in the browser; shots.

    ``any_entity`` is an entity of the entry: asking it to update refreshes all of them.
    """
    config = {"type": f"custom:{CARD}", "entry": entry_id}
    path = await create_dashboard(hass, [config])
    # The page takes in a thousand servers' state changes on its main thread: on a loaded
    # machine a question to the card can wait past Playwright's default 30 s for its turn.
    page.set_default_timeout(WAIT_MS)
    started = time.monotonic()
    await page.goto(f"{hass_url}{path}")
    card = page.locator(CARD).first
    await card.locator("[data-device]").first.wait_for(timeout=WAIT_MS)
    shown = time.monotonic() - started
    stats: dict[str, Any] = await card.evaluate(STATS_JS)
    first_ms = stats["first_ms"]
    result = await compare(page)
    await page.evaluate(OBSERVE_JS)
    # Each refresh changes every server's values at once: the card's worst case.
    renders = []
    for _ in range(updates):
        before = (await card.evaluate(STATS_JS))["renders"]
        await hass.call_service("homeassistant", "update_entity", {"entity_id": any_entity})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            stats = await card.evaluate(STATS_JS)
            if stats["renders"] > before:
                renders.append(stats["last_ms"])
                break
            await page.wait_for_timeout(200)
        await page.wait_for_timeout(1000)
    stats = await card.evaluate(STATS_JS)
    await compare(page)
    await page.screenshot(path=out / f"screenshot-fleet-card-{result['total']}.png")
    await page.emulate_media(color_scheme="dark")
    await page.wait_for_timeout(800)
    await page.screenshot(path=out / f"screenshot-fleet-card-{result['total']}-dark.png")
    await page.emulate_media(color_scheme="light")
    figures = {
        "servers": result["total"],
        "shown": result["servers"],
        "page_load_to_first_tile_s": round(shown, 2),
        "first_render_ms": round(first_ms, 1),
        "updates": len(renders),
        "update_ms_median": round(statistics.median(renders), 1) if renders else None,
        "update_ms_max": round(max(renders), 1) if renders else None,
        "long_tasks_ms": [round(duration) for duration in stats["long_tasks"]],
    }
    print(f"  fleet card at {result['total']} servers: {figures}")
    return figures
