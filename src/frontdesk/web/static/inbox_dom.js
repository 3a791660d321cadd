// Building the inbox's DOM, for every inbox module. Visitor text only ever reaches the page
// through text nodes and attributes: h() never sets HTML.
// The widget keeps its own few lines for this: it is one classic script on customers'
// pages, and importing an inbox module would cost it an extra request and a bigger download.

import { fullTime, shortTime } from "./inbox_format.js";

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

// A labelled form field: the label, the control (which carries `id`), an optional hint the
// control is described by.
export function field(id, label, control, hint) {
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("p", { class: "hint", id: hintId }, hint) : null);
}

// Empty `element`, then fill it with `children` (as h() would).
export function clear(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

export function timeElement(iso, className = "time") {
  return h("time", { class: className, datetime: iso, title: fullTime(iso) }, shortTime(iso));
}

const SVG = "http://www.w3.org/2000/svg";
// Drawn, not emoji: servers and kiosks often lack an emoji font and show a box instead.
const PAPERCLIP = "M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48";
const CHEVRON_LEFT = "M15 18l-6-6 6-6";

function icon(d) {
  const svg = document.createElementNS(SVG, "svg");
  for (const [key, value] of Object.entries({
    viewBox: "0 0 24 24", width: "16", height: "16", fill: "none", stroke: "currentColor",
    "stroke-width": "2", "stroke-linecap": "round", "stroke-linejoin": "round",
    "aria-hidden": "true", focusable: "false", class: "icon",
  })) svg.setAttribute(key, value);
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", d);
  svg.append(path);
  return svg;
}

export const paperclip = () => icon(PAPERCLIP);
export const chevronLeft = () => icon(CHEVRON_LEFT);

// Put `element`'s text on the clipboard. There is no async clipboard outside secure contexts
// (plain http on a LAN): then the text is selected and copied the old way.
export async function copyText(element) {
  try {
    await navigator.clipboard.writeText(element.textContent);
  } catch {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    document.execCommand("copy");
  }
}

// A modal question with the safe answer focused first, so Enter never destroys by accident.
export function confirmDialog({ title, text, confirm }) {
  return new Promise((resolve) => {
    const cancelButton = h("button", { type: "button", class: "secondary" }, "Cancel");
    const confirmButton = h("button", { type: "button", class: "danger" }, confirm);
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-labelledby": "confirm-title", "aria-describedby": "confirm-text" },
      h("h2", { id: "confirm-title" }, title),
      h("p", { id: "confirm-text" }, text),
      h("div", { class: "form-actions end" }, cancelButton, confirmButton),
    );
    const finish = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    cancelButton.addEventListener("click", () => finish(false));
    confirmButton.addEventListener("click", () => finish(true));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancelButton.focus();
  });
}
