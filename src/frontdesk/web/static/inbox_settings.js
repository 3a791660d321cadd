// Settings for admins: the widget's words and looks, limits, the embed snippet and site
// key, the team, and webhooks (inbox_webhooks.js). Only loaded for admins; the API refuses
// others anyway.

import { api } from "./inbox_api.js";
import { clear, confirmDialog, copyText, field, h } from "./inbox_dom.js";
import { emailStatusSection } from "./inbox_email.js";
import { hoursSection } from "./inbox_hours.js";
import { identitySection } from "./inbox_identity_settings.js";
import { storageSection } from "./inbox_storage.js";
import { WebhooksSection } from "./inbox_webhooks.js";

const RATE_LIMITS = [
  ["config", "Widget config"],
  ["create_conversation", "New conversations"],
  ["get_messages", "Fetching messages"],
  ["send_message", "Sending messages"],
  ["download_file", "File downloads"],
  ["typing", "Typing indicators"],
];

export class SettingsView {
  constructor(root, { me, onAgentsChanged }) {
    this.root = root;
    this.me = me;
    this.onAgentsChanged = onAgentsChanged;
    this.settings = null;
    this.agents = [];
  }

  async load() {
    clear(this.root, h("p", { class: "muted" }, "Loading settings…"));
    try {
      const [settings, team] = await Promise.all([api("/settings"), api("/agents")]);
      this.settings = settings;
      this.agents = team.agents;
    } catch (error) {
      clear(this.root, h("p", { class: "form-error", role: "alert" }, error.message));
      return;
    }
    // Webhooks load on their own: a slow or failing webhook list holds up nothing else.
    const webhooks = new WebhooksSection();
    clear(
      this.root,
      h("h1", { class: "settings-title" }, "Settings"),
      h(
        "div",
        { class: "settings-grid" },
        this.widgetSection(),
        h(
          "div",
          { class: "settings-side" },
          this.embedSection(),
          identitySection(this.settings),
          this.agentsSection(),
          emailStatusSection(),
          storageSection(),
        ),
        hoursSection(this.settings),
        webhooks.element,
      ),
    );
    webhooks.load();
  }

  widgetSection() {
    const s = this.settings;
    const status = h("p", { class: "save-status", role: "status" });
    const color = h("input", { id: "set-color", type: "color", value: s.color || "#2563eb" });
    const colorText = h("code", { class: "color-value" }, color.value);
    color.addEventListener("input", () => {
      colorText.textContent = color.value;
    });
    const form = h(
      "form",
      { class: "card settings-form", novalidate: true },
      h("h2", {}, "Chat widget"),
      field("set-greeting", "Greeting", h("textarea", { id: "set-greeting", rows: "2" }), "The first thing a visitor reads."),
      field(
        "set-auto-reply",
        "Auto-reply",
        h("textarea", { id: "set-auto-reply", rows: "2" }),
        "Sent right after a visitor's first message. Leave empty to send none.",
      ),
      h(
        "div",
        { class: "field-row" },
        field("set-bot-name", "Bot name", h("input", { id: "set-bot-name", type: "text" }), "Author of the auto-reply."),
        field("set-title", "Title", h("input", { id: "set-title", type: "text" }), "Widget header; empty uses the account name."),
      ),
      h(
        "div",
        { class: "field" },
        h("label", { for: "set-color" }, "Color"),
        h("div", { class: "color-row" }, color, colorText),
      ),
      field(
        "set-origins",
        "Allowed origins",
        h("textarea", { id: "set-origins", rows: "3", placeholder: "https://shop.example.com" }),
        "One per line. Empty lets the widget run on any site.",
      ),
      h(
        "fieldset",
        { class: "limits" },
        h("legend", {}, "Rate limits (requests per minute, per visitor)"),
        RATE_LIMITS.map(([key, label]) =>
          field(`set-limit-${key}`, label, h("input", { id: `set-limit-${key}`, type: "number", min: "1", max: "1000000", step: "1" })),
        ),
      ),
      h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary" }, "Save settings"), status),
    );
    const byId = (id) => form.querySelector(`#${id}`);
    byId("set-greeting").value = s.greeting || "";
    byId("set-auto-reply").value = s.auto_reply || "";
    byId("set-bot-name").value = s.bot_name || "";
    byId("set-title").value = s.title || "";
    byId("set-origins").value = (s.allowed_origins || []).join("\n");
    for (const [key] of RATE_LIMITS) byId(`set-limit-${key}`).value = String(s.rate_limits[key]);

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      // Only what the admin changed: untouched fields keep their stored meaning (an empty
      // title, say, keeps following the account name instead of freezing today's value).
      const s = this.settings;
      const rateLimits = {};
      for (const [key] of RATE_LIMITS) {
        const raw = byId(`set-limit-${key}`).value.trim();
        // Anything that isn't a whole number goes to the server as is, to get its sentence back.
        const value = /^\d+$/.test(raw) ? Number(raw) : raw;
        if (value !== s.rate_limits[key]) rateLimits[key] = value;
      }
      const origins = byId("set-origins")
        .value.split(/[\s,]+/)
        .map((line) => line.trim())
        .filter(Boolean);
      const fields = {
        greeting: byId("set-greeting").value,
        auto_reply: byId("set-auto-reply").value,
        bot_name: byId("set-bot-name").value,
        title: byId("set-title").value,
        color: color.value,
      };
      const changes = {};
      for (const [key, value] of Object.entries(fields)) {
        if (value.trim() !== (s[key] || "")) changes[key] = value;
      }
      if (origins.join("\n") !== (s.allowed_origins || []).join("\n")) changes.allowed_origins = origins;
      if (Object.keys(rateLimits).length) changes.rate_limits = rateLimits;
      if (Object.keys(changes).length === 0) {
        status.className = "save-status";
        status.textContent = "Nothing has changed.";
        return;
      }
      status.className = "save-status";
      status.textContent = "Saving…";
      try {
        this.settings = await api("/settings", { method: "PATCH", json: changes });
        byId("set-origins").value = this.settings.allowed_origins.join("\n");
        status.textContent = "Saved.";
      } catch (error) {
        status.className = "save-status form-error";
        status.textContent = error.message;
      }
    });
    return form;
  }

  embedSection() {
    const snippet = () =>
      `<script src="${window.location.origin}/widget.js" data-site-key="${this.settings.site_key}" async></script>`;
    const code = h("code", { id: "embed-snippet" }, snippet());
    const keyCode = h("code", { class: "site-key" }, this.settings.site_key);
    const copyStatus = h("span", { class: "save-status", role: "status" });
    const rotateStatus = h("p", { class: "save-status", role: "status" });
    const copy = async () => {
      await copyText(code);
      copyStatus.textContent = "Copied to the clipboard.";
    };
    const rotate = async () => {
      const sure = await confirmDialog({
        title: "Rotate the site key?",
        text: "The current key stops working at once. Every page that embeds the widget must be updated with the new snippet.",
        confirm: "Rotate key",
      });
      if (!sure) return;
      try {
        const { site_key: key } = await api("/settings/site-key", { method: "POST" });
        this.settings.site_key = key;
        keyCode.textContent = key;
        code.textContent = snippet();
        rotateStatus.className = "save-status";
        rotateStatus.textContent = "New key issued. Update the snippet on your site.";
      } catch (error) {
        rotateStatus.className = "save-status form-error";
        rotateStatus.textContent = error.message;
      }
    };
    return h(
      "section",
      { class: "card", "aria-labelledby": "embed-heading" },
      h("h2", { id: "embed-heading" }, "Embed on your site"),
      h("p", { class: "muted" }, "Paste this line into every page that should show the chat."),
      h("pre", { class: "snippet" }, code),
      h("div", { class: "form-actions" }, h("button", { type: "button", class: "secondary", onclick: copy }, "Copy"), copyStatus),
      h("h3", {}, "Site key"),
      h("p", {}, keyCode),
      h("div", { class: "form-actions" }, h("button", { type: "button", class: "danger-outline", onclick: rotate }, "Rotate site key")),
      rotateStatus,
    );
  }

  agentsSection() {
    const table = h("ul", { class: "team" });
    const status = h("p", { class: "save-status", role: "status" });
    const renderTeam = () => {
      clear(
        table,
        this.agents.map((agent) =>
          h(
            "li",
            { class: "team-member" },
            h(
              "span",
              { class: "team-who" },
              h(
                "span",
                {},
                h("strong", {}, agent.name),
                agent.id === this.me.id ? h("span", { class: "muted" }, " (you)") : null,
              ),
              h("span", { class: "team-email" }, agent.email),
            ),
            h("span", { class: `badge role-${agent.role}` }, agent.role === "admin" ? "Admin" : "Agent"),
            agent.id === this.me.id
              ? h("span", { class: "team-spacer" })
              : h("button", { type: "button", class: "ghost danger-text", "aria-label": `Remove ${agent.name}`, onclick: () => remove(agent) }, "Remove"),
          ),
        ),
      );
    };
    const remove = async (agent) => {
      const sure = await confirmDialog({
        title: `Remove ${agent.name}?`,
        text: "They are signed out and can no longer answer chats. Their past replies stay.",
        confirm: "Remove agent",
      });
      if (!sure) return;
      try {
        await api(`/agents/${agent.id}`, { method: "DELETE" });
        this.agents = this.agents.filter((row) => row.id !== agent.id);
        renderTeam();
        status.className = "save-status";
        status.textContent = `${agent.name} was removed.`;
        this.onAgentsChanged(this.agents);
      } catch (error) {
        status.className = "save-status form-error";
        status.textContent = error.message;
      }
    };
    const form = h(
      "form",
      { class: "add-agent", novalidate: true },
      h("h3", {}, "Add an agent"),
      h(
        "div",
        { class: "field-row" },
        field("new-agent-name", "Name", h("input", { id: "new-agent-name", type: "text", autocomplete: "off" })),
        field("new-agent-email", "Email", h("input", { id: "new-agent-email", type: "email", autocomplete: "off" })),
      ),
      h(
        "div",
        { class: "field-row" },
        field("new-agent-password", "Password", h("input", { id: "new-agent-password", type: "password", autocomplete: "new-password" }), "At least 10 characters."),
        field(
          "new-agent-role",
          "Role",
          h("select", { id: "new-agent-role" }, h("option", { value: "agent" }, "Agent"), h("option", { value: "admin" }, "Admin")),
        ),
      ),
      h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary" }, "Add agent")),
    );
    const tokenNote = h("div", { class: "token-note", hidden: true });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = (id) => form.querySelector(`#${id}`).value;
      try {
        const agent = await api("/agents", {
          method: "POST",
          json: {
            name: value("new-agent-name"),
            email: value("new-agent-email"),
            password: value("new-agent-password"),
            role: value("new-agent-role"),
          },
        });
        const { api_token: token, ...listed } = agent;
        this.agents.push(listed);
        renderTeam();
        form.reset();
        status.className = "save-status";
        status.textContent = `${agent.name} can now sign in.`;
        clear(
          tokenNote,
          h("p", {}, `API token for ${agent.name}, shown this once (for scripts and integrations):`),
          h("code", {}, token),
        );
        tokenNote.hidden = false;
        this.onAgentsChanged(this.agents);
      } catch (error) {
        status.className = "save-status form-error";
        status.textContent = error.message;
      }
    });
    renderTeam();
    return h("section", { class: "card", "aria-labelledby": "team-heading" }, h("h2", { id: "team-heading" }, "Agents"), table, status, tokenNote, form);
  }
}
