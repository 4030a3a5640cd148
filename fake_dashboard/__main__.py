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
    dashboard = FakeDashboard(token=args.token, prefix=args.prefix)
    tags = ("Tokyo", "Frankfurt", "Home")
    for server_id in range(1, args.servers + 1):
        dashboard.add(make_server(server_id, tag=tags[server_id % len(tags)]))
    if args.servers >= 3:
        dashboard.silence(args.servers - 1, seconds_ago=3600)
        dashboard.add(make_server(args.servers, "never-reported", reported=False))
    url = await dashboard.start(args.host, args.port)
    print(f"Fake Nezha dashboard (v0) at {url}  token: {args.token}", flush=True)
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
    parser.add_argument("--token", default="demo-token")
    parser.add_argument("--prefix", default="", help="serve under a sub-path, e.g. /nezha")
    parser.add_argument(
        "--still", action="store_true", help="agents keep reporting, values stay unchanged"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    main()
