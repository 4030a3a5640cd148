"""The demo: the fake dashboard and a real Home Assistant running this integration.

``scripts/develop`` runs ``python -m scripts.demo_stack`` inside the project environment;
the end-to-end test (``scripts/e2e.py``) and the browser check drive the same code.
The integration is linked into the config folder, so edits in the checkout take effect on
the next start of Home Assistant.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import time
from typing import Any, TextIO

import aiohttp

PROJECT = Path(__file__).resolve().parent.parent
DEMO_USER = "demo"
DEMO_PASSWORD = "demo-password"  # a throw-away local login, printed for the newcomer
DASHBOARD_TOKEN = "demo-token"
V2_DASHBOARD_TOKEN = "nzp_demo-token"
ONBOARDING_EXTRAS = frozenset({"google_translate", "met", "radio_browser"})
DEMO_SERVERS = 6  # four live, one offline for an hour, one that never reported

CONFIGURATION = """\
# Written by scripts/develop; this folder is not in git. Delete it to start afresh.
homeassistant:
  name: Nezha demo
  unit_system: metric
  time_zone: UTC
  currency: EUR
  country: DE
  language: en
  latitude: 52.52
  longitude: 13.40
  elevation: 34
logger:
  default: warning
  logs:
    custom_components.nezha: debug
automation: !include automations.yaml
history:
logbook:
"""


class StackError(RuntimeError):
    """Something in the demo did not come up or answered wrongly."""


@dataclass
class Stack:
    """The two processes of the demo and the config folder of Home Assistant."""

    config_dir: Path
    hass_port: int = 8123
    dashboard_port: int = 8008
    # Values that stay put, so that a test can compare them exactly.
    still: bool = False
    # The dashboard line the demo dashboard speaks (v0, v1 or v2).
    flavor: str = "v0"
    # How many servers the demo dashboard has (the fleet card's check also runs 1000).
    servers: int = DEMO_SERVERS
    # v2: days of metric history the demo dashboard holds (the browser check's --history).
    history_days: float = 0
    _procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _logs: list[TextIO] = field(default_factory=list)

    @property
    def hass_url(self) -> str:
        """Where Home Assistant answers."""
        return f"http://127.0.0.1:{self.hass_port}"

    @property
    def token(self) -> str:
        """The token that goes into the config flow (v2: a personal token)."""
        return V2_DASHBOARD_TOKEN if self.flavor == "v2" else DASHBOARD_TOKEN

    @property
    def dashboard_url(self) -> str:
        """Where the demo dashboard answers (what goes into the config flow)."""
        return f"http://127.0.0.1:{self.dashboard_port}"

    @property
    def hass_log(self) -> Path:
        """Home Assistant's own log file."""
        return self.config_dir / "home-assistant.log"

    def prepare_config(self) -> None:
        """Create the config folder, link the integration and the blueprints into it."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        (self.config_dir / "configuration.yaml").write_text(CONFIGURATION)
        self._write_http_settings()
        automations = self.config_dir / "automations.yaml"
        if not automations.exists():
            automations.write_text("[]\n")
        _link(self.config_dir / "custom_components" / "nezha", PROJECT / "custom_components/nezha")
        _link(
            self.config_dir / "blueprints" / "automation" / "nezha",
            PROJECT / "blueprints/automation/nezha",
        )

    def _write_http_settings(self) -> None:
        """Listen on loopback at ``hass_port``, confirmed (stable) so nothing reverts it.

        Home Assistant keeps its HTTP settings in storage since 2026; settings from YAML are a
        deprecated, unconfirmed trial that reverts after five minutes.
        """
        storage = self.config_dir / ".storage"
        storage.mkdir(exist_ok=True)
        path = storage / "http"
        stable = {
            "server_port": self.hass_port,
            "server_host": ["127.0.0.1"],
            "cors_allowed_origins": ["https://cast.home-assistant.io"],
            "login_attempts_threshold": -1,
            "ip_ban_enabled": True,
            "ssl_profile": "modern",
            "use_x_frame_options": True,
            "created_at": datetime.now(UTC).isoformat(),
            "error": None,
            "error_message": None,
        }
        store = {
            "version": 2,
            "minor_version": 2,
            "key": "http",
            "data": {"stable": stable, "pending": None, "yaml_migration_done": True},
        }
        path.write_text(json.dumps(store, indent=2))
        path.chmod(0o600)

    def _spawn(self, name: str, args: list[str]) -> None:
        log = (self.config_dir / f"{name}.out").open("w")
        self._logs.append(log)
        # A session of its own: Ctrl-C in the terminal reaches only the supervisor,
        # which then stops the children in order.
        self._procs[name] = subprocess.Popen(
            [sys.executable, *args],
            cwd=PROJECT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start(self) -> None:
        """Start the demo dashboard, then Home Assistant."""
        self.prepare_config()
        dashboard = ["-m", "fake_dashboard", "--port", str(self.dashboard_port)]
        dashboard += ["--servers", str(self.servers), "--token", self.token]
        dashboard += ["--flavor", self.flavor]
        if self.still:
            dashboard.append("--still")
        if self.history_days:
            dashboard += ["--history-days", str(self.history_days)]
        self._spawn("dashboard", dashboard)
        # --skip-pip: everything is installed by scripts/setup; hass must not reach for pip.
        self._spawn("hass", ["-m", "homeassistant", "-c", str(self.config_dir), "--skip-pip"])

    def check_running(self) -> None:
        """Raise if a process of the demo has exited."""
        for name, proc in self._procs.items():
            if proc.poll() is not None:
                tail = self.tail(name)
                msg = f"{name} exited with {proc.returncode}:\n{tail}"
                raise StackError(msg)

    def tail(self, name: str, lines: int = 30) -> str:
        """The end of a process's output."""
        path = self.config_dir / f"{name}.out"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 30) -> dict[str, int]:
        """Stop Home Assistant first (it saves its state), then the dashboard."""
        codes: dict[str, int] = {}
        # SIGTERM is Home Assistant's clean stop; the dashboard stops cleanly on SIGINT.
        for name, signum in (("hass", signal.SIGTERM), ("dashboard", signal.SIGINT)):
            proc = self._procs.pop(name, None)
            if proc is None:
                continue
            if proc.poll() is None:
                proc.send_signal(signum)
            try:
                codes[name] = proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
        for log in self._logs:
            log.close()
        self._logs.clear()
        return codes


def _link(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() and link.resolve() == target.resolve():
        return
    if link.is_symlink():
        link.unlink()
    link.symlink_to(target, target_is_directory=True)


# --- Home Assistant over HTTP --------------------------------------------------------------


class HassClient:
    """Onboarding, login and config flows over Home Assistant's REST API."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        """Talk to the Home Assistant at ``base_url``."""
        self.session = session
        self.base_url = base_url
        self.client_id = f"{base_url}/"
        self.access_token = ""

    @property
    def headers(self) -> dict[str, str]:
        """Authorization for the REST API."""
        return {"Authorization": f"Bearer {self.access_token}"}

    async def wait_until_up(self, stack: Stack, limit: float) -> float:
        """Wait until the HTTP server answers; return the seconds it took."""
        start = time.monotonic()
        while time.monotonic() - start < limit:
            stack.check_running()
            try:
                # The front end's manifest is served once Home Assistant has started.
                async with self.session.get(f"{self.base_url}/manifest.json") as response:
                    if response.status == 200:
                        return time.monotonic() - start
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
        msg = f"Home Assistant did not answer within {limit:.0f} s:\n{stack.tail('hass')}"
        raise StackError(msg)

    async def _json(
        self, method: str, path: str, payload: Mapping[str, Any] | None = None, **kw: Any
    ) -> Any:
        async with self.session.request(
            method, f"{self.base_url}{path}", json=payload, headers=self.headers, **kw
        ) as response:
            if response.status >= 400:
                body = await response.text()
                msg = f"{method} {path}: HTTP {response.status} {body[:300]}"
                raise StackError(msg)
            return await response.json()

    async def _token_from_code(self, code: str) -> None:
        data = {"grant_type": "authorization_code", "code": code, "client_id": self.client_id}
        async with self.session.post(f"{self.base_url}/auth/token", data=data) as response:
            if response.status != 200:
                msg = f"/auth/token: HTTP {response.status}"
                raise StackError(msg)
            self.access_token = (await response.json())["access_token"]

    async def onboard_or_login(self, username: str, password: str) -> bool:
        """Finish onboarding with this user, or log in if it is done; True if it onboarded."""
        async with self.session.get(f"{self.base_url}/api/onboarding") as response:
            # Once onboarding is complete its routes are no longer registered.
            done = response.status == 404
            listed = [] if done else await response.json()
        steps = {step["step"]: step["done"] for step in listed}
        if done:
            await self.login(username, password)
            return False
        if steps.get("user"):
            await self.login(username, password)
            onboarded = False
        else:
            result = await self._json(
                "POST",
                "/api/onboarding/users",
                {
                    "client_id": self.client_id,
                    "name": "Demo",
                    "username": username,
                    "password": password,
                    "language": "en",
                },
            )
            await self._token_from_code(result["auth_code"])
            onboarded = True
        if not steps.get("core_config"):
            await self._json("POST", "/api/onboarding/core_config", {})
        if not steps.get("analytics"):
            await self._json("POST", "/api/onboarding/analytics", {})
        if not steps.get("integration"):
            await self._json(
                "POST",
                "/api/onboarding/integration",
                {"client_id": self.client_id, "redirect_uri": f"{self.base_url}/?auth_callback=1"},
            )
        return onboarded

    async def login(self, username: str, password: str) -> None:
        """Log in through the login flow the front end uses."""
        flow = await self._json(
            "POST",
            "/auth/login_flow",
            {
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": f"{self.base_url}/?auth_callback=1",
            },
        )
        result = await self._json(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            {"client_id": self.client_id, "username": username, "password": password},
        )
        if result.get("type") != "create_entry":
            msg = f"login refused: {result.get('errors')}"
            raise StackError(msg)
        await self._token_from_code(result["result"])

    async def start_flow(self, handler: str) -> dict[str, Any]:
        """Start a config flow; its first form."""
        result: dict[str, Any] = await self._json(
            "POST", "/api/config/config_entries/flow", {"handler": handler}
        )
        return result

    async def continue_flow(self, flow_id: str, user_input: Mapping[str, Any]) -> dict[str, Any]:
        """Submit a form of a config flow."""
        result: dict[str, Any] = await self._json(
            "POST", f"/api/config/config_entries/flow/{flow_id}", user_input
        )
        return result

    async def add_dashboard(self, url: str, token: str) -> dict[str, Any]:
        """Add the dashboard through the integration's config flow (the user step)."""
        form = await self.start_flow("nezha")
        return await self.continue_flow(
            form["flow_id"], {"url": url, "token": token, "verify_ssl": True}
        )

    async def dismiss_core_install_warning(self) -> None:
        """Ignore the repair that says a plain ``hass`` ("Core") install is deprecated.

        It is about how this demo runs Home Assistant, not about the integration.
        """
        (listed,) = await self.ws({"type": "repairs/list_issues"})
        for issue in listed["issues"]:
            if (issue["domain"], issue["issue_id"]) == ("homeassistant", "deprecated_method"):
                await self.ws(
                    {
                        "type": "repairs/ignore_issue",
                        "domain": "homeassistant",
                        "issue_id": "deprecated_method",
                        "ignore": True,
                    }
                )

    async def set_options(self, entry_id: str, options: Mapping[str, Any]) -> dict[str, Any]:
        """Save an entry's options through its options flow."""
        form = await self._json(
            "POST", "/api/config/config_entries/options/flow", {"handler": entry_id}
        )
        result: dict[str, Any] = await self._json(
            "POST", f"/api/config/config_entries/options/flow/{form['flow_id']}", options
        )
        return result

    async def reload_entry(self, entry_id: str) -> None:
        """Reload a config entry, as its ⋮ menu's Reload does."""
        await self._json("POST", f"/api/config/config_entries/entry/{entry_id}/reload")

    async def call_service(self, domain: str, service: str, data: Mapping[str, Any]) -> None:
        """Call an action, e.g. homeassistant.update_entity."""
        await self._json("POST", f"/api/services/{domain}/{service}", data)

    async def config(self) -> dict[str, Any]:
        """Home Assistant's core configuration, its version among it."""
        result: dict[str, Any] = await self._json("GET", "/api/config")
        return result

    async def states(self) -> list[dict[str, Any]]:
        """All entity states."""
        result: list[dict[str, Any]] = await self._json("GET", "/api/states")
        return result

    async def ws(self, *messages: Mapping[str, Any]) -> list[Any]:
        """Send commands over the websocket API; the result of each."""
        results = []
        async with self.session.ws_connect(f"{self.base_url}/api/websocket") as socket:
            await socket.receive_json()  # auth_required
            await socket.send_json({"type": "auth", "access_token": self.access_token})
            if (await socket.receive_json())["type"] != "auth_ok":
                msg = "websocket authentication failed"
                raise StackError(msg)
            for number, message in enumerate(messages, start=1):
                await socket.send_json({"id": number, **message})
                while (answer := await socket.receive_json())["id"] != number:
                    continue
                if not answer["success"]:
                    msg = f"{message['type']}: {answer.get('error')}"
                    raise StackError(msg)
                results.append(answer["result"])
        return results

    async def wait_for_entity_state(self, limit: float) -> float:
        """Wait for the first state of a server's online sensor; return the seconds it took."""
        start = time.monotonic()
        while time.monotonic() - start < limit:
            for state in await self.states():
                if (
                    state["entity_id"].startswith("binary_sensor.")
                    and state["state"] in {"on", "off"}
                    and state["attributes"].get("device_class") == "connectivity"
                ):
                    return time.monotonic() - start
            await asyncio.sleep(0.5)
        msg = f"no Nezha entity state within {limit:.0f} s"
        raise StackError(msg)

    async def remove_failed_onboarding_extras(self) -> list[str]:
        """Remove entries onboarding adds whose requirements this environment does not have.

        Finishing onboarding offers a few integrations (text-to-speech, weather, radio); the
        demo installs none of their requirements, so they would only show as failed.
        """
        (entries,) = await self.ws({"type": "config_entries/get"})
        removed = []
        for entry in entries:
            if entry["domain"] in ONBOARDING_EXTRAS and entry["state"] == "setup_error":
                await self._json("DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}")
                removed.append(entry["domain"])
        return removed


async def bring_up(stack: Stack, session: aiohttp.ClientSession, limit: float) -> HassClient:
    """Start everything, onboard (or log in) and make sure the demo dashboard is added."""
    stack.start()
    hass = HassClient(session, stack.hass_url)
    await hass.wait_until_up(stack, limit)
    await hass.onboard_or_login(DEMO_USER, DEMO_PASSWORD)
    result = await hass.add_dashboard(stack.dashboard_url, stack.token)
    # A second start finds the entry from the first: the flow aborts as already configured.
    if result["type"] not in {"create_entry", "abort"} or (
        result["type"] == "abort" and result["reason"] != "already_configured"
    ):
        msg = f"config flow did not create the entry: {result}"
        raise StackError(msg)
    return hass


async def _develop(args: argparse.Namespace) -> int:
    stack = Stack(args.config, hass_port=args.port)
    # scripts/develop passes its start time, so the figure includes the environment check.
    started = float(os.environ.get("NEZHA_DEVELOP_STARTED", time.time()))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"Starting the demo dashboard and Home Assistant (config in {stack.config_dir}) ...")
    try:
        async with aiohttp.ClientSession() as session:
            setup = asyncio.ensure_future(bring_up(stack, session, args.timeout))
            waiter = asyncio.ensure_future(stop.wait())
            await asyncio.wait({setup, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if not setup.done():
                setup.cancel()
                return 130
            waiter.cancel()
            hass = setup.result()
            await hass.wait_for_entity_state(args.timeout)
            first_state = time.time() - started
            await hass.remove_failed_onboarding_extras()
            await hass.dismiss_core_install_warning()
            print(
                f"""
First entity state {first_state:.1f} s after scripts/develop started.

  Open   {stack.hass_url}   and log in as  {DEMO_USER} / {DEMO_PASSWORD}
  Then   Settings → Devices & services → Nezha Monitoring: one device per server.

The demo dashboard ({stack.dashboard_url}, token {DASHBOARD_TOKEN}) is already added.
To try the config flow yourself, delete the entry and add it again with that URL and token
(or a wrong token, to see the error). Logs: {stack.hass_log}
Ctrl-C stops both.""",
                flush=True,
            )
            while not stop.is_set():
                stack.check_running()
                try:
                    await asyncio.wait_for(stop.wait(), 1)
                except TimeoutError:
                    continue
    except StackError as err:
        print(f"\nThe demo failed: {err}", file=sys.stderr)
        return 1
    finally:
        print("\nStopping Home Assistant and the demo dashboard ...", flush=True)
        codes = stack.stop()
        print("Stopped: " + ", ".join(f"{name} (exit {code})" for name, code in codes.items()))
    return 0


def main() -> None:
    """Run the demo until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, default=PROJECT / ".dev/config")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    args.config = args.config.resolve()
    sys.exit(asyncio.run(_develop(args)))


if __name__ == "__main__":
    main()
