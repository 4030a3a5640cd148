/** The editor's form, free of the DOM so that `npm test` covers it. */

import { type CardConfig, DEFAULT_PAGE_SIZE, SORTS } from "./fleet.js";
import { type WordKey, localize } from "./localize.js";

const SORT_WORDS: Record<string, WordKey> = {
  name: "sort_name",
  cpu: "sort_cpu",
  traffic: "sort_traffic",
  expiry: "sort_expiry",
};

/** The form's schema: ha-form draws each selector as Home Assistant's own editors do. */
export function editorSchema(language: string | undefined): object[] {
  return [
    { name: "entry", required: true, selector: { config_entry: { integration: "nezha" } } },
    {
      name: "sort",
      selector: {
        select: {
          mode: "dropdown",
          options: SORTS.map((value) => ({
            value,
            label: localize(language, SORT_WORDS[value] ?? "sort_name"),
          })),
        },
      },
    },
    { name: "offline_last", selector: { boolean: {} } },
    { name: "compact", selector: { boolean: {} } },
    { name: "label", selector: { label: {} } },
    { name: "area", selector: { area: {} } },
    { name: "page_size", selector: { number: { min: 1, max: 500, mode: "box" } } },
  ];
}

/** The config with the form's defaults shown, so that the form reflects what the card does. */
export function formData(config: CardConfig): Record<string, unknown> {
  return { sort: "name", offline_last: true, compact: false, page_size: DEFAULT_PAGE_SIZE, ...config };
}

/** The new config from the form: empty fields dropped, so that YAML stays short. */
export function configFromForm(value: Record<string, unknown>): CardConfig {
  const config: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined && item !== null && item !== "") config[key] = item;
  }
  return config as unknown as CardConfig;
}
