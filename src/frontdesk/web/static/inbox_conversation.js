// The open conversation: header (status, assignee), the message log and the reply box.

import { api } from "./inbox_api.js";
import { blockButton } from "./inbox_block.js";
import { chevronLeft, clear, h, paperclip, timeElement } from "./inbox_dom.js";
import { fileSize } from "./inbox_format.js";
import { Composer } from "./inbox_composer.js";
import { nameLine, renderContact } from "./inbox_contact.js";
import { transcriptButton } from "./inbox_email.js";
import { attachCanned } from "./inbox_canned.js";
import { TypingIndicator, labelsEditor, markSeen, ratingLine, typingSender } from "./inbox_conversation_tools.js";

// Types a browser shows safely inline; everything else is offered as a download.
const PREVIEWABLE = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);

export class ConversationView {
  constructor({ agents, onChanged, onSeen, onBack }) {
    this.root = document.getElementById("conversation");
    this.contactRoot = document.getElementById("contact");
    this.agents = agents; // () => [{id, name}]
    this.onChanged = onChanged; // the conversation changed here: refresh the list
    this.onSeen = onSeen; // the agent is looking at it now
    this.onBack = onBack; // the phone layout's way back to the list
    this.id = null;
    this.conversation = null;
    this.messageIds = new Set();
    this.drafts = new Map();
    this.composer = null;
    this.showEmpty();
  }

  showEmpty() {
    this.saveDraft();
    this.id = null;
    this.conversation = null;
    this.composer = null;
    clear(
      this.root,
      h(
        "div",
        { class: "placeholder" },
        h("p", { class: "placeholder-title" }, "No conversation selected"),
        h("p", {}, "Pick one from the list, or press j to open the newest."),
      ),
    );
    clear(this.contactRoot);
  }

  saveDraft() {
    if (this.composer && this.id !== null) this.drafts.set(this.id, this.composer.textarea.value);
  }

  async open(id) {
    if (id === this.id && this.conversation) return;
    this.saveDraft();
    this.id = id;
    this.conversation = null;
    this.messageIds = new Set();
    clear(this.root, h("p", { class: "placeholder muted" }, "Loading…"));
    let conversation;
    try {
      conversation = await api(`/conversations/${id}`);
    } catch (error) {
      if (this.id === id) clear(this.root, h("p", { class: "placeholder form-error", role: "alert" }, error.message));
      return;
    }
    if (this.id !== id) return; // the agent moved on while this loaded
    this.conversation = conversation;
    this.render();
    renderContact(this.contactRoot, conversation, () => this.id === id);
  }

  render() {
    const conversation = this.conversation;
    this.header = h("header", { class: "conv-header" });
    this.log = h("div", { role: "log", "aria-label": "Messages", class: "log", tabindex: "0" });
    // Follow new messages while the agent is at the bottom; leave them be once they scroll up.
    this.stick = true;
    this.log.addEventListener("scroll", () => {
      this.stick = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 80;
    });
    // Images grow the log after they load: keep the newest message in view.
    this.log.addEventListener("load", () => this.stick && this.scrollToEnd(), true);
    this.composer = new Composer({
      conversationId: conversation.id,
      dropZone: this.root,
      draft: this.drafts.get(conversation.id),
      onSent: (message) => {
        this.drafts.delete(conversation.id);
        this.addMessage(message, { scroll: true });
        this.onChanged(conversation.id, message);
      },
    });
    // Section 10: `/` canned responses, typing both ways, Seen (inbox_conversation_tools.js).
    const textarea = this.composer.textarea;
    textarea.before(attachCanned(textarea, () => this.conversation));
    textarea.addEventListener("input", typingSender(conversation.id, () => this.composer.privateToggle.checked));
    this.typing = new TypingIndicator();
    clear(
      this.root,
      this.header,
      this.log,
      this.typing.element,
      h("div", { class: "drop-hint", "aria-hidden": "true" }, "Drop files to attach them"),
      this.composer.form,
    );
    this.renderHeader();
    for (const message of conversation.messages) this.addMessage(message, { scroll: false });
    markSeen(this.log, conversation);
    this.scrollToEnd();
  }

  scrollToEnd() {
    this.log.scrollTop = this.log.scrollHeight;
    this.stick = true;
  }

  renderHeader() {
    const conversation = this.conversation;
    const closed = conversation.status === "closed";
    const select = h("select", { id: "assignee" }, h("option", { value: "" }, "Unassigned"));
    for (const agent of this.agents()) {
      select.append(h("option", { value: String(agent.id) }, agent.name));
    }
    select.value = conversation.assignee ? String(conversation.assignee.id) : "";
    if (conversation.assignee && select.value === "") {
      // Assigned to someone no longer listed (just removed): still show who.
      select.append(h("option", { value: String(conversation.assignee.id) }, conversation.assignee.name));
      select.value = String(conversation.assignee.id);
    }
    select.addEventListener("change", () => this.patch({ assignee_id: select.value ? Number(select.value) : null }));
    this.statusError = h("p", { class: "form-error", role: "alert", hidden: true });
    clear(
      this.header,
      // Only the phone layout shows it (one pane at a time); wide screens keep the list beside.
      h(
        "button",
        { type: "button", class: "ghost back-button", onclick: () => this.onBack() },
        chevronLeft(),
        h("span", { class: "visually-hidden" }, "Back to conversations"),
      ),
      h(
        "div",
        { class: "conv-title" },
        // The full name on hover: a long one is cut short beside the actions.
        nameLine(conversation, h("h2", { tabindex: "-1", title: conversation.contact.name }, conversation.contact.name)),
        h(
          "p",
          { class: "conv-subtitle" },
          h("span", { class: `badge ${conversation.status}` }, closed ? "Closed" : "Open"),
          " ",
          conversation.contact.email,
        ),
        ratingLine(conversation),
        labelsEditor(conversation, (changes) => this.patch(changes)),
      ),
      h(
        "div",
        { class: "conv-actions" },
        h("label", { for: "assignee", class: "inline-label" }, "Assignee"),
        select,
        h(
          "button",
          {
            type: "button",
            class: closed ? "secondary" : "primary-outline",
            onclick: () => this.patch({ status: closed ? "open" : "closed" }),
          },
          // "Close" alone on a phone: the rest stays in the button's name for screen readers.
          closed ? "Reopen" : "Close",
          h("span", { class: "wide-only" }, " conversation"),
        ),
        transcriptButton(conversation.id),
        blockButton(conversation, () => this.reload()),
      ),
      this.statusError,
    );
  }

  async patch(changes) {
    const id = this.id;
    try {
      const updated = await api(`/conversations/${id}`, { method: "PATCH", json: changes });
      if (this.id !== id) return;
      this.updateConversation(updated);
      this.onChanged(id, null);
    } catch (error) {
      this.statusError.textContent = error.message;
      this.statusError.hidden = false;
    }
  }

  // A newer view of the open conversation (PATCH answer, event or poll).
  updateConversation(conversation) {
    if (!this.conversation || conversation.id !== this.id) return;
    const before = this.conversation;
    const changed =
      before.status !== conversation.status ||
      String(before.labels) !== String(conversation.labels) ||
      JSON.stringify(before.rating) !== JSON.stringify(conversation.rating) ||
      (before.assignee && before.assignee.id) !== (conversation.assignee && conversation.assignee.id);
    this.conversation = { ...before, ...conversation, messages: before.messages };
    markSeen(this.log, this.conversation);
    if (changed) {
      const focusedLabel = document.activeElement && this.header.contains(document.activeElement)
        ? document.activeElement.tagName
        : null;
      this.renderHeader();
      // Closing with the keyboard: keep focus on the button that now says "Reopen".
      if (focusedLabel === "BUTTON") this.header.querySelector(".conv-actions button").focus();
      if (focusedLabel === "SELECT") this.header.querySelector("select").focus();
      if (focusedLabel === "INPUT") this.header.querySelector("#label-add").focus();
    }
  }

  // Every message, whatever brought it (send answer, event, poll), is shown once.
  addMessage(message, { scroll }) {
    if (!this.conversation || message.conversation_id !== this.id) return false;
    if (this.messageIds.has(message.id)) return false;
    this.messageIds.add(message.id);
    const element = messageElement(message);
    // Keep time order even if a poll and an event race each other.
    const later = [...this.log.children].find((child) => child.dataset.timestamp > message.timestamp);
    this.log.insertBefore(element, later || null);
    if (scroll || this.stick) this.scrollToEnd();
    if (message.direction === "inbound") {
      this.onSeen(this.id);
      this.typing.clear(); // what they were typing has arrived
    }
    return true;
  }

  // The poll's answer: every message of the conversation, and its current state.
  merge(conversation) {
    if (conversation.id !== this.id || !this.conversation) return;
    for (const message of conversation.messages) this.addMessage(message, { scroll: false });
    this.updateConversation(conversation);
  }

  async reload() {
    if (this.id === null || !this.conversation) return;
    const id = this.id;
    try {
      const conversation = await api(`/conversations/${id}`);
      this.merge(conversation);
    } catch {
      // The next poll tries again; a transient failure must not blank the page.
    }
  }

  // A `typing` event of the agent stream: the visitor of `conversation_id` is typing.
  showTyping({ conversation_id: id }) {
    if (id !== this.id || !this.conversation || !this.typing) return;
    this.typing.show(this.conversation.visitor_name || this.conversation.contact.name);
  }

  focusReply() {
    if (this.composer) this.composer.focus();
  }
}

function messageElement(message) {
  const kind = message.private ? "note" : message.direction;
  const who = message.private ? "Private note" : message.direction === "inbound" ? "Visitor" : "Team";
  return h(
    "article",
    { class: `msg msg-${kind}`, dataset: { id: String(message.id), timestamp: message.timestamp } },
    h(
      "header",
      { class: "msg-head" },
      h("span", { class: "msg-author" }, message.author),
      h("span", { class: `badge msg-kind ${kind}` }, who),
      timeElement(message.timestamp),
    ),
    message.body ? h("p", { class: "msg-body" }, message.body) : null,
    message.attachments && message.attachments.length
      ? h("ul", { class: "attachments" }, message.attachments.map(attachmentElement))
      : null,
  );
}

function attachmentElement(file) {
  const link = h(
    "a",
    { href: file.url, download: file.filename, class: "file-link" },
    paperclip(),
    file.filename,
    h("span", { class: "file-size" }, ` (${fileSize(file.size)})`),
  );
  if (!PREVIEWABLE.has(file.content_type)) return h("li", { class: "file" }, link);
  const inline = `${file.url}?disposition=inline`;
  return h(
    "li",
    { class: "file image" },
    h(
      "a",
      { href: inline, target: "_blank", rel: "noopener" },
      h("img", { src: inline, alt: file.filename, loading: "lazy" }),
    ),
    link,
  );
}
