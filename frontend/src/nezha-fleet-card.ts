/**
 * `nezha-fleet-card`: every server of one Nezha dashboard entry in one card, drawn like the
 * dashboard's own page. It reads only what Home Assistant already holds (registries and
 * states), renders again only when one of its entities changes and only while it is on screen,
 * and pages the list so that a fleet of 1000 servers draws one page at a time.
 */

import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from "lit";
import { repeat } from "lit/directives/repeat.js";

import {
  type CardConfig,
  type HassEntityState,
  type HassLike,
  type Key,
  type Server,
  entriesWithServers,
  filterServers,
  findServers,
  flagOf,
  numberOf,
  onlineOf,
  pageOf,
  severity,
  sortServers,
  stateOf,
  statesChanged,
  timeOf,
  normaliseConfig,
  watchedEntities,
} from "./fleet.js";
import { type WordKey, formatUptime, localize } from "./localize.js";
import "./editor.js";

export const CARD_TYPE = "nezha-fleet-card";

type Config = ReturnType<typeof normaliseConfig>;

/** Render timings, read by the browser check (first render and the latest update, in ms). */
export interface RenderStats {
  renders: number;
  first_ms: number | null;
  last_ms: number | null;
  servers: number;
  shown: number;
}

const BARS: readonly { key: Key; label: WordKey }[] = [
  { key: "cpu", label: "cpu" },
  { key: "memory_usage", label: "memory" },
  { key: "disk_usage", label: "disk" },
];

let emojiFlags: boolean | undefined;

/**
 * Whether this browser draws flag emoji (Windows and Linux without an emoji font draw two
 * letters in boxes): a flag drawn on a canvas has colour. Asked once.
 */
function flagEmoji(): boolean {
  if (emojiFlags === undefined) {
    const context = document.createElement("canvas").getContext("2d", { willReadFrequently: true });
    emojiFlags = false;
    if (context) {
      context.canvas.width = context.canvas.height = 20;
      context.font = "16px sans-serif";
      context.textBaseline = "top";
      context.fillText(flagOf("de"), 0, 0);
      const pixels = context.getImageData(0, 0, 20, 20).data;
      for (let index = 0; index < pixels.length && !emojiFlags; index += 4) {
        emojiFlags = pixels[index] !== pixels[index + 1] || pixels[index + 1] !== pixels[index + 2];
      }
    }
  }
  return emojiFlags;
}

export class NezhaFleetCard extends LitElement {
  private _hass?: HassLike;
  private _config?: Config;
  private _servers: Server[] = [];
  private _watched: string[] = [];
  private readonly _seen = new Map<string, HassEntityState | undefined>();
  private _registries: unknown[] = [];
  private _page = 0;
  private _visible = true;
  private _dirty = false;
  private _observer?: IntersectionObserver;
  private _renderStart = 0;
  stats: RenderStats = { renders: 0, first_ms: null, last_ms: null, servers: 0, shown: 0 };

  static getConfigElement(): HTMLElement {
    return document.createElement(`${CARD_TYPE}-editor`);
  }

  static getStubConfig(hass: HassLike): CardConfig {
    const [entry] = entriesWithServers(hass);
    return { type: `custom:${CARD_TYPE}`, ...(entry ? { entry } : {}) };
  }

  setConfig(config: CardConfig): void {
    this._config = normaliseConfig(config);
    this._registries = [];
    this._page = 0;
    this._refresh(true);
  }

  set hass(hass: HassLike) {
    this._hass = hass;
    if (!this._visible || document.hidden) {
      // Off screen: remember that something may have changed, draw it when seen again.
      this._dirty = true;
      return;
    }
    this._refresh(false);
  }

  get hass(): HassLike | undefined {
    return this._hass;
  }

  getCardSize(): number {
    return this._config?.compact ? 2 + Math.min(this.stats.shown, 12) : 3 + 3 * Math.ceil(this.stats.shown / 3);
  }

  getGridOptions(): Record<string, number | string> {
    return { columns: "full", min_columns: 6, min_rows: 2 };
  }

  connectedCallback(): void {
    super.connectedCallback();
    document.addEventListener("visibilitychange", this._onVisibility);
    if (typeof IntersectionObserver !== "undefined") {
      this._observer = new IntersectionObserver((records) => {
        this._visible = records.some((record) => record.isIntersecting);
        this._onVisibility();
      });
      this._observer.observe(this);
    }
  }

  disconnectedCallback(): void {
    super.disconnectedCallback();
    document.removeEventListener("visibilitychange", this._onVisibility);
    this._observer?.disconnect();
    this._observer = undefined;
    // Nothing is drawn while away; whatever came meanwhile is drawn on return.
    this._visible = false;
    this._dirty = true;
  }

  private readonly _onVisibility = (): void => {
    if (this._visible && !document.hidden && this._dirty) {
      this._dirty = false;
      this._refresh(false);
    }
  };

  /** Find the servers again when the registries or config changed; render when a state did. */
  private _refresh(force: boolean): void {
    const hass = this._hass;
    const config = this._config;
    if (!hass || !config) return;
    const registries = [hass.entities, hass.devices, hass.locale, hass.formatEntityState];
    const rebuilt = registries.some((value, index) => value !== this._registries[index]);
    if (rebuilt) {
      this._registries = registries;
      const all = config.entry ? findServers(hass, config.entry) : [];
      this._servers = filterServers(all, config);
      this._watched = watchedEntities(this._servers);
    }
    if (statesChanged(hass, this._watched, this._seen) || rebuilt || force) {
      this.requestUpdate();
    }
  }

  protected willUpdate(_changed: PropertyValues): void {
    this._renderStart = performance.now();
  }

  protected updated(_changed: PropertyValues): void {
    const elapsed = performance.now() - this._renderStart;
    this.stats.renders += 1;
    this.stats.first_ms ??= elapsed;
    this.stats.last_ms = elapsed;
    this.dataset.renderMs = elapsed.toFixed(2);
  }

  private _t(key: WordKey, values?: Record<string, string | number>): string {
    return localize(this._hass?.locale?.language ?? this._hass?.language, key, values);
  }

  private _format(state: HassEntityState): string {
    if (this._hass?.formatEntityState) return this._hass.formatEntityState(state);
    const unit = state.attributes.unit_of_measurement;
    return unit ? `${state.state} ${String(unit)}` : state.state;
  }

  private _moreInfo(entityId: string): void {
    this.dispatchEvent(
      new CustomEvent("hass-more-info", { detail: { entityId }, bubbles: true, composed: true }),
    );
  }

  private _openDevice(deviceId: string): void {
    // Home Assistant's own navigation: push the address, tell the router.
    history.pushState(null, "", `/config/devices/device/${deviceId}`);
    window.dispatchEvent(new CustomEvent("location-changed", { detail: { replace: false } }));
  }

  private _goto(page: number): void {
    this._page = page;
    this.requestUpdate();
  }

  protected render(): TemplateResult | typeof nothing {
    const hass = this._hass;
    const config = this._config;
    if (!hass || !config) return nothing;
    if (!config.entry) {
      return html`<ha-card><div class="message">${this._t("choose_entry")}</div></ha-card>`;
    }
    const sorted = sortServers(hass, this._servers, config.sort, config.offline_last);
    const page = pageOf(sorted, this._page, config.page_size);
    this._page = page.page;
    const online = this._servers.filter((server) => onlineOf(hass, server) === true).length;
    this.stats.servers = sorted.length;
    this.stats.shown = page.items.length;
    return html`
      <ha-card>
        <div class="header">
          <span class="title">${this._t("name")}</span>
          <span class="summary">${this._t("servers_online", { online, total: sorted.length })}</span>
        </div>
        ${sorted.length === 0
          ? html`<div class="message">${this._t("no_servers")}</div>`
          : html`<div class=${config.compact ? "list compact" : "list grid"} role="list">
              ${repeat(
                page.items,
                (server) => server.deviceId,
                (server) => (config.compact ? this._row(hass, server) : this._tile(hass, server)),
              )}
            </div>`}
        ${page.pages > 1 ? this._pager(page.page, page.pages) : nothing}
      </ha-card>
    `;
  }

  private _pager(page: number, pages: number): TemplateResult {
    return html`<nav class="pager">
      <button
        class="page"
        ?disabled=${page === 0}
        aria-label=${this._t("previous")}
        @click=${() => this._goto(page - 1)}
      >
        ‹
      </button>
      <span>${this._t("page", { page: page + 1, pages })}</span>
      <button
        class="page"
        ?disabled=${page >= pages - 1}
        aria-label=${this._t("next")}
        @click=${() => this._goto(page + 1)}
      >
        ›
      </button>
    </nav>`;
  }

  private _name(hass: HassLike, server: Server): TemplateResult {
    const online = onlineOf(hass, server);
    const status = this._t(online === null ? "unknown" : online ? "online" : "offline");
    const code = stateOf(hass, server, "country_code")?.state ?? "";
    const flag = flagOf(code);
    return html`<button
      class="name"
      aria-label=${`${this._t("open_device", { name: server.name })} (${status})`}
      @click=${() => this._openDevice(server.deviceId)}
    >
      <span class=${`dot ${online === null ? "unknown" : online ? "on" : "off"}`} title=${status}></span>
      ${flag
        ? flagEmoji()
          ? html`<span class="flag" title=${code}>${flag}</span>`
          : html`<span class="flag code" title=${code}>${code.toUpperCase()}</span>`
        : nothing}
      <span class="text">${server.name}</span>
    </button>`;
  }

  /** A value that opens its entity's more-info (history) when clicked. */
  private _value(
    hass: HassLike,
    server: Server,
    key: Key,
    label: WordKey,
    content: (state: HassEntityState | undefined, text: string) => TemplateResult | string,
    cls = "value",
  ): TemplateResult | typeof nothing {
    const entityId = server.entities[key];
    if (!entityId) return nothing;
    const state = stateOf(hass, server, key);
    const text = state ? this._format(state) : "—";
    // Bars keep their label and track without a value, so that rows line up.
    const always = cls.includes("bar-row");
    return html`<button
      class=${cls}
      data-key=${key}
      data-entity=${entityId}
      aria-label=${this._t("open_value", { label: this._t(label), name: server.name, value: text })}
      @click=${() => this._moreInfo(entityId)}
    >
      ${state || always ? content(state, text) : text}
    </button>`;
  }

  private _bar(hass: HassLike, server: Server, key: Key, label: WordKey): TemplateResult | typeof nothing {
    const percent = numberOf(hass, server, key);
    return this._value(
      hass,
      server,
      key,
      label,
      (_state, text) => html`<span class="bar-label">${this._t(label)}</span>
        <span class="bar" role="presentation">
          ${percent === null
            ? nothing
            : html`<span
                class=${`fill ${severity(percent)}`}
                style=${`width:${Math.min(100, Math.max(0, percent))}%`}
              ></span>`}
        </span>
        <span class="bar-value">${text}</span>`,
      "value bar-row",
    );
  }

  private _uptime(hass: HassLike, server: Server): TemplateResult | typeof nothing {
    const boot = timeOf(hass, server, "last_boot");
    const language = hass.locale?.language ?? hass.language;
    return this._value(hass, server, "last_boot", "uptime", () =>
      boot === null ? "—" : formatUptime(language, boot, Date.now()),
    );
  }

  private _tile(hass: HassLike, server: Server): TemplateResult {
    const online = onlineOf(hass, server);
    const plain = (_state: unknown, text: string): string => text;
    return html`<div
      class=${`tile ${online === false ? "offline" : ""}`}
      role="listitem"
      data-device=${server.deviceId}
    >
      ${this._name(hass, server)}
      <div class="bars">${BARS.map(({ key, label }) => this._bar(hass, server, key, label))}</div>
      <dl class="facts">
        ${this._fact(server, ["network_in_speed", "network_out_speed"], "network", html`↓ ${this._value(hass, server, "network_in_speed", "download", plain)} ↑ ${this._value(hass, server, "network_out_speed", "upload", plain)}`)}
        ${this._fact(server, ["network_in_traffic", "network_out_traffic"], "traffic", html`↓ ${this._value(hass, server, "network_in_traffic", "traffic", plain)} ↑ ${this._value(hass, server, "network_out_traffic", "traffic", plain)}`)}
        ${this._fact(server, ["last_boot"], "uptime", this._uptime(hass, server))}
        ${this._fact(server, ["load_1"], "load", this._value(hass, server, "load_1", "load", plain))}
        ${this._fact(server, ["expires"], "expires", this._value(hass, server, "expires", "expires", plain))}
      </dl>
    </div>`;
  }

  /** A labelled line of the tile, only when the server has any of its entities. */
  private _fact(
    server: Server,
    keys: Key[],
    label: WordKey,
    content: TemplateResult | typeof nothing,
  ): TemplateResult | typeof nothing {
    if (!keys.some((key) => server.entities[key])) return nothing;
    return html`<div class="fact"><dt>${this._t(label)}</dt><dd>${content}</dd></div>`;
  }

  private _row(hass: HassLike, server: Server): TemplateResult {
    const online = onlineOf(hass, server);
    const plain = (_state: unknown, text: string): string => text;
    return html`<div
      class=${`row ${online === false ? "offline" : ""}`}
      role="listitem"
      data-device=${server.deviceId}
    >
      ${this._name(hass, server)}
      <div class="mini-bars">${BARS.map(({ key, label }) => this._bar(hass, server, key, label))}</div>
      <div class="speeds">
        ${server.entities.network_in_speed ? html`↓ ${this._value(hass, server, "network_in_speed", "download", plain)}` : nothing}
        ${server.entities.network_out_speed ? html`↑ ${this._value(hass, server, "network_out_speed", "upload", plain)}` : nothing}
      </div>
    </div>`;
  }

  static styles = css`
    :host {
      --nezha-normal: var(--success-color, #43a047);
      --nezha-warning: var(--warning-color, #ffa600);
      --nezha-critical: var(--error-color, #db4437);
    }
    ha-card {
      padding: 12px;
      box-sizing: border-box;
    }
    .header {
      display: flex;
      align-items: baseline;
      justify-content: space-between;
      gap: 8px;
      padding: 0 4px 8px;
    }
    .title {
      font-size: var(--ha-font-size-l, 1.25rem);
      font-weight: 500;
      color: var(--primary-text-color);
    }
    .summary,
    .message {
      color: var(--secondary-text-color);
    }
    .message {
      padding: 8px 4px;
    }
    button {
      font: inherit;
      color: inherit;
      background: none;
      border: none;
      padding: 0;
      margin: 0;
      cursor: pointer;
      text-align: inherit;
      border-radius: 4px;
    }
    button:focus-visible {
      outline: 2px solid var(--primary-color);
      outline-offset: 1px;
    }
    .grid {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(250px, 1fr));
      gap: 8px;
    }
    .tile {
      border: 1px solid var(--divider-color);
      border-radius: var(--ha-card-border-radius, 12px);
      padding: 10px 12px;
      display: flex;
      flex-direction: column;
      gap: 8px;
      min-width: 0;
    }
    .offline {
      opacity: 0.6;
    }
    /* Greyed, but the red dot still says why. */
    .offline .bars,
    .offline .mini-bars,
    .offline .facts,
    .offline .speeds {
      filter: grayscale(1);
    }
    .name {
      display: flex;
      align-items: center;
      gap: 6px;
      font-weight: 500;
      color: var(--primary-text-color);
      min-width: 0;
    }
    .name .text {
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .dot {
      flex: none;
      width: 9px;
      height: 9px;
      border-radius: 50%;
      background: var(--disabled-text-color, #bdbdbd);
    }
    .dot.on {
      background: var(--nezha-normal);
    }
    .dot.off {
      background: var(--nezha-critical);
    }
    .flag {
      flex: none;
    }
    /* Where the browser has no flag emoji: the country's code. */
    .flag.code {
      font-size: 0.7em;
      font-weight: 500;
      line-height: 1;
      padding: 2px 3px;
      border-radius: 3px;
      border: 1px solid var(--divider-color);
      color: var(--secondary-text-color);
    }
    .bars,
    .mini-bars {
      display: flex;
      flex-direction: column;
      gap: 4px;
    }
    .bar-row {
      display: grid;
      grid-template-columns: 4.5em 1fr 4.5em;
      align-items: center;
      gap: 6px;
      font-size: 0.85em;
      color: var(--secondary-text-color);
    }
    .bar-value {
      text-align: end;
      color: var(--primary-text-color);
      white-space: nowrap;
    }
    .bar {
      height: 6px;
      border-radius: 3px;
      background: var(--divider-color);
      overflow: hidden;
    }
    .fill {
      display: block;
      height: 100%;
      border-radius: 3px;
      transition: width 0.4s ease;
    }
    .fill.normal {
      background: var(--nezha-normal);
    }
    .fill.warning {
      background: var(--nezha-warning);
    }
    .fill.critical {
      background: var(--nezha-critical);
    }
    .facts {
      margin: 0;
      display: flex;
      flex-direction: column;
      gap: 2px;
      font-size: 0.85em;
    }
    .fact {
      display: flex;
      justify-content: space-between;
      gap: 8px;
    }
    dt {
      color: var(--secondary-text-color);
      white-space: nowrap;
    }
    dd {
      margin: 0;
      text-align: end;
      color: var(--primary-text-color);
    }
    .list.compact {
      display: flex;
      flex-direction: column;
    }
    .row {
      display: grid;
      grid-template-columns: minmax(0, 1.2fr) minmax(0, 1.6fr);
      grid-template-areas: "name bars" "speeds bars";
      gap: 2px 10px;
      padding: 6px 4px;
      border-bottom: 1px solid var(--divider-color);
      font-size: 0.9em;
    }
    .row:last-child {
      border-bottom: none;
    }
    .row .name {
      grid-area: name;
    }
    .row .mini-bars {
      grid-area: bars;
      gap: 1px;
    }
    .row .mini-bars .bar-row {
      grid-template-columns: 3.5em 1fr 3.8em;
      font-size: 0.8em;
    }
    .row .speeds {
      grid-area: speeds;
      font-size: 0.8em;
      color: var(--secondary-text-color);
      white-space: nowrap;
      overflow: hidden;
      text-overflow: ellipsis;
    }
    .pager {
      display: flex;
      justify-content: center;
      align-items: center;
      gap: 12px;
      padding-top: 10px;
      color: var(--secondary-text-color);
    }
    .page {
      font-size: 1.4em;
      line-height: 1;
      width: 36px;
      height: 36px;
      text-align: center;
      color: var(--primary-color);
    }
    .page:disabled {
      color: var(--disabled-text-color);
      cursor: default;
    }
  `;
}

if (!customElements.get(CARD_TYPE)) {
  customElements.define(CARD_TYPE, NezhaFleetCard);
}

interface CustomCard {
  type: string;
  name: string;
  description: string;
  preview: boolean;
  documentationURL?: string;
}

const registry = window as unknown as { customCards?: CustomCard[] };
registry.customCards ??= [];
if (!registry.customCards.some((card) => card.type === CARD_TYPE)) {
  const language = document.documentElement.lang || navigator.language;
  registry.customCards.push({
    type: CARD_TYPE,
    name: localize(language, "name"),
    description: localize(language, "description"),
    preview: true,
    documentationURL: "https://github.com/nezha-ha/ha-nezha#the-fleet-card",
  });
}
