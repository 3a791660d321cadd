// The open conversation's tools from contract section 10: labels in its header, the
// visitor's rating, `<name> is typing…` both ways, and `Seen` under the last reply seen.

import { api } from "./inbox_api.js";
import { h } from "./inbox_dom.js";

// Chips with a remove button each, and a field that adds one on Enter; saved at once.
export function labelsEditor(conversation, save) {
  const labels = conversation.labels || [];
  const input = h("input", { id: "label-add", class: "label-add", maxlength: "32", autocomplete: "off", placeholder: "Add label" });
  const put = (next) => save({ labels: next });
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing) return;
    event.preventDefault();
    const value = input.value.trim().toLowerCase();
    if (value && !labels.includes(value)) put([...labels, value]);
    input.value = "";
  });
  return h(
    "div",
    { class: "labels", role: "group", "aria-label": "Labels" },
    labels.map((label) =>
      h(
        "span",
        { class: "label-chip" },
        label,
        h("button", { type: "button", class: "chip-remove", "aria-label": `Remove label ${label}`, onclick: () => put(labels.filter((l) => l !== label)) }, "×"),
      ),
    ),
    h("label", { for: "label-add", class: "visually-hidden" }, "Add label"),
    input,
  );
}

export function ratingLine(conversation) {
  const rating = conversation.rating;
  if (!rating) return null;
  return h(
    "p",
    { class: "rating-line" },
    h("span", { class: "stars", "aria-hidden": "true" }, "★".repeat(rating.score) + "☆".repeat(5 - rating.score)),
    ` Rated ${rating.score} of 5`,
    rating.comment ? h("span", { class: "rating-comment" }, `: “${rating.comment}”`) : null,
  );
}

// Shows `<name> is typing…` for 5 seconds after each event.
export class TypingIndicator {
  constructor() {
    this.element = h("p", { class: "typing-indicator", role: "status" });
    this.timer = 0;
  }

  show(name) {
    this.element.textContent = `${name} is typing…`;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.clear(), 5000);
  }

  clear() {
    clearTimeout(this.timer);
    this.element.textContent = "";
  }
}

// At most one request every 3 seconds while the agent types a reply (not a private note).
export function typingSender(conversationId, isPrivate) {
  let last = 0;
  return () => {
    if (isPrivate() || Date.now() - last < 3000) return;
    last = Date.now();
    api(`/conversations/${conversationId}/typing`, { method: "POST" }).catch(() => null);
  };
}

// `Seen` under the newest public reply at or before visitor_last_seen_at.
export function markSeen(log, conversation) {
  for (const old of log.querySelectorAll(".seen-mark")) old.remove();
  const seenAt = conversation.visitor_last_seen_at;
  if (!seenAt) return;
  const replies = [...log.querySelectorAll("article.msg-outbound")].filter((el) => el.dataset.timestamp <= seenAt);
  const last = replies[replies.length - 1];
  if (last) last.append(h("p", { class: "seen-mark" }, "Seen"));
}
