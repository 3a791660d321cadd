// Settings, "Identity verification" (contract section 6): the identity secret the site's
// server signs its users' ids with (made here, shown once), how to use it, and whether only
// verified visitors may start a chat.

import { api } from "./inbox_api.js";
import { clear, confirmDialog, copyText, h } from "./inbox_dom.js";

const HOW_TO = (origin, siteKey) => `# On your server, for the signed-in user (never in the browser):
# Python
user_hash = hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()
// Node.js
const userHash = crypto.createHmac("sha256", secret).update(userId).digest("hex");

<!-- In the page, with the values filled in -->
<script src="${origin}/widget.js" data-site-key="${siteKey}"
  data-user-id="USER_ID" data-user-hash="USER_HASH"
  data-user-name="Jane Doe" data-user-email="jane@example.com" async></script>`;

// `settings`: the agent API's settings; its identity fields are kept up to date here.
export function identitySection(settings) {
  const state = h("p", { class: "identity-state" });
  const button = h("button", { type: "button", class: "secondary" });
  const status = h("p", { class: "save-status", role: "status" });
  const secretNote = h("div", { class: "token-note", hidden: true });
  const requireBox = h("input", { id: "require-identity", type: "checkbox" });
  const requireStatus = h("span", { class: "save-status", role: "status" });
  requireBox.checked = Boolean(settings.require_identity);

  const renderState = () => {
    const set = Boolean(settings.identity_secret_set);
    state.textContent = set
      ? "A secret is set: visitors your site signs in are verified."
      : "No secret yet: no visitor can be verified.";
    button.textContent = set ? "Rotate identity secret" : "Generate identity secret";
    button.className = set ? "danger-outline" : "secondary";
  };

  button.addEventListener("click", async () => {
    if (settings.identity_secret_set) {
      const sure = await confirmDialog({
        title: "Rotate the identity secret?",
        text: "The current secret stops working at once: signed-in visitors fail verification until your server signs with the new one.",
        confirm: "Rotate secret",
      });
      if (!sure) return;
    }
    // The secret on screen (if any) is about to stop working: never leave it shown beside a
    // "made" message while the new one is on its way.
    secretNote.hidden = true;
    clear(secretNote);
    status.className = "save-status";
    status.textContent = "Making a new secret…";
    button.disabled = true;
    try {
      const { identity_secret: secret } = await api("/settings/identity-secret", { method: "POST" });
      settings.identity_secret_set = true;
      renderState();
      status.className = "save-status";
      status.textContent = "New identity secret made.";
      const code = h("code", { id: "identity-secret" }, secret);
      const copied = h("span", { class: "save-status", role: "status" });
      const copy = async () => {
        await copyText(code);
        copied.textContent = "Copied to the clipboard.";
      };
      clear(
        secretNote,
        h("p", {}, "Identity secret, shown this once. Keep it on your server only, as you would a password:"),
        h("p", {}, code),
        h("div", { class: "form-actions" }, h("button", { type: "button", class: "secondary", onclick: copy }, "Copy secret"), copied),
      );
      secretNote.hidden = false;
    } catch (error) {
      status.className = "save-status form-error";
      status.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });

  requireBox.addEventListener("change", async () => {
    const wanted = requireBox.checked;
    requireStatus.className = "save-status";
    requireStatus.textContent = "Saving…";
    try {
      const saved = await api("/settings", { method: "PATCH", json: { require_identity: wanted } });
      settings.require_identity = saved.require_identity;
      requireBox.checked = saved.require_identity;
      requireStatus.textContent = "Saved.";
    } catch (error) {
      requireBox.checked = !wanted;
      requireStatus.className = "save-status form-error";
      requireStatus.textContent = error.message;
    }
  });

  renderState();
  return h(
    "section",
    { class: "card identity", "aria-labelledby": "identity-heading" },
    h("h2", { id: "identity-heading" }, "Identity verification"),
    h(
      "p",
      { class: "muted" },
      "When your visitors are signed in to your site, tell the chat who they are. Your server signs each user's id with this secret; agents then see them as Verified, and visitors find their conversations on any device.",
    ),
    state,
    h("div", { class: "form-actions" }, button),
    status,
    secretNote,
    h("h3", {}, "Signing a user"),
    h(
      "p",
      { class: "muted" },
      "user_hash is the hex HMAC-SHA256 of the user's id, keyed with the secret:",
    ),
    h("pre", { class: "snippet" }, h("code", {}, HOW_TO(window.location.origin, settings.site_key))),
    h(
      "div",
      { class: "toggle-field" },
      h("label", { class: "toggle", for: "require-identity" }, requireBox, "Require verified identity"),
      requireStatus,
    ),
    h(
      "p",
      { class: "hint" },
      "Only visitors your site signed in can start a chat; anyone else is told “Identity verification required”.",
    ),
  );
}
