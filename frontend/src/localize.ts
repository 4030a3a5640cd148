/**
 * The card's words in English and Simplified Chinese, chosen by the user's language in Home
 * Assistant (any Chinese but Traditional gets Simplified), and the uptime's short form.
 */

const EN = {
  name: "Nezha fleet",
  description: "Every server of a Nezha dashboard at a glance: online state, CPU, memory, disk, network, traffic and uptime.",
  choose_entry: "Choose a Nezha dashboard in the card's settings.",
  no_servers: "No server of this dashboard matches.",
  online: "Online",
  offline: "Offline",
  unknown: "Not reported",
  cpu: "CPU",
  memory: "Memory",
  disk: "Disk",
  swap: "Swap",
  network: "Network",
  download: "Download",
  upload: "Upload",
  traffic: "Traffic",
  uptime: "Uptime",
  load: "Load",
  expires: "Expires",
  servers_online: "{online} of {total} online",
  page: "Page {page} of {pages}",
  previous: "Previous page",
  next: "Next page",
  open_device: "Open the device page of {name}",
  open_value: "{label} of {name}: {value}. Open its history",
  entry: "Nezha dashboard",
  sort: "Sort by",
  sort_name: "Name",
  sort_cpu: "CPU usage",
  sort_traffic: "Traffic",
  sort_expiry: "Expiry",
  offline_last: "Offline servers last",
  label: "Only servers with this label",
  area: "Only servers in this area",
  compact: "Compact (for phones)",
  page_size: "Servers per page",
  days: "{n} d",
  hours: "{n} h",
  minutes: "{n} min",
};

type Words = typeof EN;

const ZH_HANS: Words = {
  name: "哪吒服务器总览",
  description: "一眼看全哪吒面板的每台服务器：在线状态、CPU、内存、硬盘、网络、流量和运行时间。",
  choose_entry: "请在卡片设置中选择一个哪吒监控面板。",
  no_servers: "此面板没有符合条件的服务器。",
  online: "在线",
  offline: "离线",
  unknown: "未上报",
  cpu: "CPU",
  memory: "内存",
  disk: "硬盘",
  swap: "交换",
  network: "网络",
  download: "下载",
  upload: "上传",
  traffic: "流量",
  uptime: "运行时间",
  load: "负载",
  expires: "到期",
  servers_online: "{online}/{total} 台在线",
  page: "第 {page}/{pages} 页",
  previous: "上一页",
  next: "下一页",
  open_device: "打开 {name} 的设备页",
  open_value: "{name} 的{label}：{value}。打开历史记录",
  entry: "哪吒监控面板",
  sort: "排序",
  sort_name: "名称",
  sort_cpu: "CPU 使用率",
  sort_traffic: "流量",
  sort_expiry: "到期时间",
  offline_last: "离线服务器排在最后",
  label: "只显示带此标签的服务器",
  area: "只显示此区域的服务器",
  compact: "紧凑（适合手机）",
  page_size: "每页服务器数",
  days: "{n} 天",
  hours: "{n} 小时",
  minutes: "{n} 分钟",
};

export type WordKey = keyof Words;

export const LANGUAGES: Record<string, Words> = { en: EN, "zh-Hans": ZH_HANS };

/** The card's language for Home Assistant's language tag. */
export function languageOf(tag: string | undefined): "en" | "zh-Hans" {
  const lower = (tag ?? "en").toLowerCase();
  return lower.startsWith("zh") && !lower.startsWith("zh-hant") ? "zh-Hans" : "en";
}

/** A word in that language, its `{placeholders}` filled in. */
export function localize(
  language: string | undefined,
  key: WordKey,
  values: Record<string, string | number> = {},
): string {
  const text = LANGUAGES[languageOf(language)][key];
  return text.replace(/\{(\w+)\}/g, (match, name: string) =>
    name in values ? String(values[name]) : match,
  );
}

/** How long since `since` (ms), in its two largest units: "3 d 4 h", "5 h 12 min", "7 min". */
export function formatUptime(language: string | undefined, since: number, now: number): string {
  const minutes = Math.max(0, Math.floor((now - since) / 60_000));
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const parts: string[] = [];
  if (days) parts.push(localize(language, "days", { n: days }));
  if (days || hours) parts.push(localize(language, "hours", { n: hours }));
  if (!days) parts.push(localize(language, "minutes", { n: minutes % 60 }));
  return parts.join(" ");
}
