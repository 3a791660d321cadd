// The header's availability switch (contract section 7): the signed-in agent is Online or
// Away. Away agents get no auto-assigned conversations and don't count as "someone is in"
// for the widget, whatever they have open.

import { api } from "./inbox_api.js";
import { h } from "./inbox_dom.js";

export async function mountAvailability(container) {
  if (!container) return;
  const select = h(
    "select",
    { id: "availability", class: "availability", "aria-label": "Availability" },
    h("option", { value: "online" }, "Online"),
    h("option", { value: "away" }, "Away"),
  );
  const status = h("span", { class: "visually-hidden", role: "status" });
  const paint = (value) => {
    select.value = value;
    select.dataset.state = value;
  };
  select.addEventListener("change", async () => {
    const wanted = select.value;
    select.disabled = true;
    try {
      const me = await api("/me", { method: "PATCH", json: { availability: wanted } });
      paint(me.availability);
      status.textContent = me.availability === "away" ? "You are away." : "You are online.";
    } catch (error) {
      paint(wanted === "away" ? "online" : "away");
      status.textContent = error.message;
    } finally {
      select.disabled = false;
    }
  });
  container.prepend(select, status);
  try {
    paint((await api("/me")).availability);
  } catch {
    paint("online");
  }
}
