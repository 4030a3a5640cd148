"""What the metric history import costs: N servers x 30 days into long-term statistics.

    python -m scripts.bench_history [--servers 1000] [--memory] [--paced]

A real Home Assistant with the recorder (SQLite in a scratch folder) and a fake v2 dashboard
whose time-series store holds 30 days for every server: 30 s samples over the last day, one
per 30 minutes for the week, one per 2 hours beyond (so each answer has the real dashboard's
size: 2880, 288 and 360 points). The import runs unpaced (as fast as the loop allows) to
time the work itself; at the real pace (``NezhaHistory.request_interval`` and
``row_interval``: 2 requests and 100 imported hours a second) it takes requests x 0.5 s +
hours x 0.01 s, which is printed too. Reported: wall and CPU time of the run until
the recorder has written every row, requests, hours imported, the longest event loop step
(and how many over 50 ms), and with ``--memory`` the peak of Python allocations during the
run (tracemalloc, which slows the run: its times are not the figures). The fake dashboard
runs in the same process and loop: its answers count in the loop steps and CPU. ``--paced``
runs at the real pace instead (what a real install sees: the recorder's queue stays short).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
import tracemalloc

from homeassistant.helpers.recorder import get_instance

from custom_components.nezha.history import METRIC_SENSORS, NezhaHistory
from fake_dashboard.server import SCOPE_SERVER_READ
from scripts.bench import add_entry, dashboard, home_assistant
from scripts.bench_loop import LoopMeter, Phase, _with_recorder

DAY = 86400


def samples(now: float) -> list[tuple[float, float]]:
    """30 days of one metric, as dense as the dashboard's buckets for each period."""
    points = [(now - 30 * DAY + i * 7200, float(i % 97)) for i in range(23 * 12)]
    points += [(now - 7 * DAY + i * 1800, float(i % 89)) for i in range(6 * 48)]
    points += [(now - DAY + i * 30, float(i % 83)) for i in range(2880)]
    return points


async def measure(size: int, *, memory: bool, paced_run: bool = False) -> None:
    """Set up ``size`` servers, then time one import run of every enabled sensor."""
    fake = dashboard(size, "v2")
    token = next(iter(fake.tokens))
    scopes = fake.personal_tokens[token].scopes | {SCOPE_SERVER_READ}
    fake.add_personal_token(token, scopes=scopes)
    fake.tsdb_enabled = True
    series = samples(time.time())
    for server_id in range(1, size + 1):
        for metric in METRIC_SENSORS:
            # One list shared by every server: the fake's memory stays small.
            fake.metric_samples[server_id, metric] = series
    await fake.start()
    meter = LoopMeter()
    try:
        with tempfile.TemporaryDirectory() as folder:
            async with home_assistant() as hass:
                await _with_recorder(hass, folder)
                # The import is started by hand below, timed.
                if not paced_run:
                    NezhaHistory.request_interval = NezhaHistory.row_interval = 0.0
                original = NezhaHistory.async_start
                NezhaHistory.async_start = lambda self: None  # type: ignore[method-assign]
                try:
                    entry = await add_entry(hass, fake)
                finally:
                    NezhaHistory.async_start = original  # type: ignore[method-assign]
                history = entry.runtime_data.history
                if history is None:
                    raise SystemExit("the import did not start")
                await hass.async_block_till_done()
                recorder = get_instance(hass)
                await hass.async_add_executor_job(recorder.block_till_done)
                print(f"{size} servers set up; importing ...", flush=True)
                if memory:
                    tracemalloc.start()
                rss_before = _peak_rss()
                with meter.installed(), meter.measuring() as phase:
                    history._async_schedule()  # noqa: SLF001
                    await _until_done(history)
                    await hass.async_add_executor_job(recorder.block_till_done)
                peak = tracemalloc.get_traced_memory()[1] if memory else 0
                if memory:
                    tracemalloc.stop()
                report(history, size, phase, peak if memory else None)
                print(f"peak RSS before the import  {rss_before / 1e6:.0f} MB")
                print(f"peak RSS after it           {_peak_rss() / 1e6:.0f} MB")
                print(f"at the real pace            {paced(history) / 3600:.2f} h")
                await hass.config_entries.async_unload(entry.entry_id)
                await hass.async_block_till_done()
    finally:
        await fake.stop()


# A long run says how far it got now and then (a 1000-server import runs for hours).
PROGRESS_EVERY = 300.0


def _peak_rss() -> int:
    """The process's peak resident memory in bytes (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def _until_done(history: NezhaHistory) -> None:
    """The import has no event to wait on; its status says when it is done."""
    started = last_said = time.monotonic()
    while history.status.state in ("waiting", "running"):
        await asyncio.sleep(0.05)
        if time.monotonic() - last_said >= PROGRESS_EVERY:
            last_said = time.monotonic()
            _progress(history, last_said - started)


def _progress(history: NezhaHistory, elapsed: float) -> None:
    status = history.status
    rows = sum(status.hours_imported.values())
    print(
        f"  {elapsed / 60:.0f} min: {status.requests} requests, {rows} rows handed to the "
        f"recorder, {status.sensors_checked} sensors done, peak RSS {_peak_rss() / 1e6:.0f} MB",
        flush=True,
    )


# The real pace (the class's values, before the bench set them to 0).
REQUEST_INTERVAL = NezhaHistory.request_interval
ROW_INTERVAL = NezhaHistory.row_interval


def paced(history: NezhaHistory) -> float:
    """Seconds the same import takes at the real pace (the work is far faster than it)."""
    status = history.status
    return status.requests * REQUEST_INTERVAL + sum(status.hours_imported.values()) * ROW_INTERVAL


def report(history: NezhaHistory, size: int, phase: Phase, peak: int | None) -> None:
    """Print what the run did and cost."""
    status = history.status
    print(f"state {status.state}, errors {dict(status.errors)}")
    print(f"servers                     {size}")
    print(f"requests                    {status.requests}")
    print(f"hours imported (rows)       {sum(status.hours_imported.values())}")
    print(f"wall time                   {phase.wall:.1f} s (until the recorder wrote all)")
    print(f"CPU time (process)          {phase.cpu:.1f} s")
    print(f"longest loop step           {phase.longest * 1000:.0f} ms")
    print(f"loop steps over 50 ms       {phase.over_50ms}")
    print(f"  longest was               {phase.longest_what[:120]}")
    print(f"collections by generation   {dict(phase.collections)}")
    print(f"longest collection          {phase.longest_collection * 1000:.0f} ms")
    if peak is not None:
        print(f"peak Python memory          {peak / 1e6:.0f} MB")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--paced", action="store_true", help="at the real pace (slow)")
    args = parser.parse_args()
    asyncio.run(measure(args.servers, memory=args.memory, paced_run=args.paced))


if __name__ == "__main__":
    main()
