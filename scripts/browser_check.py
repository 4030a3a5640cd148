"""Browser check: headless Chromium logs into the demo and photographs what a user sees.

Starts the demo like ``scripts/develop`` (free ports, throw-away config folder), then Playwright
drives Debian's chromium (no browser download): the login form, the device page of one server,
the default dashboard and the example dashboard of docs/lovelace-example.yaml. Each page must
show live entities before its screenshot is taken. ``--out docs`` refreshes the README's images.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
import shutil
import sys
import tempfile
import time

import aiohttp
from playwright.async_api import (
    Page,
    TimeoutError as PlaywrightTimeoutError,
    async_playwright,
)
import yaml

from scripts.demo_stack import (
    DEMO_PASSWORD,
    DEMO_USER,
    PROJECT,
    HassClient,
    Stack,
    StackError,
    bring_up,
)
from scripts.e2e import free_port

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
                    browser = await playwright.chromium.launch_persistent_context(
                        str(Path(tmp) / "chromium"),
                        executable_path=CHROMIUM,
                        headless=True,
                        args=CHROMIUM_ARGS,
                        viewport={"width": 1280, "height": 900},
                        locale="en-US",
                        timezone_id="UTC",
                    )
                    page = browser.pages[0] if browser.pages else await browser.new_page()
                    await login(page, stack.hass_url)
                    print("Screenshots:")
                    await shoot(
                        page,
                        f"{stack.hass_url}/config/devices/device/{device['id']}",
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
                    await browser.close()
        except Exception as err:  # noqa: BLE001 - report any failure with Home Assistant's output
            print(f"browser check FAILED: {err!r}", file=sys.stderr)
            print(f"--- Home Assistant output ---\n{stack.tail('hass', 40)}", file=sys.stderr)
            stack.stop()
            sys.exit(1)
        stack.stop()
    print(f"browser check passed in {time.monotonic() - start:.1f} s")


def main() -> None:
    """Run the browser check."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "nezha-shots")
    parser.add_argument("--timeout", type=float, default=240)
    parser.add_argument("--settle", type=float, default=20, help="seconds of data before shots")
    args = parser.parse_args()
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
