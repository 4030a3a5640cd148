import asyncio, cProfile, pstats, sys, time
sys.path.insert(0, "/work/main")
from scripts.bench import home_assistant, dashboard, add_entry, in_task

async def main(size):
    fake = dashboard(size)
    await fake.start()
    async with home_assistant() as hass:
        prof = cProfile.Profile()
        prof.enable()
        t = time.perf_counter()
        entry = await add_entry(hass, fake)
        print("setup", time.perf_counter() - t)
        prof.disable()
        st = pstats.Stats(prof)
        st.sort_stats("cumulative").print_stats(r"nezha|entity_platform|entity_registry", 35)
        await in_task(hass.config_entries.async_unload(entry.entry_id))
    await fake.stop()
asyncio.run(main(int(sys.argv[1])))
