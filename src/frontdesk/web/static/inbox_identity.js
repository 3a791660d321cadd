// Who a contact is, as far as the inbox can tell (contract sections 1 and 6): a "Verified"
// mark for a contact whose id the site's own server signed, and the name the visitor typed
// when it isn't the contact's (anyone can type anyone's email, so a typed name never renames
// a contact: the agent sees both).

import { h } from "./inbox_dom.js";

// `compact`: the list rows, where only the check shows; the word stays for screen readers.
export function verifiedMark(contact, { compact = false } = {}) {
  if (!contact || contact.user_id == null) return null;
  return h(
    "span",
    { class: compact ? "verified compact" : "verified", title: `Verified by your site as user ${contact.user_id}` },
    h("span", { class: compact ? "visually-hidden" : null }, "Verified"),
  );
}

// Null when the visitor typed the contact's own name (or nothing).
export function typedName(conversation) {
  const typed = (conversation.visitor_name || "").trim();
  if (!typed || typed === (conversation.contact.name || "").trim()) return null;
  return h(
    "span",
    { class: "typed-name", title: "The name the visitor typed in the chat form. The contact keeps its own name." },
    `typed “${typed}”`,
  );
}
