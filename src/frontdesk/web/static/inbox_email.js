// Email in the inbox (contract section 8): the "Send transcript" button of a conversation,
// each agent's switch for notification emails, and the admins' "Email" status card.

import { api } from "./inbox_api.js";
import { clear, h } from "./inbox_dom.js";

const bootElement = document.getElementById("inbox-boot");
// Whether the server sends email at all (FRONTDESK_SMTP_URL), as it rendered the page.
const emailOn = Boolean(JSON.parse(bootElement ? bootElement.textContent : "{}").email);

// Emails the open conversation's transcript to its contact at once; none without email.
export function transcriptButton(conversationId) {
  if (!emailOn) return null;
  const status = h("span", { class: "save-status transcript-status", role: "status" });
  const button = h("button", { type: "button", class: "secondary" }, "Send transcript");
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "";
    try {
      await api(`/conversations/${conversationId}/transcript`, { method: "POST", json: {} });
      status.textContent = "Transcript sent";
    } catch (error) {
      status.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });
  return h("span", { class: "transcript" }, button, status);
}

// "Notify me by mail of new and unanswered conversations", saved as the agent's own preference.
export async function mountEmailPreference(container) {
  const box = h("input", { type: "checkbox", id: "email-notifications" });
  const status = h("span", { class: "save-status", role: "status" });
  const row = h(
    "p",
    { class: "email-preference muted" },
    box,
    " ",
    h("label", { for: "email-notifications" }, "Notify me by mail of new and unanswered conversations"),
    " ",
    status,
  );
  try {
    box.checked = Boolean((await api("/me")).email_notifications);
  } catch {
    return; // the rest of the inbox works without it
  }
  box.addEventListener("change", async () => {
    status.textContent = "";
    try {
      const me = await api("/me", { method: "PATCH", json: { email_notifications: box.checked } });
      box.checked = Boolean(me.email_notifications);
      status.textContent = "Saved";
    } catch (error) {
      box.checked = !box.checked;
      status.textContent = error.message;
    }
  });
  container.append(row);
}

// The admins' card: is email set up, and is sending failing?
export function emailStatusSection() {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  // Not a labelled region: "Email" already labels the new-agent form's address field.
  const section = h("section", { class: "card email-status" }, h("h2", {}, "Email"), body);
  api("/email/status").then(
    (status) => clear(body, ...describe(status)),
    (error) => clear(body, h("p", { class: "form-error", role: "alert" }, error.message)),
  );
  return section;
}

function describe(status) {
  if (!status.configured) {
    return [h("p", {}, "Email is not configured. Set FRONTDESK_SMTP_URL to send notifications, replies and transcripts.")];
  }
  const lines = [
    h("p", {}, `Sending as ${status.mail_from}.`),
    h("p", {}, `Sent in the last 7 days: ${status.sent_recent}. Waiting: ${status.pending}.`),
  ];
  if (status.failed_recent || status.retrying) {
    lines.push(
      h(
        "p",
        { class: "form-error", role: "alert" },
        `Failing: ${status.failed_recent} failed in the last 7 days, ${status.retrying} retrying.`,
      ),
    );
  } else {
    lines.push(h("p", {}, "No failures in the last 7 days."));
  }
  if (status.last_error) lines.push(h("p", { class: "muted" }, `Last error: ${status.last_error}`));
  const inbound = status.inbound || {};
  lines.push(
    h(
      "p",
      { class: "muted" },
      inbound.domain ? `Replies by email go to reply+…@${inbound.domain}.` : "Replies by email are off (no FRONTDESK_INBOUND_DOMAIN).",
    ),
  );
  return lines;
}
