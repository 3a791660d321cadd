// "Block" on a conversation (contract section 9): blocks the contact's email and the
// visitor's latest address, and closes the conversation, after a confirmation.

import { api } from "./inbox_api.js";
import { confirmDialog, h } from "./inbox_dom.js";

export function blockButton(conversation, onBlocked) {
  const status = h("span", { class: "save-status", role: "status" });
  const button = h("button", { type: "button", class: "secondary" }, "Block");
  button.addEventListener("click", async () => {
    const sure = await confirmDialog({
      title: `Block ${conversation.contact.name}?`,
      text: `${conversation.contact.email} and the address they last wrote from will get no answer from the chat, and this conversation closes. Admins can undo it in the blocklist.`,
      confirm: "Block",
    });
    if (!sure) {
      button.focus();
      return;
    }
    button.disabled = true;
    status.textContent = "";
    try {
      await api(`/conversations/${conversation.id}/block`, { method: "POST", json: {} });
      status.textContent = "Blocked";
      onBlocked();
    } catch (error) {
      status.textContent = error.message;
      button.disabled = false;
    }
  });
  return h("span", { class: "transcript" }, button, status);
}
