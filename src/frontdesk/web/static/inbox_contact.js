// The contact panel: who this is and the conversations they had before. A verified contact
// (one per user_id) shows the mark, the site's user id and the name typed, if different.
// Below 1100px the panel is hidden (inbox.css) until the header's Contact button shows it.

import { api, query } from "./inbox_api.js";
import { clear, h, timeElement } from "./inbox_dom.js";
import { preview } from "./inbox_format.js";
import { typedName, verifiedMark } from "./inbox_identity.js";

export async function renderContact(root, conversation, isCurrent) {
  const contact = conversation.contact;
  const earlier = h("ul", { class: "earlier" }, h("li", { class: "muted" }, "Loading…"));
  clear(
    root,
    h("button", { type: "button", class: "ghost contact-close", onclick: () => showContact(false, true) }, "Close contact"),
    h(
      "div",
      { class: "contact-card" },
      h("div", { class: "avatar", "aria-hidden": "true" }, initials(contact.name)),
      h("h2", { class: "contact-name" }, contact.name),
      verifiedMark(contact),
      typedName(conversation),
      h("a", { class: "contact-email", href: `mailto:${contact.email}` }, contact.email),
      contact.user_id != null ? h("p", { class: "contact-user-id" }, "User ID ", h("code", {}, contact.user_id)) : null,
    ),
    h("h3", { class: "panel-heading" }, "Earlier conversations"),
    earlier,
  );
  let rows;
  try {
    // q matches the contact's current email (so also a verified contact's conversations from
    // before an email change) and message text too: keep only this contact's own.
    const data = await api(`/conversations${query({ status: "all", q: contact.email, limit: 100 })}`);
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

let shownFor = null; // the conversation whose contact panel the Contact button showed

// The conversation header's name line: the name, the marks beside it, and (narrow screens
// only) the button that shows the contact panel.
export function nameLine(conversation, heading) {
  if (shownFor !== conversation.id) showContact(false);
  const toggle = h(
    "button",
    {
      type: "button",
      class: "ghost contact-toggle",
      "aria-controls": "contact",
      "aria-expanded": String(shownFor !== null),
      onclick: () => {
        const show = shownFor === null;
        showContact(show);
        if (show) {
          shownFor = conversation.id;
          const close = document.querySelector("#contact .contact-close");
          if (close) close.focus();
        }
      },
    },
    "Contact",
  );
  return h("div", { class: "name-line" }, heading, verifiedMark(conversation.contact), typedName(conversation), toggle);
}

function showContact(show, refocus = false) {
  if (!show) shownFor = null;
  document.getElementById("inbox-view").classList.toggle("show-contact", show);
  for (const button of document.querySelectorAll(".contact-toggle")) button.setAttribute("aria-expanded", String(show));
  const toggle = document.querySelector(".contact-toggle");
  if (refocus && toggle) toggle.focus();
}
