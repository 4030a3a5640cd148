"""Run the fake dashboard on its own: ``python -m fake_dashboard --servers 5``.

Values move every second like live agents; one server goes silent (offline) and one never
reported, as on a real dashboard. ``--flavor v2 --history-days 7`` adds a week of metric
history (the time-series store on, the token allowed to read it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from .server import SCOPE_SERVER_READ, FakeCycle, FakeDashboard, FakeService, make_server

GIB = 1024**3


async def _run(args: argparse.Namespace) -> None:
    token = args.token or ("nzp_demo-token" if args.flavor == "v2" else "demo-token")
    dashboard = FakeDashboard(token=token, prefix=args.prefix, flavor=args.flavor)
    tags = ("Tokyo", "Frankfurt", "Home")
    for server_id in range(1, args.servers + 1):
        tag = tags[server_id % len(tags)]
        dashboard.add(make_server(server_id, tag=tag))
        dashboard.groups.setdefault(tag, []).append(server_id)
    if args.servers >= 3:
        dashboard.silence(args.servers - 1, seconds_ago=3600)
        dashboard.add(make_server(args.servers, "never-reported", reported=False))
    if args.flavor != "v0":
        _add_services(dashboard, args.servers)
    if args.history_days:
        if args.flavor != "v2":
            raise SystemExit("--history-days needs --flavor v2 (only v2 keeps metric history)")
        # The token a user creates for the history holds this scope too (README, Configure).
        scopes = dashboard.personal_tokens[token].scopes | {SCOPE_SERVER_READ}
        dashboard.add_personal_token(token, scopes=scopes)
        dashboard.record_history(args.history_days)
    url = await dashboard.start(args.host, args.port)
    if args.flavor == "v1":
        credentials = f"login: {dashboard.username} / {dashboard.password}"
    else:
        credentials = f"token: {token}"
    print(f"Fake Nezha dashboard ({args.flavor}) at {url}  {credentials}", flush=True)
    try:
        while True:
            await asyncio.sleep(1)
            if args.still:
                dashboard.heartbeat()
            else:
                dashboard.tick(1)
    finally:
        await dashboard.stop()


def _add_services(dashboard: FakeDashboard, servers: int) -> None:
    """Service monitors and a monthly transfer rule, as v1/v2 dashboards show them."""
    dashboard.services = {
        1: FakeService(name="Homepage HTTPS"),
        2: FakeService(name="Gateway ping", current_up=27, current_down=3, total_down=120),
        3: FakeService(name="Old API", current_up=0, current_down=30, total_down=3000),
    }
    now = dashboard.clock()
    dashboard.cycles = {
        1: FakeCycle(
            name="Monthly 1 TB",
            start=now - 12 * 86400,
            end=now + 18 * 86400,
            max=1024 * GIB,
            transfer={server_id: server_id * 37 * GIB for server_id in range(1, servers + 1)},
        )
    }


def main() -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8008)
    parser.add_argument("--servers", type=int, default=6)
    parser.add_argument("--flavor", choices=("v0", "v1", "v2"), default="v0")
    parser.add_argument("--token", default="", help="API token (v0) or personal token (v2)")
    parser.add_argument("--prefix", default="", help="serve under a sub-path, e.g. /nezha")
    parser.add_argument(
        "--still", action="store_true", help="agents keep reporting, values stay unchanged"
    )
    parser.add_argument(
        "--history-days",
        type=float,
        default=0,
        help="v2: the time-series store on, holding this many days of every server's metrics",
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    main()
