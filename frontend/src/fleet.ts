/**
 * The card's logic, free of the DOM so that `npm test` covers it: which devices of an entry are
 * servers, which of their entities say what (by translation key, as the integration names
 * them), the values read from Home Assistant's states, sorting, filtering, paging and the
 * severity of a bar.
 */

/** The parts of Home Assistant's frontend objects the card reads. */
export interface HassEntityState {
  entity_id: string;
  state: string;
  attributes: Record<string, unknown>;
}

export interface EntityRegistryEntry {
  entity_id: string;
  device_id?: string | null;
  platform?: string;
  translation_key?: string | null;
  hidden?: boolean;
}

export interface DeviceRegistryEntry {
  id: string;
  name: string | null;
  name_by_user?: string | null;
  config_entries: string[];
  via_device_id: string | null;
  area_id?: string | null;
  labels?: string[];
}

export interface HassLike {
  states: Record<string, HassEntityState | undefined>;
  entities: Record<string, EntityRegistryEntry | undefined>;
  devices: Record<string, DeviceRegistryEntry | undefined>;
  language?: string;
  locale?: { language?: string };
  formatEntityState?: (state: HassEntityState, value?: string) => string;
}

/** The integration's translation keys the card shows, for a server's entities. */
export const KEYS = [
  "online",
  "country_code",
  "cpu",
  "memory_usage",
  "disk_usage",
  "swap_usage",
  "network_in_speed",
  "network_out_speed",
  "network_in_traffic",
  "network_out_traffic",
  "load_1",
  "last_boot",
  "expires",
] as const;
export type Key = (typeof KEYS)[number];
const KNOWN = new Set<string>(KEYS);
// Entities only a server has: a device of the entry with any of them is a server (service
// monitors and the dashboard itself have none).
const SERVER_ONLY = new Set<string>(KEYS.filter((key) => key !== "expires"));

export interface Server {
  deviceId: string;
  name: string;
  areaId: string | null;
  labels: string[];
  /** Entity id per translation key: only those the server has (an entity budget may cut some). */
  entities: Partial<Record<Key, string>>;
}

export type SortKey = "name" | "cpu" | "traffic" | "expiry";
export const SORTS: readonly SortKey[] = ["name", "cpu", "traffic", "expiry"];

export interface CardConfig {
  type: string;
  entry?: string;
  sort?: SortKey;
  offline_last?: boolean;
  label?: string;
  area?: string;
  compact?: boolean;
  page_size?: number;
}

export const DEFAULT_PAGE_SIZE = 48;

/** The config as the card uses it: defaults filled in, nonsense refused. */
export function normaliseConfig(config: CardConfig): Required<Omit<CardConfig, "entry" | "label" | "area">> &
  Pick<CardConfig, "entry" | "label" | "area"> {
  if (!config || typeof config !== "object") {
    throw new Error("Invalid configuration");
  }
  const sort = config.sort ?? "name";
  if (!SORTS.includes(sort)) {
    throw new Error(`Unknown sort "${String(sort)}": one of ${SORTS.join(", ")}`);
  }
  const pageSize = config.page_size ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new Error("page_size must be a whole number of at least 1");
  }
  return {
    type: config.type,
    entry: config.entry || undefined,
    sort,
    offline_last: config.offline_last ?? true,
    label: config.label || undefined,
    area: config.area || undefined,
    compact: config.compact ?? false,
    page_size: pageSize,
  };
}

/** The servers of one config entry, from the registries (no state read). */
export function findServers(hass: HassLike, entryId: string): Server[] {
  const byDevice = new Map<string, Partial<Record<Key, string>>>();
  for (const entity of Object.values(hass.entities)) {
    if (
      !entity ||
      entity.platform !== "nezha" ||
      !entity.device_id ||
      !entity.translation_key ||
      !KNOWN.has(entity.translation_key)
    ) {
      continue;
    }
    let entities = byDevice.get(entity.device_id);
    if (!entities) {
      entities = {};
      byDevice.set(entity.device_id, entities);
    }
    entities[entity.translation_key as Key] = entity.entity_id;
  }
  const servers: Server[] = [];
  for (const [deviceId, entities] of byDevice) {
    const device = hass.devices[deviceId];
    if (!device || !device.config_entries.includes(entryId)) continue;
    if (!Object.keys(entities).some((key) => SERVER_ONLY.has(key))) continue;
    servers.push({
      deviceId,
      name: device.name_by_user || device.name || deviceId,
      areaId: device.area_id ?? null,
      labels: device.labels ?? [],
      entities,
    });
  }
  return servers;
}

/** The entries that have servers, for the editor's default and the card picker's preview. */
export function entriesWithServers(hass: HassLike): string[] {
  const entries = new Set<string>();
  for (const entity of Object.values(hass.entities)) {
    if (entity?.platform !== "nezha" || entity.translation_key !== "online" || !entity.device_id) {
      continue;
    }
    for (const entry of hass.devices[entity.device_id]?.config_entries ?? []) entries.add(entry);
  }
  return [...entries].sort();
}

const UNAVAILABLE = new Set(["unavailable", "unknown", ""]);

/** The state of a server's entity, or undefined when it has none or it has no value. */
export function stateOf(hass: HassLike, server: Server, key: Key): HassEntityState | undefined {
  const entityId = server.entities[key];
  const state = entityId ? hass.states[entityId] : undefined;
  return state && !UNAVAILABLE.has(state.state) ? state : undefined;
}

export function numberOf(hass: HassLike, server: Server, key: Key): number | null {
  const state = stateOf(hass, server, key);
  if (!state) return null;
  const value = Number(state.state);
  return Number.isFinite(value) ? value : null;
}

/** Online (true), offline (false) or not known (null: no entity or no value). */
export function onlineOf(hass: HassLike, server: Server): boolean | null {
  const state = stateOf(hass, server, "online");
  return state ? state.state === "on" : null;
}

const BYTES: Record<string, number> = {
  B: 1,
  kB: 1e3,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  PB: 1e15,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
  PiB: 1024 ** 5,
};

/** A data size state in bytes, whatever unit the user chose for the entity. */
export function bytesOf(hass: HassLike, server: Server, key: Key): number | null {
  const state = stateOf(hass, server, key);
  const value = state ? Number(state.state) : NaN;
  if (!state || !Number.isFinite(value)) return null;
  const factor = BYTES[String(state.attributes.unit_of_measurement ?? "B")];
  return factor === undefined ? null : value * factor;
}

/** Download plus upload traffic in bytes, or null when neither is known. */
export function trafficOf(hass: HassLike, server: Server): number | null {
  const down = bytesOf(hass, server, "network_in_traffic");
  const up = bytesOf(hass, server, "network_out_traffic");
  return down === null && up === null ? null : (down ?? 0) + (up ?? 0);
}

/** A timestamp state in ms since the epoch. */
export function timeOf(hass: HassLike, server: Server, key: Key): number | null {
  const state = stateOf(hass, server, key);
  const value = state ? Date.parse(state.state) : NaN;
  return Number.isFinite(value) ? value : null;
}

/** The servers wanted by the config's filters (a Home Assistant label and area). */
export function filterServers(
  servers: Server[],
  filter: { label?: string; area?: string },
): Server[] {
  return servers.filter(
    (server) =>
      (!filter.label || server.labels.includes(filter.label)) &&
      (!filter.area || server.areaId === filter.area),
  );
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/**
 * The servers in the order the user chose: by name (A–Z), CPU (busiest first), traffic (most
 * first) or expiry (soonest first); servers without the value after those with it, offline
 * servers after online ones when `offlineLast`. Ties keep the name order.
 */
export function sortServers(
  hass: HassLike,
  servers: Server[],
  sort: SortKey,
  offlineLast: boolean,
): Server[] {
  const value = (server: Server): number | null => {
    switch (sort) {
      case "cpu":
        return numberOf(hass, server, "cpu");
      case "traffic":
        return trafficOf(hass, server);
      case "expiry": {
        const time = timeOf(hass, server, "expires");
        // Soonest first: negate, so that every order below is "largest first".
        return time === null ? null : -time;
      }
      default:
        return null;
    }
  };
  const keyed = servers.map((server) => ({
    server,
    offline: offlineLast && onlineOf(hass, server) !== true,
    value: value(server),
  }));
  keyed.sort((a, b) => {
    if (a.offline !== b.offline) return a.offline ? 1 : -1;
    if (a.value !== b.value) {
      if (a.value === null) return 1;
      if (b.value === null) return -1;
      return b.value - a.value;
    }
    return collator.compare(a.server.name, b.server.name) || a.server.deviceId.localeCompare(b.server.deviceId);
  });
  return keyed.map((item) => item.server);
}

export interface Page<T> {
  items: T[];
  page: number;
  pages: number;
}

/** One page of the list (clamped to the pages there are). */
export function pageOf<T>(items: T[], page: number, size: number): Page<T> {
  const pages = Math.max(1, Math.ceil(items.length / size));
  const current = Math.min(Math.max(0, page), pages - 1);
  return { items: items.slice(current * size, (current + 1) * size), page: current, pages };
}

export type Severity = "normal" | "warning" | "critical";

/** The colour class of a usage bar, at Nezha's and Home Assistant's usual thresholds. */
export function severity(percent: number): Severity {
  if (percent >= 90) return "critical";
  if (percent >= 70) return "warning";
  return "normal";
}

/** A country's flag from its ISO 3166 code (regional indicator letters), or "" when not a code. */
export function flagOf(code: string | null | undefined): string {
  const letters = (code ?? "").trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(letters)) return "";
  return String.fromCodePoint(...[...letters].map((letter) => 0x1f1a5 + letter.charCodeAt(0)));
}

/** Every entity id the card reads for these servers: what a state change must touch to matter. */
export function watchedEntities(servers: Server[]): string[] {
  return servers.flatMap((server) => Object.values(server.entities) as string[]);
}

/**
 * Whether any watched state object changed since `seen` (Home Assistant replaces a state's
 * object when it changes, so identity is enough); `seen` is brought up to date.
 */
export function statesChanged(
  hass: HassLike,
  watched: string[],
  seen: Map<string, HassEntityState | undefined>,
): boolean {
  let changed = seen.size !== watched.length;
  if (changed) seen.clear();
  for (const entityId of watched) {
    const state = hass.states[entityId];
    if (seen.get(entityId) !== state || (state === undefined && !seen.has(entityId))) {
      seen.set(entityId, state);
      changed = true;
    }
  }
  return changed;
}
