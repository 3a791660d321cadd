// Trust and privacy in the inbox (contract section 9): the Contacts page (search, export,
// delete), the admins' Audit log and blocklist, and Security (two-factor sign-in).

import { api, query } from "./inbox_api.js";
import { clear, confirmDialog, field, h, timeElement } from "./inbox_dom.js";

const ACTIONS = {
  "settings.updated": "Changed settings",
  "site_key.rotated": "Issued a new site key",
  "identity_secret.rotated": "Issued a new identity secret",
  "agent.created": "Added an agent",
  "agent.deleted": "Removed an agent",
  "webhook.created": "Added a webhook",
  "webhook.updated": "Changed a webhook",
  "webhook.deleted": "Removed a webhook",
  "contact.exported": "Exported a contact",
  "contact.deleted": "Deleted a contact",
  "blocklist.created": "Blocked",
  "blocklist.deleted": "Unblocked",
  "totp.enabled": "Turned two-factor sign-in on",
  "totp.disabled": "Turned two-factor sign-in off",
};

function errorLine(error) {
  return h("p", { class: "form-error", role: "alert" }, error.message);
}

export class PrivacyView {
  constructor(root, { me, sessionId }) {
    this.root = root;
    this.me = me;
    this.sessionId = sessionId;
    this.isAdmin = me.role === "admin";
  }

  async show(page) {
    if (page === "contacts") await this.contacts();
    else if (page === "audit") await this.audit();
    else await this.security();
    this.root.querySelector("h1").after(this.pages(page));
    const heading = this.root.querySelector("h1");
    if (heading) {
      heading.tabIndex = -1;
      heading.focus();
    }
  }

  // The three pages' own links (a phone's top row has room only for Contacts).
  pages(current) {
    const links = [["contacts", "Contacts"], ["security", "Security"]];
    if (this.isAdmin) links.splice(1, 0, ["audit", "Audit log"]);
    return h(
      "nav",
      { class: "privacy-nav", "aria-label": "Privacy and security" },
      links.map(([page, label]) => h("a", { href: `#/${page}`, "aria-current": page === current ? "page" : null }, label)),
    );
  }

  // Contacts: search, then export or delete one person.
  async contacts() {
    const list = h("ul", { class: "privacy-list", "aria-label": "Contacts" });
    const more = h("button", { type: "button", class: "ghost load-more", hidden: true }, "Load more");
    const input = h("input", { id: "contact-search", type: "search", autocomplete: "off", placeholder: "Name, email or user id" });
    const status = h("p", { class: "save-status", role: "status" });
    let cursor = null;
    const load = async (append) => {
      try {
        const page = await api(`/contacts${query({ q: input.value.trim(), cursor: append ? cursor : null })}`);
        if (!append) list.replaceChildren();
        for (const contact of page.contacts) list.append(this.contactRow(contact, status));
        if (!list.children.length) list.append(h("li", { class: "muted" }, "No contacts found."));
        cursor = page.next_cursor;
        more.hidden = !cursor;
      } catch (error) {
        status.textContent = error.message;
      }
    };
    more.addEventListener("click", () => load(true));
    const form = h(
      "form",
      { role: "search", class: "privacy-search", onsubmit: (event) => { event.preventDefault(); load(false); } },
      field("contact-search", "Search contacts", input),
      h("button", { type: "submit", class: "secondary" }, "Search"),
    );
    clear(this.root, h("h1", { class: "settings-title" }, "Contacts"), h("section", { class: "card" }, form, status, list, more));
    await load(false);
  }

  contactRow(contact, status) {
    const who = h("div", { class: "privacy-who" }, h("strong", {}, contact.name), h("span", { class: "muted" }, contact.email));
    const meta = h(
      "span",
      { class: "muted" },
      `${contact.conversations} conversation${contact.conversations === 1 ? "" : "s"} · since `,
      timeElement(contact.created_at),
    );
    const actions = h("div", { class: "privacy-actions" });
    if (this.isAdmin) {
      const base = `/api/v1/agent/contacts/${contact.id}/export`;
      actions.append(
        h("a", { class: "button secondary", href: base, download: `contact-${contact.id}.json` }, "Export"),
        h("a", { class: "button secondary", href: `${base}?files=true`, download: `contact-${contact.id}.zip` }, "Export with files"),
      );
      const remove = h("button", { type: "button", class: "danger" }, "Delete");
      remove.setAttribute("aria-label", `Delete ${contact.name}`);
      remove.addEventListener("click", async () => {
        const sure = await confirmDialog({
          title: `Delete ${contact.name}?`,
          text: "Their conversations, messages and files are erased for good, and queued emails and webhooks about them are dropped. This can't be undone.",
          confirm: "Delete for good",
        });
        if (!sure) return;
        try {
          await api(`/contacts/${contact.id}`, { method: "DELETE" });
          row.remove();
          status.textContent = `${contact.name} was deleted.`;
        } catch (error) {
          status.textContent = error.message;
        }
      });
      actions.append(remove);
    }
    const row = h("li", { class: "privacy-row" }, who, meta, actions);
    return row;
  }

  // Audit log (admins) with the blocklist beside it.
  async audit() {
    const list = h("ul", { class: "privacy-list", "aria-label": "Audit log" });
    const more = h("button", { type: "button", class: "ghost load-more", hidden: true }, "Load more");
    let cursor = null;
    const load = async () => {
      try {
        const page = await api(`/audit${query({ cursor })}`);
        for (const event of page.events) {
          const who = event.agent ? event.agent.name : "Frontdesk";
          const detail = Object.entries(event.details || {})
            .map(([key, value]) => `${key}: ${Array.isArray(value) ? value.join(", ") : value}`)
            .join("; ");
          list.append(
            h(
              "li",
              { class: "privacy-row" },
              h("div", { class: "privacy-who" }, h("strong", {}, ACTIONS[event.action] || event.action), h("span", { class: "muted" }, `${who}${event.target ? ` · ${event.target}` : ""}`)),
              h("span", { class: "muted" }, detail),
              timeElement(event.at),
            ),
          );
        }
        if (!list.children.length) list.append(h("li", { class: "muted" }, "Nothing recorded yet."));
        cursor = page.next_cursor;
        more.hidden = !cursor;
      } catch (error) {
        list.append(h("li", {}, errorLine(error)));
      }
    };
    more.addEventListener("click", load);
    clear(
      this.root,
      h("h1", { class: "settings-title" }, "Audit log"),
      h("div", { class: "settings-grid" }, h("section", { class: "card" }, h("h2", {}, "Changes"), list, more), await this.blocklistCard()),
    );
    await load();
  }

  async blocklistCard() {
    const list = h("ul", { class: "privacy-list", "aria-label": "Blocklist" });
    const status = h("p", { class: "save-status", role: "status" });
    const kind = h("select", { id: "block-kind" }, h("option", { value: "address" }, "Address or network"), h("option", { value: "email" }, "Email or @domain"));
    const value = h("input", { id: "block-value", autocomplete: "off", placeholder: "203.0.113.7, 2001:db8::/32, @spam.example" });
    const render = (entries) => {
      list.replaceChildren();
      for (const entry of entries) {
        const remove = h("button", { type: "button", class: "ghost" }, "Unblock");
        remove.setAttribute("aria-label", `Unblock ${entry.value}`);
        remove.addEventListener("click", async () => {
          try {
            await api(`/blocklist/${entry.id}`, { method: "DELETE" });
            await refresh();
          } catch (error) {
            status.textContent = error.message;
          }
        });
        list.append(h("li", { class: "privacy-row" }, h("div", { class: "privacy-who" }, h("strong", {}, entry.value), h("span", { class: "muted" }, entry.note)), remove));
      }
      if (!entries.length) list.append(h("li", { class: "muted" }, "Nobody is blocked."));
    };
    const refresh = async () => render((await api("/blocklist")).entries);
    const form = h(
      "form",
      {
        class: "privacy-search",
        novalidate: true,
        onsubmit: async (event) => {
          event.preventDefault();
          status.textContent = "";
          try {
            await api("/blocklist", { method: "POST", json: { kind: kind.value, value: value.value } });
            value.value = "";
            await refresh();
            status.textContent = "Blocked";
          } catch (error) {
            status.textContent = error.message;
          }
        },
      },
      field("block-kind", "Kind", kind),
      field("block-value", "Value", value),
      h("button", { type: "submit", class: "secondary" }, "Block"),
    );
    try {
      await refresh();
    } catch (error) {
      status.textContent = error.message;
    }
    return h("section", { class: "card" }, h("h2", {}, "Blocklist"), form, status, list);
  }

  // Security: the signed-in agent's two-factor sign-in; admins also see who has it on.
  async security() {
    const card = h("section", { class: "card" }, h("h2", {}, "Two-factor sign-in"));
    // One Security page: the password and sessions cards (inbox_security.js), then this one.
    const { SecurityView } = await import("./inbox_security.js");
    const account = new SecurityView(this.root, { sessionId: this.sessionId });
    const parts = [h("h1", { class: "settings-title" }, "Security"), h("div", { class: "settings-grid" }, ...account.sections(), card)];
    clear(this.root, ...parts);
    account.loadTokens();
    let team;
    try {
      team = (await api("/agents")).agents;
    } catch (error) {
      card.append(errorLine(error));
      return;
    }
    const mine = team.find((agent) => agent.id === this.me.id);
    if (mine && mine.totp_enabled) this.twoFactorOn(card);
    else this.twoFactorOff(card);
    if (this.isAdmin) {
      const rows = team.map((agent) =>
        h("li", { class: "privacy-row" }, h("strong", {}, agent.name), h("span", { class: agent.totp_enabled ? "badge open" : "badge closed" }, agent.totp_enabled ? "Two-factor on" : "Two-factor off")),
      );
      this.root.querySelector(".settings-grid").append(h("section", { class: "card" }, h("h2", {}, "Team"), h("ul", { class: "privacy-list", "aria-label": "Team" }, rows)));
    }
  }

  twoFactorOff(card) {
    const start = h("button", { type: "button", class: "primary" }, "Set up two-factor sign-in");
    const status = h("p", { class: "save-status", role: "status" });
    const body = h("div", {}, h("p", { class: "muted" }, "Two-factor sign-in is off. With it on, signing in also needs a code from an authenticator app."), start, status);
    clear(card, h("h2", {}, "Two-factor sign-in"), body);
    start.addEventListener("click", async () => {
      try {
        const { secret } = await api("/me/totp", { method: "POST", json: {} });
        this.enrol(card, secret);
      } catch (error) {
        status.textContent = error.message;
      }
    });
  }

  enrol(card, secret) {
    const code = h("input", { id: "totp-code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6" });
    const status = h("p", { class: "save-status", role: "status" });
    const form = h(
      "form",
      {
        class: "privacy-search",
        novalidate: true,
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            const { recovery_codes: codes } = await api("/me/totp/confirm", { method: "POST", json: { code: code.value.trim() } });
            this.showRecovery(card, codes);
          } catch (error) {
            status.textContent = error.message;
            code.select();
          }
        },
      },
      field("totp-code", "Code from the app", code),
      h("button", { type: "submit", class: "primary" }, "Turn on"),
    );
    clear(
      card,
      h("h2", {}, "Set up two-factor sign-in"),
      h("p", {}, "Scan this QR code with your authenticator app (or type the key below), then enter the 6-digit code it shows."),
      h("img", { class: "totp-qr", src: `/api/v1/agent/me/totp/qr.svg?t=${Date.now()}`, alt: "QR code for your authenticator app", width: "200", height: "200" }),
      h("p", {}, "Key: ", h("code", { class: "totp-secret" }, secret)),
      form,
      status,
    );
    code.focus();
  }

  showRecovery(card, codes) {
    const done = h("button", { type: "button", class: "secondary" }, "I have saved them");
    // The whole page again: the team list shows the change too.
    done.addEventListener("click", () => this.show("security"));
    clear(
      card,
      h("h2", {}, "Two-factor sign-in is on"),
      h("p", {}, "Keep these recovery codes somewhere safe. Each signs you in once if you lose your phone; they are shown only now."),
      h("ul", { class: "recovery-codes", "aria-label": "Recovery codes" }, codes.map((c) => h("li", {}, h("code", {}, c)))),
      done,
    );
    done.focus();
  }

  twoFactorOn(card) {
    const code = h("input", { id: "totp-off-code", autocomplete: "one-time-code" });
    const status = h("p", { class: "save-status", role: "status" });
    const form = h(
      "form",
      {
        class: "privacy-search",
        novalidate: true,
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            await api("/me/totp", { method: "DELETE", json: { code: code.value.trim() } });
            this.twoFactorOff(card);
          } catch (error) {
            status.textContent = error.message;
          }
        },
      },
      field("totp-off-code", "Code or recovery code", code),
      h("button", { type: "submit", class: "secondary" }, "Turn off"),
    );
    clear(card, h("h2", {}, "Two-factor sign-in"), h("p", {}, h("span", { class: "badge open" }, "On"), " Signing in needs a code from your authenticator app."), form, status);
  }
}
