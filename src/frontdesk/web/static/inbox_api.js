// The agent API as the inbox uses it, plus the small DOM helpers every module shares.
// Visitor text only ever reaches the page through text nodes (h() never sets HTML).

const bootElement = document.getElementById("inbox-boot");
export const boot = JSON.parse(bootElement ? bootElement.textContent : "{}");
export const me = boot.agent || {};
const csrfMeta = document.querySelector('meta[name="csrf-token"]');
const CSRF = csrfMeta ? csrfMeta.content : "";
const BASE = "/api/v1/agent";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// fetch() with the session cookie; the CSRF header goes on every state-changing call,
// because the server refuses cookie requests without it.
export async function api(path, { method = "GET", json, form } = {}) {
  const headers = { Accept: "application/json" };
  let body;
  if (method !== "GET") headers["X-CSRF-Token"] = CSRF;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form; // the browser writes the multipart boundary itself
  }
  let response;
  try {
    response = await fetch(BASE + path, { method, headers, body, credentials: "same-origin" });
  } catch {
    throw new ApiError(0, "The server can't be reached; check your connection.");
  }
  if (response.status === 401) {
    // The session ended (signed out elsewhere, agent removed): back to the sign-in form.
    window.location.assign("/inbox");
    throw new ApiError(401, "Your session has ended; please sign in again.");
  }
  if (response.status === 204) return null;
  let data;
  try {
    data = await response.json();
  } catch {
    data = null; // not JSON (a proxy's error page): the status still tells
  }
  if (!response.ok) {
    const message = data && typeof data.error === "string" ? data.error : `Request failed (${response.status})`;
    throw new ApiError(response.status, message);
  }
  return data;
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// h("p", {class: "x", onclick: fn}, "text", child) -> element. Strings become text nodes.
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      element.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      element.className = value;
    } else if (key === "text") {
      element.textContent = value;
    } else if (key === "dataset") {
      Object.assign(element.dataset, value);
    } else if (value === true) {
      element.setAttribute(key, "");
    } else {
      element.setAttribute(key, String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayOnly = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

// Today's messages show the time; older ones the day, like every mail client.
export function shortTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const now = new Date();
  return date.toDateString() === now.toDateString() ? timeOnly.format(date) : dayOnly.format(date);
}

export function fullTime(iso) {
  return iso ? full.format(new Date(iso)) : "";
}

export function timeElement(iso, className = "time") {
  return h("time", { class: className, datetime: iso, title: fullTime(iso) }, shortTime(iso));
}

export function fileSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export function preview(message) {
  if (!message) return "No messages yet";
  const text = (message.body || "").replace(/\s+/g, " ").trim();
  const files = (message.attachments || []).map((file) => file.filename).join(", ");
  const content = text || (files ? `Attachment: ${files}` : "");
  if (message.private) return `Note: ${content}`;
  if (message.direction === "outbound") return `${message.author}: ${content}`;
  return content;
}

export function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}

// Was the user typing? Single-key shortcuts must never steal letters from a text field.
export function isTyping(target) {
  if (!(target instanceof Element)) return false;
  return Boolean(target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']"));
}

const SVG = "http://www.w3.org/2000/svg";
// Drawn, not an emoji: servers and kiosks often lack an emoji font and show a box instead.
const PAPERCLIP = "M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48";

export function paperclip() {
  const svg = document.createElementNS(SVG, "svg");
  for (const [key, value] of Object.entries({
    viewBox: "0 0 24 24", width: "16", height: "16", fill: "none", stroke: "currentColor",
    "stroke-width": "2", "stroke-linecap": "round", "stroke-linejoin": "round",
    "aria-hidden": "true", focusable: "false", class: "icon",
  })) svg.setAttribute(key, value);
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", PAPERCLIP);
  svg.append(path);
  return svg;
}
