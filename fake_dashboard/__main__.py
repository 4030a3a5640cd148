"""Run the fake dashboard on its own: ``python -m fake_dashboard --servers 5``.

Values move every second like live agents; one server goes silent (offline) and one never
reported, as on a real dashboard.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from .server import FakeDashboard, make_server


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
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    main()
