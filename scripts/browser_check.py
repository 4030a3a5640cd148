"""Browser check: headless Chromium logs into the demo and photographs what a user sees.

Starts the demo like ``scripts/develop`` (free ports, throw-away config folder), then Playwright
drives Debian's chromium (no browser download): the login form, the config flow's first step,
the device page of one server, the default dashboard and the example dashboard of
docs/lovelace-example.yaml. Each page must show live entities before its screenshot is taken.
Then the same Home Assistant speaks Simplified Chinese (the user's language and the system
language, which entity names follow): the first step and the device page again, asserting that
the integration's Chinese strings show, their English ones do not, and no label is cut off.
The fleet card is added through the UI and checked on the way (scripts/browser_fleet.py);
``--fleet 1000`` instead times it with a thousand servers. ``--history`` instead runs a v2 demo
dashboard holding a week of metrics: once the import (at its real pace) has written days of
statistics from before the entry was created, the History panel must draw both sensors from
then on, and is photographed. ``--out docs`` refreshes the README's images.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
import shutil
import sys
import tempfile
import time
from typing import Any, NoReturn
from urllib.parse import urlencode

import aiohttp
from playwright.async_api import (
    BrowserContext,
    Page,
    Playwright,
    TimeoutError as PlaywrightTimeoutError,
    async_playwright,
)
import yaml

from scripts import browser_fleet
from scripts.demo_stack import (
    DEMO_PASSWORD,
    DEMO_USER,
    PROJECT,
    HassClient,
    Stack,
    StackError,
    bring_up,
)
from scripts.e2e import free_port, logged_problems

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EXAMPLE = PROJECT / "docs/lovelace-example.yaml"
WAIT_MS = 30_000
# Any entity of the entry refreshes all of them.
SERVER_1_CPU = "sensor.server_1_cpu_usage"
# --history: days of metrics the v2 demo dashboard holds, and the sensors photographed.
HISTORY_DAYS = 7
HISTORY_SENSORS = (SERVER_1_CPU, "sensor.server_1_memory_used")
# Per chart of the History panel: its entity, when its first state is, and the span of the
# points drawn (ms), which the panel takes from the long-term statistics before the states.
HISTORY_CHARTS_JS = """
(charts) => charts.map((chart) => {
  const line = chart.data?.[0];
  const base = chart.shadowRoot?.querySelector("ha-chart-base");
  const drawn = (base?.data ?? []).flatMap((series) => series.data ?? [])
    .map((point) => (Array.isArray(point) ? point[0] : point?.value?.[0]))
    .filter((when) => typeof when === "number");
  return {
    entity: line?.entity_id ?? null,
    statistics: line?.statistics?.length ?? 0,
    first_state: Math.min(...(line?.states ?? []).map((state) => state.last_changed)),
    first_drawn: drawn.length ? Math.min(...drawn) : null,
    last_drawn: drawn.length ? Math.max(...drawn) : null,
  };
})
"""
FLOW_PATH = "/config/integrations/dashboard/add?domain=nezha"
CHINESE = "zh-Hans"
# What each Chinese page must show (the integration's strings and a few of Home Assistant's),
# and the English the Chinese replaces, which must not show.
CHINESE_FLOW = {
    "shows": [
        "添加哪吒监控面板",
        "面板地址",
        "API 令牌",
        "验证 SSL 证书",
        "「系统设置」",
        "生成Token",
    ],
    "not": [
        "Add a Nezha Monitoring dashboard",
        "Dashboard URL",
        "API token",
        "Verify SSL certificate",
        "System settings",
        "leave the token empty",
        "Submit",
    ],
    "labels": ["面板地址", "API 令牌", "验证 SSL 证书", "添加哪吒监控面板"],
}
CHINESE_DEVICE = {
    "shows": [
        "server-1",
        "CPU 使用率",
        "内存使用率",
        "硬盘使用率",
        "下载速度",
        "在线状态",
        "传感器",
    ],
    "not": [
        "CPU usage",
        "Memory usage",
        "Disk usage",
        "Download speed",
        "Upload speed",
        "Last boot",
        "Online",
        "Sensors",
        "Diagnostic",
    ],
    "labels": [
        "CPU 使用率",
        "内存使用率",
        "硬盘使用率",
        "交换分区使用率",
        "下载速度",
        "总下载流量",
        "在线状态",
    ],
}
# Every visible text node of the page, shadow roots included, and the labels among them whose
# box is narrower than their text (cut off or spilling over).
PAGE_TEXT_JS = """
([labels, squeeze]) => {
  const texts = [];
  const overflowing = [];
  const box = (node) => {
    let element = node.parentElement || node.parentNode.host;
    while (element && element.clientWidth === 0) {
      element = element.parentElement || element.getRootNode().host || null;
    }
    return element;
  };
  // Slots and other display: contents elements have no box of their own: ask their parent.
  const shown = (element) => {
    while (element && getComputedStyle(element).display === "contents") {
      element = element.parentElement || element.getRootNode().host || null;
    }
    return Boolean(element) && element.checkVisibility({visibilityProperty: true});
  };
  const walk = (root) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.nodeType === Node.ELEMENT_NODE) {
        if (node.shadowRoot) walk(node.shadowRoot);
        continue;
      }
      const text = node.textContent.trim();
      // A text node straight under a shadow root belongs to the root's host.
      const parent = node.parentElement || node.parentNode.host;
      if (!text || !shown(parent)) continue;
      texts.push(text);
      if (!labels.some((label) => text.includes(label))) continue;
      const element = box(node);
      if (element && squeeze && text.includes(squeeze)) {
        // The check's own proof: this label, squeezed into 20 px, must be reported.
        Object.assign(element.style, {
          flex: "none", width: "20px", maxWidth: "20px", overflow: "hidden", whiteSpace: "nowrap",
        });
      }
      if (element && element.scrollWidth > element.clientWidth + 1) {
        overflowing.push(`${text} (${element.scrollWidth} > ${element.clientWidth})`);
      }
    }
  };
  walk(document);
  return {texts, overflowing};
}
"""


async def login(page: Page, url: str) -> None:
    """Open Home Assistant and log in through its login form."""
    await page.goto(url)
    await page.locator("input[name=username]").fill(DEMO_USER, timeout=WAIT_MS)
    await page.locator("input[name=password]").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    # Logged in once the front end leaves the auth callback for the default dashboard.
    await page.wait_for_url(
        lambda address: "auth_callback" not in address and "/auth/" not in address,
        timeout=WAIT_MS,
    )
    await page.wait_for_load_state("networkidle")
    print(f"  logged in, default dashboard at {page.url}")


async def shoot(page: Page, url: str | None, texts: list[str], path: Path) -> None:
    """Open a page (or stay), wait until every text shows, let values settle, take the shot."""
    if url is not None:
        await page.goto(url)
    try:
        for text in texts:
            await page.get_by_text(text, exact=False).first.wait_for(timeout=WAIT_MS)
    except PlaywrightTimeoutError:
        # What the page showed instead helps more than the timeout alone.
        await page.screenshot(path=path.with_name(f"{path.stem}-failed.png"))
        raise
    await page.wait_for_timeout(1500)  # icons and gauges animate in
    await page.screenshot(path=path)
    print(f"  {path}")


async def check_words(page: Page, wanted: dict[str, list[str]], path: Path) -> None:
    """Assert the page's visible words: what must show, what must not, no label cut off."""
    result: dict[str, list[str]] = await page.evaluate(PAGE_TEXT_JS, [wanted["labels"], None])
    text = "\n".join(result["texts"])
    missing = [word for word in wanted["shows"] if word not in text]
    english = [word for word in wanted["not"] if word in text]
    if missing or english or result["overflowing"]:
        await page.screenshot(path=path.with_name(f"{path.stem}-failed.png"))
        msg = (
            f"{path.name}: missing {missing}, English shown {english}, "
            f"cut off {result['overflowing']}"
        )
        raise StackError(msg)
    print(
        f"    {len(wanted['shows'])} words shown, {len(wanted['not'])} English ones absent, "
        f"{len(wanted['labels'])} labels fit"
    )


async def prove_overflow_check(page: Page, label: str) -> None:
    """The overflow check can fail: the same label squeezed into a narrow box is reported.

    Run last on a page, as it leaves that label squeezed.
    """
    result: dict[str, list[str]] = await page.evaluate(PAGE_TEXT_JS, [[label], label])
    if not any(label in entry for entry in result["overflowing"]):
        msg = f"the overflow check missed {label!r} squeezed into 20 px"
        raise StackError(msg)
    print(f"    the overflow check catches a squeezed label: {result['overflowing'][0]}")


async def open_first_step(
    page: Page, hass_url: str, confirm: str, texts: list[str], path: Path
) -> None:
    """Open the integration's config flow as the README's button does; shoot its first step.

    Home Assistant first asks whether to set the integration up (``confirm`` is its OK button).
    """
    await page.goto(f"{hass_url}{FLOW_PATH}")
    await page.get_by_role("button", name=confirm, exact=True).click(timeout=WAIT_MS)
    await shoot(page, None, texts, path)


async def speak_chinese(hass: HassClient, page: Page, entry_id: str) -> None:
    """Switch the user's and the system's language, as a Chinese-speaking user has them.

    The front end follows the user's language (profile); entity names are made in the system
    language when the entry loads, so the entry is reloaded.
    """
    locale = {
        "language": CHINESE,
        "number_format": "language",
        "time_format": "language",
        "date_format": "language",
        "time_zone": "local",
        "first_weekday": "language",
    }
    await hass.ws(
        {"type": "config/core/update", "language": CHINESE},
        {"type": "frontend/set_user_data", "key": "language", "value": locale},
    )
    await hass.reload_entry(entry_id)
    deadline = time.monotonic() + WAIT_MS / 1000
    name = ""
    while time.monotonic() < deadline:
        state = next((s for s in await hass.states() if s["entity_id"] == SERVER_1_CPU), None)
        name = state["attributes"].get("friendly_name", "") if state else ""
        if name == "server-1 CPU 使用率":
            break
        await asyncio.sleep(0.5)
    else:
        msg = f"entity names did not follow the system language: {name!r}"
        raise StackError(msg)
    # What the profile page stores in the browser as well, so the page loads in Chinese.
    await page.evaluate(
        "(language) => localStorage.setItem('selectedLanguage', JSON.stringify(language))",
        CHINESE,
    )
    print(f"  Home Assistant speaks {CHINESE}: {SERVER_1_CPU} is named {name!r}")


async def add_example_dashboard(hass: HassClient) -> str:
    """Create the example dashboard from docs/lovelace-example.yaml; its URL path."""
    config = yaml.safe_load(EXAMPLE.read_text())
    await hass.ws(
        {
            "type": "lovelace/dashboards/create",
            "url_path": "nezha-example",
            "title": "Servers",
            "icon": "mdi:server-network",
            "mode": "storage",
            "require_admin": False,
            "show_in_sidebar": True,
        },
        {"type": "lovelace/config/save", "url_path": "nezha-example", "config": config},
    )
    return "nezha-example"


def fail(stack: Stack, what: str, err: Exception) -> NoReturn:
    """Report a failure with the end of Home Assistant's output, stop everything, exit 1."""
    print(f"{what} FAILED: {err!r}", file=sys.stderr)
    print(f"--- Home Assistant output ---\n{stack.tail('hass', 40)}", file=sys.stderr)
    stack.stop()
    sys.exit(1)


async def open_browser(playwright: Playwright, tmp: Path) -> BrowserContext:
    """Debian's chromium, headless, with a profile of its own in ``tmp``."""
    return await playwright.chromium.launch_persistent_context(
        str(tmp / "chromium"),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900},
        locale="en-US",
        timezone_id="UTC",
    )


async def run_fleet(args: argparse.Namespace) -> None:
    """A demo of ``args.fleet`` servers: the fleet card's figures and shots in the browser."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nezha-fleet-") as tmp:
        stack = Stack(
            Path(tmp) / "config",
            hass_port=free_port(),
            dashboard_port=free_port(),
            servers=args.fleet,
        )
        try:
            async with asyncio.timeout(args.timeout), aiohttp.ClientSession() as session:
                hass = await bring_up(stack, session, args.timeout)
                await hass.wait_for_entity_state(args.timeout)
                (entries,) = await hass.ws({"type": "config_entries/get", "domain": "nezha"})
                if entries[0]["state"] != "loaded":
                    raise StackError(f"the entry is {entries[0]['state']}")
                print(f"{args.fleet} servers loaded after {time.monotonic() - start:.1f} s")
                async with async_playwright() as playwright:
                    browser = await open_browser(playwright, Path(tmp))
                    page = browser.pages[0] if browser.pages else await browser.new_page()
                    await login(page, stack.hass_url)
                    figures = await browser_fleet.fleet_figures(
                        hass,
                        page,
                        stack.hass_url,
                        entries[0]["entry_id"],
                        SERVER_1_CPU,
                        args.out,
                        updates=5,
                    )
                    await browser.close()
                (args.out / f"fleet-card-{args.fleet}.json").write_text(
                    json.dumps(figures, indent=2) + "\n"
                )
        except Exception as err:  # noqa: BLE001 - report any failure with Home Assistant's output
            fail(stack, "fleet card check", err)
        stack.stop()
    print(f"fleet card check passed in {time.monotonic() - start:.1f} s")


async def imported_hours(hass: HassClient, created: datetime, limit: float) -> dict[str, int]:
    """Wait for days of hourly statistics of each shown sensor before the entry was created.

    Home Assistant started with the entry, so only the import can have written them. Returns
    how many such hours each sensor has.
    """
    start = created - timedelta(days=HISTORY_DAYS)
    deadline = time.monotonic() + limit
    hours: dict[str, int] = {}
    while True:
        (stats,) = await hass.ws(
            {
                "type": "recorder/statistics_during_period",
                "start_time": start.isoformat(),
                "end_time": created.isoformat(),
                "statistic_ids": list(HISTORY_SENSORS),
                "period": "hour",
                "types": ["mean"],
            }
        )
        hours = {sensor: len(stats.get(sensor, [])) for sensor in HISTORY_SENSORS}
        # The import leaves out the last hour or two before now; the rest must be there.
        if all(count >= 24 * (HISTORY_DAYS - 1) for count in hours.values()):
            return hours
        if time.monotonic() > deadline:
            msg = f"hours of statistics before the entry was created: {hours}"
            raise StackError(msg)
        await asyncio.sleep(1)


async def history_charts(page: Page, created: datetime) -> None:
    """Assert that the History panel draws each sensor from days before the entry was created.

    The states start with the entry; what is drawn before them can only be the statistics
    the import wrote.
    """
    created_ms = created.timestamp() * 1000
    charts: list[dict[str, Any]] = []
    deadline = time.monotonic() + WAIT_MS / 1000
    while time.monotonic() < deadline:
        charts = await page.locator("state-history-chart-line").evaluate_all(HISTORY_CHARTS_JS)
        drawn = {chart["entity"]: chart for chart in charts if chart["first_drawn"] is not None}
        if set(drawn) == set(HISTORY_SENSORS):
            break
        await asyncio.sleep(0.5)
    problems = []
    for sensor in HISTORY_SENSORS:
        chart = next((chart for chart in charts if chart["entity"] == sensor), None)
        if chart is None or chart["first_drawn"] is None:
            problems.append(f"{sensor}: no chart drawn")
            continue
        days_before = (created_ms - chart["first_drawn"]) / 86_400_000
        if days_before < HISTORY_DAYS - 1:
            problems.append(f"{sensor}: drawn from {days_before:.1f} days before the entry")
        if chart["first_state"] < created_ms:
            problems.append(f"{sensor}: a state older than the entry")
        if chart["last_drawn"] < created_ms:
            problems.append(f"{sensor}: the states since the entry are not drawn")
        print(
            f"    {sensor}: drawn from {days_before:.1f} days before the entry was created, "
            f"{chart['statistics']} hours from statistics"
        )
    if problems:
        await page.screenshot(path=Path(tempfile.gettempdir()) / "screenshot-history-failed.png")
        raise StackError("; ".join(problems))


async def run_history(args: argparse.Namespace) -> None:
    """A v2 demo dashboard with days of metrics: the imported history in the History panel.

    The import runs at its real pace; the shown sensors are the first it fills.
    """
    out: Path = args.out
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nezha-history-") as tmp:
        stack = Stack(
            Path(tmp) / "config",
            hass_port=free_port(),
            dashboard_port=free_port(),
            flavor="v2",
            history_days=HISTORY_DAYS,
        )
        try:
            async with asyncio.timeout(args.timeout), aiohttp.ClientSession() as session:
                hass = await bring_up(stack, session, args.timeout)
                await hass.wait_for_entity_state(60)
                await hass.remove_failed_onboarding_extras()
                await hass.dismiss_core_install_warning()
                (entries,) = await hass.ws({"type": "config_entries/get", "domain": "nezha"})
                created = datetime.fromtimestamp(entries[0]["created_at"], UTC)
                hours = await imported_hours(hass, created, args.timeout)
                print(f"Imported hours before the entry was created ({created:%H:%M} UTC): {hours}")
                async with async_playwright() as playwright:
                    browser = await open_browser(playwright, Path(tmp))
                    page = browser.pages[0] if browser.pages else await browser.new_page()
                    await login(page, stack.hass_url)
                    first = created - timedelta(days=HISTORY_DAYS)
                    query = {
                        "entity_id": ",".join(HISTORY_SENSORS),
                        "start_date": first.replace(minute=0, second=0, microsecond=0).isoformat(),
                        "end_date": datetime.now(UTC).isoformat(),
                    }
                    await page.goto(f"{stack.hass_url}/history?{urlencode(query)}")
                    print("History panel:")
                    await history_charts(page, created)
                    legends = ["server-1 ▸ CPU usage", "server-1 ▸ Memory used"]
                    await shoot(page, None, legends, out / "screenshot-history.png")
                    await browser.close()
            if problems := logged_problems(stack.hass_log.read_text(errors="replace")):
                raise StackError("logged about the integration:\n" + "\n".join(problems))
        except Exception as err:  # noqa: BLE001 - report any failure with Home Assistant's output
            fail(stack, "history check", err)
        stack.stop()
    print(f"history check passed in {time.monotonic() - start:.1f} s")


async def run(args: argparse.Namespace) -> None:
    """Bring the demo up, take the screenshots, stop everything."""
    out: Path = args.out
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nezha-browser-") as tmp:
        stack = Stack(Path(tmp) / "config", hass_port=free_port(), dashboard_port=free_port())
        try:
            async with asyncio.timeout(args.timeout), aiohttp.ClientSession() as session:
                hass = await bring_up(stack, session, args.timeout)
                await hass.wait_for_entity_state(60)
                await hass.remove_failed_onboarding_extras()
                await hass.dismiss_core_install_warning()
                (devices, entries) = await hass.ws(
                    {"type": "config/device_registry/list"},
                    {"type": "config_entries/get", "domain": "nezha"},
                )
                if entries[0]["state"] != "loaded":
                    raise StackError(f"the entry is {entries[0]['state']}")
                device = next(d for d in devices if d["name"] == "server-1")
                example = await add_example_dashboard(hass)
                # Ask for a refresh every 5 s, as the README tells users to, so that the
                # history graph has a line before the shots.
                settled = time.monotonic() + args.settle
                while time.monotonic() < settled:
                    await hass.call_service(
                        "homeassistant", "update_entity", {"entity_id": SERVER_1_CPU}
                    )
                    await asyncio.sleep(min(5.0, max(0.0, settled - time.monotonic())))
                async with async_playwright() as playwright:
                    browser = await open_browser(playwright, Path(tmp))
                    page = browser.pages[0] if browser.pages else await browser.new_page()
                    await login(page, stack.hass_url)
                    print("Screenshots:")
                    await open_first_step(
                        page,
                        stack.hass_url,
                        "OK",
                        ["Dashboard URL", "System settings", "nezha:inventory:read"],
                        out / "screenshot-config-flow.png",
                    )
                    device_page = f"{stack.hass_url}/config/devices/device/{device['id']}"
                    await shoot(
                        page,
                        device_page,
                        ["server-1", "CPU usage", "Memory usage", "Online"],
                        out / "screenshot-device.png",
                    )
                    # The default dashboard groups devices by area; servers have none yet.
                    await shoot(
                        page, stack.hass_url, ["Areas", "Devices"], out / "screenshot-overview.png"
                    )
                    await page.locator("ha-tile-container", has_text="Devices").first.click()
                    await shoot(
                        page,
                        None,
                        ["server-1", "never-reported", "CPU usage"],
                        out / "screenshot-default-dashboard.png",
                    )
                    await shoot(
                        page,
                        f"{stack.hass_url}/{example}/servers",
                        ["CPU, last hour", "server-4", "Watched"],
                        out / "screenshot-example-dashboard.png",
                    )
                    await browser_fleet.demo_shots(hass, page, stack.hass_url, out)
                    await speak_chinese(hass, page, entries[0]["entry_id"])
                    shot = out / "screenshot-config-flow-zh.png"
                    await open_first_step(page, stack.hass_url, "确定", CHINESE_FLOW["shows"], shot)
                    await check_words(page, CHINESE_FLOW, shot)
                    shot = out / "screenshot-device-zh.png"
                    await shoot(page, device_page, CHINESE_DEVICE["shows"], shot)
                    await check_words(page, CHINESE_DEVICE, shot)
                    await prove_overflow_check(page, "CPU 使用率")
                    await browser_fleet.chinese_shots(page, stack.hass_url, out)
                    await browser.close()
        except Exception as err:  # noqa: BLE001 - report any failure with Home Assistant's output
            fail(stack, "browser check", err)
        stack.stop()
    print(f"browser check passed in {time.monotonic() - start:.1f} s")


def main() -> None:
    """Run the browser check."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "nezha-shots")
    parser.add_argument("--timeout", type=float, default=240)
    parser.add_argument("--settle", type=float, default=20, help="seconds of data before shots")
    parser.add_argument(
        "--history",
        action="store_true",
        help="instead: a v2 dashboard's metric history imported and shown in the History panel",
    )
    parser.add_argument(
        "--fleet",
        type=int,
        default=0,
        help="instead: a demo of this many servers, the fleet card's render and update times",
    )
    args = parser.parse_args()
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.history:
        asyncio.run(run_history(args))
    else:
        asyncio.run(run_fleet(args) if args.fleet else run(args))


if __name__ == "__main__":
    main()
