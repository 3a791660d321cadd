// Settings → Webhooks (admins; contract section 5): the business's own endpoints for
// conversation and message events. Add, edit, pause and remove them, send a test, reveal,
// copy and rotate the signing secret, and read each endpoint's recent deliveries, with a
// Retry on the failed ones. Part of the settings page (inbox_settings.js).

import { api } from "./inbox_api.js";
import { Deliveries } from "./inbox_deliveries.js";
import { clear, confirmDialog, copyText, field, h } from "./inbox_dom.js";

// Each event with what makes it happen, told beside its checkbox.
const EVENTS = [
  ["conversation.created", "A visitor starts a conversation."],
  ["conversation.updated", "A conversation is closed, reopened or assigned."],
  ["message.created", "Any new message, private notes included."],
];

export class WebhooksSection {
  constructor() {
    this.items = new Map(); // webhook id -> Endpoint
    this.list = h("ul", { class: "webhook-list", "aria-label": "Webhook endpoints" });
    this.empty = h(
      "p",
      { class: "muted webhook-empty", hidden: true },
      "No endpoints yet. Add one to send conversations and messages to your own systems as they happen.",
    );
    this.status = h("p", { class: "save-status", role: "status" });
    this.formSlot = h("div", { class: "webhook-form-slot" });
    this.addButton = h("button", { type: "button", class: "primary-outline", onclick: () => this.openAdd() }, "Add webhook");
    this.element = h(
      "section",
      { class: "card webhooks", "aria-labelledby": "webhooks-heading" },
      h("div", { class: "section-head" }, h("h2", { id: "webhooks-heading" }, "Webhooks"), this.addButton),
      h(
        "p",
        { class: "muted section-lead" },
        "Frontdesk posts events to your endpoints as they happen, signed as the Standard Webhooks specification says, and retries a failed delivery for about a day.",
      ),
      this.formSlot,
      this.status,
      this.empty,
      this.list,
    );
  }

  async load() {
    this.say("Loading webhooks…");
    let webhooks;
    try {
      ({ webhooks } = await api("/webhooks"));
    } catch (error) {
      this.say(error.message, true);
      return;
    }
    this.say("");
    for (const item of this.items.values()) item.stop();
    this.items.clear();
    clear(this.list);
    for (const webhook of webhooks) this.addItem(webhook);
    this.empty.hidden = webhooks.length > 0;
  }

  addItem(webhook, secret) {
    const item = new Endpoint(webhook, this);
    this.items.set(webhook.id, item);
    this.list.append(item.element);
    this.empty.hidden = true;
    if (secret) item.showSecret(secret, "Signing secret: copy it into your receiver, which verifies every delivery with it.");
    item.deliveries.refresh();
    return item;
  }

  say(text, isError = false) {
    this.status.className = isError ? "save-status form-error" : "save-status";
    this.status.textContent = text;
  }

  openAdd() {
    const form = webhookForm({
      idPrefix: "wh-new",
      title: "New webhook",
      onSubmit: async (values) => {
        if (!values.description) delete values.description;
        const { secret, ...webhook } = await api("/webhooks", { method: "POST", json: values });
        this.closeAdd();
        const item = this.addItem(webhook, secret);
        this.say("Webhook added. Send a test to check that your endpoint answers.");
        item.focus();
      },
      onCancel: () => {
        this.closeAdd();
        this.addButton.focus();
      },
    });
    clear(this.formSlot, form);
    this.addButton.hidden = true;
    this.say("");
    form.querySelector("input").focus();
  }

  closeAdd() {
    clear(this.formSlot);
    this.addButton.hidden = false;
  }

  removed(item) {
    item.stop();
    item.element.remove();
    this.items.delete(item.webhook.id);
    this.empty.hidden = this.items.size > 0;
    this.say("Webhook removed.");
    this.addButton.focus();
  }
}

// One endpoint in the list: its URL always on top (what names it, even while its form is
// open), then its events and actions or its edit form, its secret when revealed, and its
// recent deliveries.
class Endpoint {
  constructor(webhook, section) {
    this.webhook = webhook;
    this.section = section;
    this.base = `wh-${webhook.id}`;
    this.head = h("div", { class: "webhook-head" });
    this.summary = h("div", { class: "webhook-summary" });
    this.secretBox = h("div", { class: "secret-box", hidden: true });
    this.status = h("p", { class: "save-status", role: "status" });
    this.deliveries = new Deliveries(this);
    this.element = h(
      "li",
      { class: "webhook", "aria-labelledby": `${this.base}-url` },
      this.head,
      this.summary,
      this.secretBox,
      this.status,
      this.deliveries.element,
    );
    this.render();
  }

  get path() {
    return `/webhooks/${encodeURIComponent(this.webhook.id)}`;
  }

  // A button of this endpoint's; described by its URL, so "Remove" says which one.
  button(label, onclick, className = "secondary") {
    return h("button", { type: "button", class: className, "aria-describedby": `${this.base}-url`, onclick }, label);
  }

  render() {
    const w = this.webhook;
    this.editButton = this.button("Edit", () => this.edit());
    this.revealButton = this.button(this.secretBox.hidden ? "Reveal secret" : "Hide secret", () => this.toggleSecret());
    clear(
      this.head,
      h(
        "div",
        { class: "webhook-what" },
        h("code", { class: "webhook-url", id: `${this.base}-url` }, w.url),
        w.description ? h("p", { class: "webhook-description" }, w.description) : null,
      ),
      h("span", { class: `badge ${w.active ? "active" : "paused"}` }, w.active ? "Active" : "Paused"),
    );
    clear(
      this.summary,
      h(
        "ul",
        { class: "event-tags", "aria-label": "Events" },
        w.events.map((name) => h("li", {}, h("code", {}, name))),
      ),
      h(
        "div",
        { class: "webhook-actions" },
        this.editButton,
        this.button("Send test", (event) => this.sendTest(event.currentTarget)),
        this.revealButton,
        this.button("Rotate secret", () => this.rotate()),
        this.button("Remove", () => this.remove(), "ghost danger-text push"),
      ),
    );
  }

  say(text, isError = false) {
    this.status.className = isError ? "save-status form-error" : "save-status";
    this.status.textContent = text;
  }

  focus() {
    (this.secretBox.querySelector("button") || this.editButton).focus();
  }

  edit() {
    const form = webhookForm({
      idPrefix: `${this.base}-edit`,
      title: "Edit webhook",
      webhook: this.webhook,
      onSubmit: async (values) => {
        // Only what changed, so a save never undoes another admin's edit of something else.
        const w = this.webhook;
        const changes = {};
        if (values.url !== w.url) changes.url = values.url;
        if ([...values.events].sort().join() !== [...w.events].sort().join()) changes.events = values.events;
        if (values.description !== (w.description || "")) changes.description = values.description;
        if (values.active !== w.active) changes.active = values.active;
        if (Object.keys(changes).length) {
          this.webhook = await api(this.path, { method: "PATCH", json: changes });
          this.say("Saved.");
        } else {
          this.say("Nothing has changed.");
        }
        this.render();
        this.editButton.focus();
      },
      onCancel: () => {
        this.render();
        this.editButton.focus();
      },
    });
    clear(this.summary, form);
    this.say("");
    form.querySelector("input").focus();
  }

  async sendTest(button) {
    button.disabled = true;
    try {
      await api(`${this.path}/test`, { method: "POST" });
      this.say("Test event sent; its delivery shows below.");
      this.deliveries.follow();
    } catch (error) {
      this.say(error.message, true);
    } finally {
      button.disabled = false;
    }
  }

  showSecret(secret, note = "Signing secret:") {
    const code = h("code", { class: "secret" }, secret);
    const copied = h("span", { class: "save-status", role: "status" });
    const copy = async () => {
      await copyText(code);
      copied.textContent = "Copied.";
    };
    clear(
      this.secretBox,
      h("p", {}, note),
      h("div", { class: "secret-row" }, code, h("button", { type: "button", class: "secondary", onclick: copy }, "Copy secret"), copied),
    );
    this.secretBox.hidden = false;
    if (this.revealButton) this.revealButton.textContent = "Hide secret";
  }

  hideSecret() {
    clear(this.secretBox);
    this.secretBox.hidden = true;
    this.revealButton.textContent = "Reveal secret";
  }

  async toggleSecret() {
    if (!this.secretBox.hidden) {
      this.hideSecret();
      return;
    }
    try {
      const { secret } = await api(this.path);
      this.showSecret(secret);
    } catch (error) {
      this.say(error.message, true);
    }
  }

  async rotate() {
    const sure = await confirmDialog({
      title: "Rotate the signing secret?",
      text: `The current secret stops signing at once: deliveries to ${this.webhook.url} fail verification until the receiver has the new one.`,
      confirm: "Rotate secret",
    });
    if (!sure) return;
    try {
      const { secret } = await api(`${this.path}/rotate-secret`, { method: "POST" });
      this.showSecret(secret, "New signing secret; the old one no longer signs:");
      this.say("New secret issued. Update your receiver.");
    } catch (error) {
      this.say(error.message, true);
    }
  }

  async remove() {
    const sure = await confirmDialog({
      title: "Remove this webhook?",
      text: `Events stop going to ${this.webhook.url} at once, and its delivery history goes with it.`,
      confirm: "Remove webhook",
    });
    if (!sure) return;
    try {
      await api(this.path, { method: "DELETE" });
      this.section.removed(this);
    } catch (error) {
      this.say(error.message, true);
    }
  }

  stop() {
    this.deliveries.stop();
  }
}

// The add and edit form. Validation is the API's: its sentence shows beside the form and
// nothing typed is lost.
function webhookForm({ idPrefix, title, webhook, onSubmit, onCancel }) {
  const id = (name) => `${idPrefix}-${name}`;
  const url = h("input", {
    id: id("url"),
    type: "url",
    inputmode: "url",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "https://example.com/hooks/frontdesk",
  });
  const description = h("input", { id: id("description"), type: "text", autocomplete: "off" });
  const boxes = [];
  const choices = EVENTS.map(([name, hint]) => {
    const boxId = id(name.replace(".", "-"));
    const box = h("input", { id: boxId, type: "checkbox", value: name, "aria-describedby": `${boxId}-hint` });
    boxes.push(box);
    return h(
      "div",
      { class: "event-choice" },
      box,
      h("label", { for: boxId }, h("code", {}, name)),
      h("p", { class: "hint", id: `${boxId}-hint` }, hint),
    );
  });
  const active = webhook ? h("input", { id: id("active"), type: "checkbox", "aria-describedby": `${id("active")}-hint` }) : null;
  const error = h("p", { class: "form-error", role: "alert" });
  const save = h("button", { type: "submit", class: "primary" }, "Save webhook");
  const form = h(
    "form",
    { class: "webhook-form", novalidate: true, "aria-labelledby": id("title") },
    h("h3", { id: id("title") }, title),
    field(id("url"), "Endpoint URL", url, "Where Frontdesk posts the events: an http or https address your server answers."),
    h("fieldset", { class: "event-choices" }, h("legend", {}, "Events"), choices),
    field(id("description"), "Description", description, "Optional: what the endpoint is for, for your team."),
    active
      ? h(
          "div",
          { class: "event-choice" },
          active,
          h("label", { for: id("active") }, "Active"),
          h("p", { class: "hint", id: `${id("active")}-hint` }, "A paused endpoint gets no events; its secret and history stay."),
        )
      : null,
    error,
    h("div", { class: "form-actions" }, save, h("button", { type: "button", class: "secondary", onclick: onCancel }, "Cancel")),
  );
  url.value = webhook ? webhook.url : "";
  description.value = webhook ? webhook.description || "" : "";
  for (const box of boxes) box.checked = webhook ? webhook.events.includes(box.value) : true;
  if (active) active.checked = webhook.active;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = {
      url: url.value.trim(),
      events: boxes.filter((box) => box.checked).map((box) => box.value),
      description: description.value.trim(),
    };
    if (active) values.active = active.checked;
    save.disabled = true;
    error.textContent = "";
    try {
      await onSubmit(values);
    } catch (failure) {
      error.textContent = failure.message;
    } finally {
      save.disabled = false;
    }
  });
  return form;
}
