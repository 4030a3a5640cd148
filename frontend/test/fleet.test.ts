import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  bytesOf,
  entriesWithServers,
  filterServers,
  findServers,
  flagOf,
  normaliseConfig,
  onlineOf,
  pageOf,
  severity,
  sortServers,
  statesChanged,
  trafficOf,
  watchedEntities,
  type HassEntityState,
} from "../src/fleet.js";
import { ENTRY, makeHass } from "./fixtures.js";

const FLEET = makeHass([
  {
    id: "a",
    name: "server-10",
    states: { online: "on", cpu: "12.5", network_in_traffic: "2", network_out_traffic: "1", expires: "2027-03-01T00:00:00+00:00" },
    units: { network_in_traffic: "GiB", network_out_traffic: "GiB" },
    labels: ["prod"],
    area: "tokyo",
  },
  {
    id: "b",
    name: "server-2",
    states: { online: "on", cpu: "80", network_in_traffic: "500", network_out_traffic: "0" },
    units: { network_in_traffic: "MiB", network_out_traffic: "MiB" },
    labels: ["prod", "db"],
  },
  { id: "c", name: "server-1", states: { online: "off", cpu: "unavailable" }, area: "tokyo" },
  // Under an entity budget a server may have only its online sensor.
  { id: "d", name: "server-3", states: { online: "on" } },
]);

const names = (servers: { name: string }[]): string[] => servers.map((server) => server.name);

describe("findServers", () => {
  it("finds every server device of the entry, not the dashboard's device", () => {
    const servers = findServers(FLEET, ENTRY);
    assert.deepEqual(names(servers).sort(), ["server-1", "server-10", "server-2", "server-3"]);
    const a = servers.find((server) => server.deviceId === "a");
    assert.equal(a?.entities.cpu, "sensor.a_cpu");
    assert.equal(a?.entities.online, "binary_sensor.a_online");
    assert.deepEqual(a?.labels, ["prod"]);
  });

  it("keeps only what a server has", () => {
    const d = findServers(FLEET, ENTRY).find((server) => server.deviceId === "d");
    assert.deepEqual(Object.keys(d?.entities ?? {}), ["online"]);
  });

  it("ignores other entries and other integrations", () => {
    assert.deepEqual(findServers(FLEET, "other"), []);
    const hass = makeHass([{ id: "x", name: "x", states: { cpu: "1" } }]);
    hass.entities["sensor.x_cpu"] = { ...hass.entities["sensor.x_cpu"]!, platform: "systemmonitor" };
    assert.deepEqual(findServers(hass, ENTRY), []);
  });

  it("prefers the name the user gave the device", () => {
    const hass = makeHass([{ id: "x", name: "x", states: { online: "on" } }]);
    hass.devices.x = { ...hass.devices.x!, name_by_user: "Mine" };
    assert.deepEqual(names(findServers(hass, ENTRY)), ["Mine"]);
  });
});

describe("entriesWithServers", () => {
  it("lists the entries whose devices have an online sensor", () => {
    assert.deepEqual(entriesWithServers(FLEET), [ENTRY]);
    assert.deepEqual(entriesWithServers(makeHass([])), []);
  });
});

describe("values", () => {
  const servers = findServers(FLEET, ENTRY);
  const byId = (id: string) => servers.find((server) => server.deviceId === id)!;

  it("reads online, offline and not known", () => {
    assert.equal(onlineOf(FLEET, byId("a")), true);
    assert.equal(onlineOf(FLEET, byId("c")), false);
    const hass = makeHass([{ id: "x", name: "x", states: { online: "unavailable", cpu: "1" } }]);
    assert.equal(onlineOf(hass, findServers(hass, ENTRY)[0]!), null);
  });

  it("converts traffic to bytes whatever the unit", () => {
    assert.equal(bytesOf(FLEET, byId("a"), "network_in_traffic"), 2 * 1024 ** 3);
    assert.equal(trafficOf(FLEET, byId("b")), 500 * 1024 ** 2);
    assert.equal(trafficOf(FLEET, byId("d")), null);
  });
});

describe("sortServers", () => {
  const servers = findServers(FLEET, ENTRY);

  it("sorts by name naturally, offline last", () => {
    assert.deepEqual(names(sortServers(FLEET, servers, "name", true)), ["server-2", "server-3", "server-10", "server-1"]);
  });

  it("keeps offline servers in place when asked", () => {
    assert.deepEqual(names(sortServers(FLEET, servers, "name", false)), ["server-1", "server-2", "server-3", "server-10"]);
  });

  it("sorts by CPU, busiest first, servers without a value after", () => {
    assert.deepEqual(names(sortServers(FLEET, servers, "cpu", true)), ["server-2", "server-10", "server-3", "server-1"]);
  });

  it("sorts by traffic, most first", () => {
    assert.deepEqual(names(sortServers(FLEET, servers, "traffic", false)), ["server-10", "server-2", "server-1", "server-3"]);
  });

  it("sorts by expiry, soonest first, servers without one after", () => {
    const hass = makeHass([
      { id: "x", name: "late", states: { online: "on", expires: "2028-01-01T00:00:00Z" } },
      { id: "y", name: "soon", states: { online: "on", expires: "2027-01-01T00:00:00Z" } },
      { id: "z", name: "never", states: { online: "on" } },
    ]);
    assert.deepEqual(names(sortServers(hass, findServers(hass, ENTRY), "expiry", true)), ["soon", "late", "never"]);
  });
});

describe("filterServers", () => {
  const servers = findServers(FLEET, ENTRY);
  it("keeps servers with the label, in the area, or both", () => {
    assert.deepEqual(names(filterServers(servers, { label: "db" })), ["server-2"]);
    assert.deepEqual(names(filterServers(servers, { area: "tokyo" })).sort(), ["server-1", "server-10"]);
    assert.deepEqual(names(filterServers(servers, { label: "prod", area: "tokyo" })), ["server-10"]);
    assert.equal(filterServers(servers, {}).length, 4);
  });
});

describe("pageOf", () => {
  it("cuts pages and clamps the page number", () => {
    const items = Array.from({ length: 10 }, (_, index) => index);
    assert.deepEqual(pageOf(items, 1, 4), { items: [4, 5, 6, 7], page: 1, pages: 3 });
    assert.deepEqual(pageOf(items, 9, 4), { items: [8, 9], page: 2, pages: 3 });
    assert.deepEqual(pageOf([], 0, 4), { items: [], page: 0, pages: 1 });
  });
});

describe("severity and flags", () => {
  it("colours bars at 70 % and 90 %", () => {
    assert.deepEqual([0, 69.9, 70, 89.9, 90, 100].map(severity), ["normal", "normal", "warning", "warning", "critical", "critical"]);
  });

  it("draws a flag from a country code only", () => {
    assert.equal(flagOf("cn"), "🇨🇳");
    assert.equal(flagOf("US"), "🇺🇸");
    assert.equal(flagOf(""), "");
    assert.equal(flagOf("unknown"), "");
    assert.equal(flagOf(undefined), "");
  });
});

describe("statesChanged", () => {
  it("reports a change only when a watched state object changes", () => {
    const hass = makeHass([{ id: "x", name: "x", states: { online: "on", cpu: "1" } }]);
    const watched = watchedEntities(findServers(hass, ENTRY));
    const seen = new Map<string, HassEntityState | undefined>();
    assert.equal(statesChanged(hass, watched, seen), true);
    assert.equal(statesChanged(hass, watched, seen), false);
    // Another entity's change does not matter.
    hass.states = { ...hass.states, "sensor.other": { entity_id: "sensor.other", state: "1", attributes: {} } };
    assert.equal(statesChanged(hass, watched, seen), false);
    hass.states = { ...hass.states, "sensor.x_cpu": { entity_id: "sensor.x_cpu", state: "2", attributes: {} } };
    assert.equal(statesChanged(hass, watched, seen), true);
    // An entity that disappears is a change too.
    const { ["sensor.x_cpu"]: _gone, ...rest } = hass.states;
    hass.states = rest;
    assert.equal(statesChanged(hass, watched, seen), true);
    assert.equal(statesChanged(hass, watched, seen), false);
  });
});

describe("normaliseConfig", () => {
  it("fills in the defaults", () => {
    assert.deepEqual(normaliseConfig({ type: "custom:nezha-fleet-card", entry: "e" }), {
      type: "custom:nezha-fleet-card",
      entry: "e",
      sort: "name",
      offline_last: true,
      label: undefined,
      area: undefined,
      compact: false,
      page_size: 48,
    });
  });

  it("refuses an unknown sort and a bad page size", () => {
    assert.throws(() => normaliseConfig({ type: "t", sort: "ram" as never }), /Unknown sort "ram"/);
    assert.throws(() => normaliseConfig({ type: "t", page_size: 0 }), /page_size/);
  });
});
