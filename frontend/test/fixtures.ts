/** A small Home Assistant as the card sees it: registries and states of a Nezha entry. */
import type { DeviceRegistryEntry, EntityRegistryEntry, HassEntityState, HassLike } from "../src/fleet.js";

export const ENTRY = "entry-1";

export interface ServerSpec {
  id: string;
  name: string;
  states: Record<string, string>;
  units?: Record<string, string>;
  labels?: string[];
  area?: string;
}

export function makeHass(servers: ServerSpec[], entry = ENTRY): HassLike {
  const devices: Record<string, DeviceRegistryEntry> = {
    dashboard: { id: "dashboard", name: "Nezha", config_entries: [entry], via_device_id: null },
  };
  const entities: Record<string, EntityRegistryEntry> = {
    "sensor.servers_online": {
      entity_id: "sensor.servers_online",
      device_id: "dashboard",
      platform: "nezha",
      translation_key: "servers_online",
    },
  };
  const states: Record<string, HassEntityState> = {
    "sensor.servers_online": { entity_id: "sensor.servers_online", state: "2", attributes: {} },
  };
  for (const server of servers) {
    devices[server.id] = {
      id: server.id,
      name: server.name,
      config_entries: [entry],
      via_device_id: "dashboard",
      labels: server.labels ?? [],
      area_id: server.area ?? null,
    };
    for (const [key, state] of Object.entries(server.states)) {
      const domain = key === "online" ? "binary_sensor" : "sensor";
      const entityId = `${domain}.${server.id}_${key}`;
      entities[entityId] = { entity_id: entityId, device_id: server.id, platform: "nezha", translation_key: key };
      const unit = server.units?.[key];
      states[entityId] = { entity_id: entityId, state, attributes: unit ? { unit_of_measurement: unit } : {} };
    }
  }
  return { states, entities, devices, language: "en" };
}
