// The "File storage" card of the settings: what the account's files take, against the
// operator's quotas (FRONTDESK_STORAGE_QUOTA_BYTES, FRONTDESK_CONVERSATION_STORAGE_QUOTA_BYTES).

import { api } from "./inbox_api.js";
import { clear, h } from "./inbox_dom.js";
import { fileSize } from "./inbox_format.js";

const GIB = 1024 * 1024 * 1024;

function size(bytes) {
  return bytes >= GIB ? `${(bytes / GIB).toFixed(1)} GB` : fileSize(bytes);
}

export function storageSection() {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const section = h(
    "section",
    { class: "card storage-usage", "aria-labelledby": "storage-heading" },
    h("h2", { id: "storage-heading" }, "File storage"),
    body,
  );
  api("/settings/storage").then(
    (usage) => clear(body, ...describe(usage)),
    (error) => clear(body, h("p", { class: "form-error", role: "alert" }, error.message)),
  );
  return section;
}

function describe({ used_bytes: used, quota_bytes: quota, conversation_quota_bytes: perConversation }) {
  if (!quota) {
    return [h("p", {}, `Files take ${size(used)}. No storage quota is set.`)];
  }
  const percent = Math.min(100, Math.round((used / quota) * 100));
  const lines = [
    h("p", {}, `${size(used)} of ${size(quota)} used (${percent}%).`),
    h("meter", { min: "0", max: String(quota), value: String(used), high: String(quota * 0.9), "aria-label": "File storage used" }),
  ];
  if (percent >= 100) {
    lines.push(h("p", { class: "form-error", role: "alert" }, "Storage is full: new files are refused."));
  }
  if (perConversation) {
    lines.push(h("p", { class: "muted" }, `Each conversation may hold up to ${size(perConversation)} of files.`));
  }
  return lines;
}
