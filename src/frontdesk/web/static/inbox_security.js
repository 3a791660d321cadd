// Security, for every agent: change your password, and see and revoke your own inbox
// sessions and API tokens (GET/DELETE /tokens, POST /me/password).

import { api } from "./inbox_api.js";
import { clear, confirmDialog, field, h, timeElement } from "./inbox_dom.js";

const KIND_NAMES = { session: "Inbox session", api: "API token" };

export class SecurityView {
  constructor(root, { sessionId }) {
    this.root = root;
    this.sessionId = sessionId;
    this.tokensBody = h("tbody");
    this.tokensError = h("p", { class: "form-error", role: "alert" });
  }

  async load() {
    clear(this.root, h("h1", { class: "settings-title" }, "Security"), h("div", { class: "settings-grid" }, ...this.sections()));
    await this.loadTokens();
  }

  // The cards, for a page that shows them beside its own (inbox_privacy.js's Security).
  sections() {
    return [this.passwordSection(), this.tokensSection()];
  }

  passwordSection() {
    const current = h("input", { id: "sec-current", type: "password", autocomplete: "current-password", required: true });
    const fresh = h("input", { id: "sec-new", type: "password", autocomplete: "new-password", minlength: "10", required: true });
    const status = h("p", { class: "save-status", role: "status" });
    const form = h(
      "form",
      { class: "card settings-form security-form", novalidate: true },
      h("h2", {}, "Password"),
      field("sec-current", "Current password", current),
      field("sec-new", "New password", fresh, "At least 10 characters. Your other inbox sessions and sign-in tokens end; API tokens an admin made keep working."),
      h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary" }, "Change password"), status),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      status.className = "save-status";
      status.textContent = "Changing…";
      try {
        await api("/me/password", { method: "POST", json: { current_password: current.value, new_password: fresh.value } });
      } catch (error) {
        status.className = "save-status form-error";
        status.textContent = error.message;
        return;
      }
      form.reset();
      status.textContent = "Password changed. Your other sessions have been signed out.";
      await this.loadTokens();
    });
    return form;
  }

  tokensSection() {
    return h(
      "section",
      { class: "card", "aria-labelledby": "sec-tokens-title" },
      h("h2", { id: "sec-tokens-title" }, "Sessions and tokens"),
      h("p", { class: "hint section-lead" }, "Where you are signed in, and the API tokens that act as you. Revoke any you don't recognise; it stops working at once."),
      this.tokensError,
      h(
        "table",
        { class: "delivery-table token-table" },
        h("thead", {}, h("tr", {}, ["Kind", "Created", "Last used", "Expires", ""].map((name) => h("th", { scope: "col" }, name)))),
        this.tokensBody,
      ),
    );
  }

  async loadTokens() {
    let tokens;
    try {
      tokens = (await api("/tokens")).tokens;
    } catch (error) {
      this.tokensError.textContent = error.message;
      return;
    }
    this.tokensError.textContent = "";
    clear(this.tokensBody, tokens.map((token) => this.tokenRow(token)));
  }

  tokenRow(token) {
    const mine = token.id === this.sessionId;
    const name = KIND_NAMES[token.kind] || token.kind;
    const when = (iso, never) => (iso ? timeElement(iso) : never);
    const revoke = h(
      "button",
      { type: "button", class: "secondary", "aria-label": `Revoke ${name.toLowerCase()} ${token.id}${mine ? " (this browser)" : ""}` },
      "Revoke",
    );
    revoke.addEventListener("click", () => this.revoke(token, name, mine));
    return h(
      "tr",
      {},
      h("td", { "data-label": "Kind" }, name, mine ? h("span", { class: "badge active" }, "This browser") : null),
      h("td", { "data-label": "Created" }, when(token.created_at, "")),
      h("td", { "data-label": "Last used" }, when(token.last_used_at, "Not yet")),
      h("td", { "data-label": "Expires" }, when(token.expires_at, "Never")),
      h("td", { class: "delivery-action" }, revoke),
    );
  }

  async revoke(token, name, mine) {
    const yes = await confirmDialog({
      title: `Revoke this ${name.toLowerCase()}?`,
      text: mine ? "This browser will be signed out." : "Whatever uses it is refused from now on.",
      confirm: "Revoke",
    });
    if (!yes) return;
    try {
      await api(`/tokens/${token.id}`, { method: "DELETE" });
    } catch (error) {
      this.tokensError.textContent = error.message;
      return;
    }
    if (mine) {
      window.location.assign("/inbox");
      return;
    }
    await this.loadTokens();
  }
}
