// The conversation list: filter, search, newest activity first, unread marks, arrow keys.

import { api, query } from "./inbox_api.js";
import { clear, h, timeElement } from "./inbox_dom.js";
import { preview } from "./inbox_format.js";
import { typedName, verifiedMark } from "./inbox_identity.js";

const PAGE = 50;

function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}

export class ConversationList {
  constructor({ unread, onChange }) {
    this.unread = unread;
    this.onChange = onChange; // called after every render (title count, etc.)
    this.listEl = document.getElementById("conversation-list");
    this.emptyEl = document.getElementById("list-empty");
    this.errorEl = document.getElementById("list-error");
    this.moreButton = document.getElementById("load-more");
    this.searchInput = document.getElementById("search");
    this.filterButtons = [...document.querySelectorAll(".filters [data-status]")];
    this.status = "open";
    this.q = "";
    this.items = [];
    this.nextCursor = null;
    this.openId = null;
    this.generation = 0; // a slow answer to an old search must not overwrite a newer one
    this.refreshSoon = debounce(() => this.refresh(), 250);

    for (const button of this.filterButtons) {
      button.addEventListener("click", () => this.setStatus(button.dataset.status));
    }
    this.searchInput.addEventListener("input", debounce(() => this.setQuery(this.searchInput.value), 300));
    document.getElementById("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.setQuery(this.searchInput.value);
    });
    const labelInput = document.getElementById("label-filter");
    if (labelInput) {
      labelInput.addEventListener("input", debounce(() => this.setLabel(labelInput.value), 300));
      document.getElementById("label-filter-form").addEventListener("submit", (event) => {
        event.preventDefault();
        this.setLabel(labelInput.value);
      });
    }
    this.moreButton.addEventListener("click", () => this.loadMore());
    this.listEl.addEventListener("keydown", (event) => this.onKey(event));
  }

  setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    for (const button of this.filterButtons) {
      button.setAttribute("aria-pressed", String(button.dataset.status === status));
    }
    this.items = [];
    this.refresh();
  }

  // Only conversations with this label (contract section 10); "" for any.
  setLabel(text) {
    const label = text.trim().toLowerCase();
    if (label === (this.label || "")) return;
    this.label = label || undefined;
    this.items = [];
    this.refresh();
  }

  setQuery(text) {
    const q = text.trim();
    if (q === this.q) return;
    this.q = q;
    this.items = [];
    this.refresh();
  }

  async refresh() {
    const generation = ++this.generation;
    // Re-read as many as are shown, so a refresh never drops pages the agent loaded.
    const limit = Math.min(100, Math.max(PAGE, this.items.length));
    try {
      const data = await api(`/conversations${query({ status: this.status, q: this.q, label: this.label, limit })}`);
      if (generation !== this.generation) return;
      this.items = data.conversations;
      this.nextCursor = data.next_cursor;
      this.errorEl.hidden = true;
    } catch (error) {
      if (generation !== this.generation) return;
      this.errorEl.textContent = error.message;
      this.errorEl.hidden = false;
    }
    for (const conversation of this.items) this.unread.noteConversation(conversation);
    this.unread.ensureBaseline(this.items);
    this.render();
  }

  async loadMore() {
    if (!this.nextCursor) return;
    const generation = this.generation;
    const data = await api(
      `/conversations${query({ status: this.status, q: this.q, label: this.label, cursor: this.nextCursor, limit: PAGE })}`,
    );
    if (generation !== this.generation) return;
    const known = new Set(this.items.map((item) => item.id));
    this.items.push(...data.conversations.filter((item) => !known.has(item.id)));
    this.nextCursor = data.next_cursor;
    for (const conversation of data.conversations) this.unread.noteConversation(conversation);
    this.render();
  }

  // An event, applied at once so the list moves without waiting for the server;
  // the debounced refresh then makes it exactly what the server says.
  applyMessage(conversationId, message) {
    const index = this.items.findIndex((item) => item.id === conversationId);
    if (index >= 0) {
      const [item] = this.items.splice(index, 1);
      item.last_message = message;
      if (message.direction === "inbound" && item.status === "closed") item.status = "open";
      this.items.unshift(item);
      this.render();
    }
    this.refreshSoon();
  }

  applyConversation(conversation) {
    const index = this.items.findIndex((item) => item.id === conversation.id);
    if (index >= 0) {
      this.items[index] = conversation;
      this.render();
    }
    this.refreshSoon();
  }

  get(id) {
    return this.items.find((item) => item.id === id) || null;
  }

  setOpen(id) {
    this.openId = id;
    this.render();
  }

  // The id `delta` places away from the open one (j/k); the first one when none is open.
  neighbour(delta) {
    if (this.items.length === 0) return null;
    const index = this.items.findIndex((item) => item.id === this.openId);
    if (index < 0) return this.items[0].id;
    const next = Math.min(this.items.length - 1, Math.max(0, index + delta));
    return this.items[next].id;
  }

  focusItem(id) {
    const link = this.listEl.querySelector(`a[data-id="${Number(id)}"]`);
    if (link) {
      link.focus({ preventScroll: true });
      link.scrollIntoView({ block: "nearest" });
    } else {
      this.listEl.focus();
    }
  }

  onKey(event) {
    if (!["ArrowDown", "ArrowUp", "Home", "End"].includes(event.key)) return;
    const links = [...this.listEl.querySelectorAll("a[data-id]")];
    if (links.length === 0) return;
    event.preventDefault();
    const current = links.indexOf(document.activeElement);
    let next = 0;
    if (event.key === "ArrowDown") next = Math.min(links.length - 1, current + 1);
    if (event.key === "ArrowUp") next = Math.max(0, current < 0 ? 0 : current - 1);
    if (event.key === "End") next = links.length - 1;
    links[next].focus();
  }

  render() {
    // The conversation on screen is being read: it never shows as unread while visible.
    if (this.openId !== null && !document.hidden) this.unread.markSeen(this.openId);
    // Re-rendering replaces the links; keep keyboard focus on the same conversation.
    const focused = this.listEl.contains(document.activeElement) ? document.activeElement : null;
    const focusedId = focused && focused.dataset ? focused.dataset.id : undefined;
    clear(this.listEl, this.items.map((item) => this.itemElement(item)));
    this.emptyEl.hidden = this.items.length > 0;
    this.emptyEl.textContent = this.q ? `Nothing matches “${this.q}”.` : "No conversations here yet.";
    this.moreButton.hidden = !this.nextCursor;
    if (focusedId !== undefined) {
      const again = this.listEl.querySelector(`a[data-id="${Number(focusedId)}"]`);
      if (again) again.focus({ preventScroll: true });
    }
    this.onChange();
  }

  itemElement(item) {
    const unread = this.unread.isUnread(item.id);
    const active = item.id === this.openId;
    const classes = ["conv-item", unread ? "unread" : "", active ? "active" : "", item.status];
    return h(
      "li",
      {},
      h(
        "a",
        {
          href: `#/c/${item.id}`,
          class: classes.filter(Boolean).join(" "),
          "aria-current": active ? "true" : null,
          dataset: { id: String(item.id) },
        },
        h(
          "span",
          { class: "conv-top" },
          unread ? h("span", { class: "unread-dot", title: "Unread" }, h("span", { class: "visually-hidden" }, "Unread: ")) : null,
          h("span", { class: "conv-name" }, item.contact.name),
          verifiedMark(item.contact, { compact: true }),
          timeElement(item.last_message ? item.last_message.timestamp : item.updated_at),
        ),
        h("span", { class: "conv-preview" }, preview(item.last_message)),
        h(
          "span",
          { class: "conv-meta" },
          item.status === "closed" ? h("span", { class: "badge closed" }, "Closed") : null,
          typedName(item),
          item.assignee ? h("span", { class: "assignee" }, `→ ${item.assignee.name}`) : null,
          (item.labels || []).map((label) => h("span", { class: "badge label" }, label)),
        ),
      ),
    );
  }
}
