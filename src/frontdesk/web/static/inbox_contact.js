// The contact panel: who this is and the conversations they had before.

import { api, query } from "./inbox_api.js";
import { clear, h, timeElement } from "./inbox_dom.js";
import { preview } from "./inbox_format.js";

export async function renderContact(root, conversation, isCurrent) {
  const contact = conversation.contact;
  const earlier = h("ul", { class: "earlier" }, h("li", { class: "muted" }, "Loading…"));
  clear(
    root,
    h(
      "div",
      { class: "contact-card" },
      h("div", { class: "avatar", "aria-hidden": "true" }, initials(contact.name)),
      h("h2", { class: "contact-name" }, contact.name),
      h("a", { class: "contact-email", href: `mailto:${contact.email}` }, contact.email),
    ),
    h("h3", { class: "panel-heading" }, "Earlier conversations"),
    earlier,
  );
  let rows;
  try {
    // q matches message text too, so keep only this contact's own conversations.
    const data = await api(`/conversations${query({ status: "all", q: contact.email, limit: 20 })}`);
    rows = data.conversations.filter((row) => row.contact.id === contact.id && row.id !== conversation.id);
  } catch (error) {
    if (isCurrent()) clear(earlier, h("li", { class: "form-error" }, error.message));
    return;
  }
  if (!isCurrent()) return;
  if (rows.length === 0) {
    clear(earlier, h("li", { class: "muted" }, "None: this is their first conversation."));
    return;
  }
  clear(
    earlier,
    rows.map((row) =>
      h(
        "li",
        {},
        h(
          "a",
          { href: `#/c/${row.id}`, class: "earlier-item" },
          h(
            "span",
            { class: "earlier-top" },
            timeElement(row.created_at),
            h("span", { class: `badge ${row.status}` }, row.status === "open" ? "Open" : "Closed"),
          ),
          h("span", { class: "earlier-preview" }, preview(row.last_message)),
        ),
      ),
    ),
  );
}

function initials(name) {
  const parts = (name || "?").trim().split(/\s+/).slice(0, 2);
  return parts.map((part) => part[0].toUpperCase()).join("");
}
