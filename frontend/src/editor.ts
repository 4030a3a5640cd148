/**
 * The card's visual editor: Home Assistant's own form and selectors (the Nezha entry, a label,
 * an area), so that no YAML is needed.
 */

import { LitElement, html, nothing, type TemplateResult } from "lit";

import { configFromForm, editorSchema, formData } from "./editor-form.js";
import type { CardConfig, HassLike } from "./fleet.js";
import { type WordKey, localize } from "./localize.js";

export class NezhaFleetCardEditor extends LitElement {
  private _hass?: HassLike;
  private _config?: CardConfig;

  set hass(hass: HassLike) {
    this._hass = hass;
    this.requestUpdate();
  }

  setConfig(config: CardConfig): void {
    this._config = config;
    this.requestUpdate();
  }

  private get _language(): string | undefined {
    return this._hass?.locale?.language ?? this._hass?.language;
  }

  private readonly _label = (schema: { name: string }): string =>
    localize(this._language, schema.name as WordKey);

  private _changed(event: CustomEvent<{ value: Record<string, unknown> }>): void {
    event.stopPropagation();
    const config = configFromForm(event.detail.value);
    this.dispatchEvent(
      new CustomEvent("config-changed", { detail: { config }, bubbles: true, composed: true }),
    );
  }

  protected render(): TemplateResult | typeof nothing {
    if (!this._hass || !this._config) return nothing;
    return html`<ha-form
      .hass=${this._hass}
      .data=${formData(this._config)}
      .schema=${editorSchema(this._language)}
      .computeLabel=${this._label}
      @value-changed=${this._changed}
    ></ha-form>`;
  }
}

if (!customElements.get("nezha-fleet-card-editor")) {
  customElements.define("nezha-fleet-card-editor", NezhaFleetCardEditor);
}
