import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { configFromForm, editorSchema, formData } from "../src/editor-form.js";
import { LANGUAGES, formatUptime, languageOf, localize } from "../src/localize.js";

describe("localize", () => {
  it("speaks Simplified Chinese to Chinese users, English to others", () => {
    assert.equal(languageOf("zh-Hans"), "zh-Hans");
    assert.equal(languageOf("zh-CN"), "zh-Hans");
    assert.equal(languageOf("zh-Hant"), "en");
    assert.equal(languageOf("de"), "en");
    assert.equal(languageOf(undefined), "en");
    assert.equal(localize("zh-Hans", "offline"), "离线");
    assert.equal(localize("en", "servers_online", { online: 2, total: 3 }), "2 of 3 online");
    assert.equal(localize("zh-Hans", "servers_online", { online: 2, total: 3 }), "2/3 台在线");
  });

  it("has every word in both languages, with the same placeholders", () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
    const en = LANGUAGES.en!;
    const zh = LANGUAGES["zh-Hans"]!;
    assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      assert.ok(zh[key].trim(), key);
      assert.deepEqual(placeholders(zh[key]), placeholders(en[key]), key);
    }
  });
});

describe("formatUptime", () => {
  const now = Date.parse("2026-12-07T12:00:00Z");
  it("shows the two largest units", () => {
    assert.equal(formatUptime("en", now - (3 * 1440 + 4 * 60 + 5) * 60_000, now), "3 d 4 h");
    assert.equal(formatUptime("en", now - (5 * 60 + 12) * 60_000, now), "5 h 12 min");
    assert.equal(formatUptime("en", now - 7 * 60_000, now), "7 min");
    assert.equal(formatUptime("zh-Hans", now - (2 * 1440 + 60) * 60_000, now), "2 天 1 小时");
    // A boot time in the future (clocks apart) is no uptime, not a negative one.
    assert.equal(formatUptime("en", now + 60_000, now), "0 min");
  });
});

describe("the editor's form", () => {
  it("has a labelled field per option, the entry picked among Nezha's", () => {
    const schema = editorSchema("zh-Hans") as { name: string; selector: Record<string, unknown> }[];
    assert.deepEqual(schema.map((field) => field.name), ["entry", "sort", "offline_last", "compact", "label", "area", "page_size"]);
    assert.deepEqual(schema[0]!.selector, { config_entry: { integration: "nezha" } });
    const sort = schema[1]!.selector.select as { options: { value: string; label: string }[] };
    assert.deepEqual(sort.options.map((option) => option.label), ["名称", "CPU 使用率", "流量", "到期时间"]);
    const words: Record<string, string> = LANGUAGES["zh-Hans"]!;
    for (const field of schema) assert.ok(words[field.name], `no label for ${field.name}`);
  });

  it("shows the defaults and drops emptied fields", () => {
    assert.deepEqual(formData({ type: "t", entry: "e", sort: "cpu" }), {
      type: "t", entry: "e", sort: "cpu", offline_last: true, compact: false, page_size: 48,
    });
    assert.deepEqual(configFromForm({ type: "t", entry: "e", label: "", area: undefined, compact: true }), {
      type: "t", entry: "e", compact: true,
    });
  });
});
