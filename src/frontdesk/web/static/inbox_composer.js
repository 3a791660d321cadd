// The reply box: text, private-note toggle, files (button or drag and drop), Enter to send.

import { api } from "./inbox_api.js";
import { h, paperclip } from "./inbox_dom.js";
import { fileSize } from "./inbox_format.js";

// A phone's keyboard has no Shift+Enter: there, Enter starts a new line and Send sends.
const touchOnly = () => window.matchMedia("(hover: none) and (pointer: coarse)").matches;
const ENTER_HINT = "Enter sends, Shift+Enter starts a new line";

export class Composer {
  constructor({ conversationId, dropZone, onSent, draft }) {
    this.conversationId = conversationId;
    this.onSent = onSent;
    this.files = [];
    this.sending = false;

    this.textarea = h("textarea", {
      id: "reply",
      rows: "3",
      placeholder: touchOnly() ? "Write a reply…" : `Write a reply…  ${ENTER_HINT}`,
    });
    this.textarea.value = draft || "";
    this.privateToggle = h("input", { type: "checkbox", id: "private-note" });
    this.fileInput = h("input", { type: "file", multiple: true, hidden: true, id: "attach-input", tabindex: "-1" });
    this.fileList = h("ul", { class: "pending-files", "aria-label": "Files to send" });
    this.error = h("p", { class: "form-error composer-error", role: "alert", hidden: true });
    this.sendButton = h("button", { type: "submit", class: "primary" }, "Send");
    this.modeLabel = h("span", { class: "composer-mode", "aria-hidden": "true" }, "Reply to visitor");

    this.form = h(
      "form",
      { class: "composer", novalidate: true },
      h("label", { for: "reply", class: "visually-hidden" }, "Reply"),
      this.modeLabel,
      this.textarea,
      this.fileList,
      this.error,
      h(
        "div",
        { class: "composer-bar" },
        h("label", { class: "toggle", for: "private-note" }, this.privateToggle, " Private note"),
        h(
          "button",
          { type: "button", class: "ghost with-icon attach-button", onclick: () => this.fileInput.click() },
          paperclip(),
          h("span", { class: "button-text" }, "Attach file"),
        ),
        this.fileInput,
        h("span", { class: "spacer" }),
        this.sendButton,
      ),
    );

    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.textarea.addEventListener("keydown", (event) => {
      // isComposing: Enter that confirms an IME candidate must not send half a word.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !touchOnly()) {
        event.preventDefault();
        this.send();
      }
    });
    this.privateToggle.addEventListener("change", () => this.showMode());
    this.fileInput.addEventListener("change", () => {
      this.addFiles(this.fileInput.files);
      this.fileInput.value = "";
    });
    this.watchDrops(dropZone);
  }

  watchDrops(zone) {
    // dragenter/leave fire for every child; a counter tells when the pointer really left.
    let depth = 0;
    const hasFiles = (event) => event.dataTransfer && [...event.dataTransfer.types].includes("Files");
    zone.addEventListener("dragenter", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth += 1;
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragover", (event) => {
      if (hasFiles(event)) event.preventDefault();
    });
    zone.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) zone.classList.remove("dragging");
    });
    zone.addEventListener("drop", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth = 0;
      zone.classList.remove("dragging");
      this.addFiles(event.dataTransfer.files);
    });
  }

  showMode() {
    const note = this.privateToggle.checked;
    this.form.classList.toggle("private", note);
    this.modeLabel.textContent = note ? "Private note: only your team sees this" : "Reply to visitor";
  }

  addFiles(list) {
    for (const file of list) this.files.push(file);
    this.renderFiles();
    this.textarea.focus();
  }

  renderFiles() {
    this.fileList.replaceChildren(
      ...this.files.map((file, index) =>
        h(
          "li",
          { class: "file-chip" },
          paperclip(),
          h("span", {}, `${file.name} (${fileSize(file.size)})`),
          h(
            "button",
            {
              type: "button",
              class: "chip-remove",
              "aria-label": `Remove ${file.name}`,
              onclick: () => {
                this.files.splice(index, 1);
                this.renderFiles();
              },
            },
            "×",
          ),
        ),
      ),
    );
  }

  showError(message) {
    this.error.textContent = message;
    this.error.hidden = !message;
  }

  async send() {
    if (this.sending) return;
    const text = this.textarea.value.trim();
    if (!text && this.files.length === 0) {
      this.showError("Write a reply or attach a file first.");
      return;
    }
    const isPrivate = this.privateToggle.checked;
    let request;
    if (this.files.length > 0) {
      const form = new FormData();
      form.append("message", text);
      form.append("private", isPrivate ? "true" : "false");
      for (const file of this.files) form.append("files", file, file.name);
      request = { method: "POST", form };
    } else {
      request = { method: "POST", json: { message: text, private: isPrivate } };
    }
    this.sending = true;
    this.sendButton.disabled = true;
    this.showError("");
    try {
      const message = await api(`/conversations/${this.conversationId}/messages`, request);
      this.textarea.value = "";
      this.files = [];
      this.renderFiles();
      this.onSent(message);
    } catch (error) {
      // Nothing typed is lost: the text and files stay for another try.
      this.showError(error.message);
    } finally {
      this.sending = false;
      this.sendButton.disabled = false;
    }
  }

  focus() {
    this.textarea.focus();
  }
}
