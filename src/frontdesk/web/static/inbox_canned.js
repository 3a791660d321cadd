// Canned responses (contract section 10): the page that keeps them, and the `/` listbox in
// the reply box that puts one in with its {{contact.name}}-style placeholders filled.

import { api } from "./inbox_api.js";
import { clear, field, h } from "./inbox_dom.js";

const bootElement = document.getElementById("inbox-boot");
const me = JSON.parse(bootElement ? bootElement.textContent : "{}").agent || {};

// Fetched once per page and after every change on the canned page.
let cache = null;
export function cannedResponses() {
  if (!cache) cache = api("/canned-responses").then((data) => data.canned_responses).catch(() => ((cache = null), []));
  return cache;
}

// {{contact.name}}, {{contact.first_name}}, {{contact.email}}, {{agent.name}}; anything
// else is left as written, so a typo shows rather than vanishing.
export function fillPlaceholders(body, conversation) {
  const contact = (conversation && conversation.contact) || {};
  const name = (conversation && conversation.visitor_name) || contact.name || "";
  const values = {
    "contact.name": name,
    "contact.first_name": name.split(/\s+/)[0] || "",
    "contact.email": contact.email || "",
    "agent.name": me.name || "",
  };
  return body.replace(/\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}/g, (whole, key) => (key in values ? values[key] : whole));
}

// `/` + the start of a shortcut, at the start of the reply or after a space, up to the caret.
const TRIGGER = /(^|\s)\/([a-z0-9_-]*)$/;

export function attachCanned(textarea, conversation) {
  const box = h("ul", { role: "listbox", id: "canned-listbox", class: "canned-listbox", "aria-label": "Canned responses", hidden: true });
  textarea.setAttribute("aria-controls", "canned-listbox");
  textarea.setAttribute("aria-autocomplete", "list");
  textarea.setAttribute("aria-expanded", "false");
  let matches = [];
  let active = 0;
  let start = -1;

  const close = () => {
    box.hidden = true;
    matches = [];
    textarea.setAttribute("aria-expanded", "false");
    textarea.removeAttribute("aria-activedescendant");
  };
  const highlight = (index) => {
    active = index;
    [...box.children].forEach((option, n) => option.setAttribute("aria-selected", String(n === index)));
    if (box.children[index]) {
      textarea.setAttribute("aria-activedescendant", box.children[index].id);
      box.children[index].scrollIntoView({ block: "nearest" });
    }
  };
  const choose = (index) => {
    const item = matches[index];
    if (!item) return;
    const text = fillPlaceholders(item.body, conversation());
    const end = textarea.selectionStart;
    textarea.value = textarea.value.slice(0, start) + text + textarea.value.slice(end);
    const caret = start + text.length;
    textarea.setSelectionRange(caret, caret);
    close();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
    textarea.focus();
  };
  const update = async () => {
    const before = textarea.value.slice(0, textarea.selectionStart);
    const found = TRIGGER.exec(before);
    if (!found) return close();
    const typed = found[2];
    start = before.length - typed.length - 1;
    // A fresh list each time one opens: a teammate may have saved one a moment ago.
    if (box.hidden && typed === "") cache = null;
    const all = await cannedResponses();
    matches = all.filter((item) => item.shortcut.startsWith(typed)).slice(0, 8);
    if (!matches.length) return close();
    clear(
      box,
      matches.map((item, n) =>
        h(
          "li",
          {
            role: "option",
            id: `canned-option-${item.id}`,
            "aria-label": item.shortcut, // each option is named by its shortcut
            onmousedown: (event) => {
              event.preventDefault(); // keep focus (and the caret) in the reply box
              choose(n);
            },
          },
          h("span", { class: "canned-shortcut" }, `/${item.shortcut}`),
          h("span", { class: "canned-body" }, item.body),
        ),
      ),
    );
    box.hidden = false;
    textarea.setAttribute("aria-expanded", "true");
    highlight(0);
  };

  textarea.addEventListener("input", update);
  textarea.addEventListener("blur", () => setTimeout(close, 100));
  // Capture: before the composer's own Enter-sends handler sees the key.
  textarea.addEventListener(
    "keydown",
    (event) => {
      if (box.hidden || !matches.length) return;
      const keys = { ArrowDown: 1, ArrowUp: -1 };
      if (event.key in keys) {
        highlight((active + keys[event.key] + matches.length) % matches.length);
      } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && !event.isComposing) {
        choose(active);
      } else if (event.key === "Escape") {
        close();
      } else {
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();
    },
    true,
  );
  return box;
}

// The page: every canned response, a form to add one, edit and remove in place.
export class CannedPage {
  constructor(root) {
    this.root = root;
  }

  async load() {
    clear(this.root, h("p", { class: "muted" }, "Loading canned responses…"));
    cache = null;
    let items;
    try {
      items = await cannedResponses();
      if (!cache) throw new Error("Canned responses could not be loaded.");
    } catch (error) {
      clear(this.root, h("p", { class: "form-error", role: "alert" }, error.message));
      return;
    }
    const shortcut = h("input", { id: "canned-shortcut", autocomplete: "off", maxlength: "32", pattern: "[a-z0-9_-]+" });
    const body = h("textarea", { id: "canned-body", rows: "4" });
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const form = h(
      "form",
      { class: "card canned-form", novalidate: true },
      h("h2", {}, "New canned response"),
      field("canned-shortcut", "Shortcut", shortcut, "Lower-case letters, digits, - and _; type / and it in a reply."),
      field("canned-body", "Body", body, "Placeholders: {{contact.name}}, {{contact.first_name}}, {{contact.email}}, {{agent.name}}."),
      error,
      h("button", { type: "submit", class: "primary" }, "Save canned response"),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api("/canned-responses", { method: "POST", json: { shortcut: shortcut.value, body: body.value } });
      } catch (failure) {
        error.textContent = failure.message;
        error.hidden = false;
        return;
      }
      await this.load();
      this.root.querySelector("#canned-shortcut").focus();
    });
    clear(
      this.root,
      h("h1", { class: "settings-title", tabindex: "-1" }, "Canned responses"),
      h("div", { class: "tools-grid" }, form, h("section", { class: "card", "aria-labelledby": "canned-list-heading" },
        h("h2", { id: "canned-list-heading" }, "Saved"),
        items.length ? h("ul", { class: "canned-list" }, items.map((item) => this.row(item))) : h("p", { class: "muted" }, "None yet."),
      )),
    );
  }

  row(item) {
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const shortcut = h("input", { id: `canned-${item.id}-shortcut`, value: item.shortcut, maxlength: "32" });
    const body = h("textarea", { id: `canned-${item.id}-body`, rows: "3" });
    body.value = item.body;
    const save = async () => {
      try {
        await api(`/canned-responses/${item.id}`, { method: "PATCH", json: { shortcut: shortcut.value, body: body.value } });
      } catch (failure) {
        error.textContent = failure.message;
        error.hidden = false;
        return;
      }
      await this.load();
    };
    const remove = async () => {
      await api(`/canned-responses/${item.id}`, { method: "DELETE" }).catch(() => null);
      await this.load();
    };
    return h(
      "li",
      { class: "canned-item" },
      field(`canned-${item.id}-shortcut`, `Shortcut of /${item.shortcut}`, shortcut),
      field(`canned-${item.id}-body`, `Body of /${item.shortcut}`, body),
      error,
      h(
        "div",
        { class: "row-actions" },
        h("button", { type: "button", class: "secondary", onclick: save }, "Save", h("span", { class: "visually-hidden" }, ` /${item.shortcut}`)),
        h("button", { type: "button", class: "ghost danger", onclick: remove }, "Delete", h("span", { class: "visually-hidden" }, ` /${item.shortcut}`)),
      ),
    );
  }
}
