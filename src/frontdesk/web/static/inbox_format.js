// How the inbox writes times, file sizes and message previews, for every inbox module.
// The widget keeps its own few lines for these: it is one classic script on customers'
// pages, and importing an inbox module would cost it an extra request and a bigger download.

const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayOnly = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const withSeconds = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const dayAndTime = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

// The API sends microseconds ("…:00.123456Z"); trimmed to milliseconds, because not every
// engine parses six fractional digits, and an Invalid Date makes Intl throw mid-render.
export function parseTime(iso) {
  if (!iso) return null;
  const date = new Date(String(iso).replace(/(\.\d{3})\d+/, "$1"));
  return Number.isNaN(date.getTime()) ? null : date;
}

// Today's messages show the time; older ones the day, like every mail client.
export function shortTime(iso) {
  const date = parseTime(iso);
  if (!date) return "";
  return date.toDateString() === new Date().toDateString() ? timeOnly.format(date) : dayOnly.format(date);
}

// For logs of machine events (webhook deliveries), where seconds tell retries apart.
export function logTime(iso) {
  const date = parseTime(iso);
  if (!date) return "";
  return date.toDateString() === new Date().toDateString() ? withSeconds.format(date) : dayAndTime.format(date);
}

export function fullTime(iso) {
  const date = parseTime(iso);
  return date ? full.format(date) : "";
}

export function fileSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

// One line for a list: the text, else the files; who wrote it when it wasn't the visitor.
export function preview(message) {
  if (!message) return "No messages yet";
  const text = (message.body || "").replace(/\s+/g, " ").trim();
  const files = (message.attachments || []).map((file) => file.filename).join(", ");
  const content = text || (files ? `Attachment: ${files}` : "");
  if (message.private) return `Note: ${content}`;
  if (message.direction === "outbound") return `${message.author}: ${content}`;
  return content;
}
