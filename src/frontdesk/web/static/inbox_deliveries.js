// One webhook endpoint's recent deliveries (contract section 5), newest first, for the
// Webhooks settings (inbox_webhooks.js): event, status, attempts, the receiver's answer,
// when, the next attempt, and a Retry on failed ones.

import { api, query } from "./inbox_api.js";
import { clear, h } from "./inbox_dom.js";
import { fullTime, logTime, parseTime } from "./inbox_format.js";

const STATUS_WORDS = { pending: "Pending", succeeded: "Succeeded", failed: "Failed" };
const COLUMNS = ["Event", "Status", "Attempts", "Response", "Time", "Next attempt"];
const RECENT = 10; // deliveries listed per endpoint
// After a test or a retry the outcome arrives within a second or two: look again meanwhile.
const FOLLOW_FOR_MS = 10_000;
const FOLLOW_EVERY_MS = 1_200;
// A pending delivery due this soon is waited for on screen; later ones show on Refresh.
const WATCH_WITHIN_MS = 90_000;
// One overdue for longer than this waits for the worker (another instance, a restart), not
// for a browser asking every second.
const OVERDUE_MS = 30_000;

// Looked at again after a test or a retry, and while a delivery is due for another attempt
// soon, so outcomes show without a reload. `endpoint` gives the API path, the buttons and
// a place to say what happened.
export class Deliveries {
  constructor(endpoint) {
    this.endpoint = endpoint;
    this.headingId = `${endpoint.base}-deliveries`;
    this.body = h("div", { class: "deliveries-body" });
    this.element = h(
      "div",
      { class: "deliveries" },
      h(
        "div",
        { class: "deliveries-head" },
        h("h3", { id: this.headingId }, "Deliveries"),
        endpoint.button("Refresh", () => this.refresh(), "ghost small"),
      ),
      this.body,
    );
    this.seq = 0; // answers to older requests are dropped
    this.timer = null;
    this.followUntil = 0;
  }

  async refresh() {
    clearTimeout(this.timer);
    this.timer = null;
    const seq = ++this.seq;
    let deliveries;
    try {
      ({ deliveries } = await api(`${this.endpoint.path}/deliveries${query({ limit: RECENT })}`));
    } catch (error) {
      if (seq === this.seq) clear(this.body, h("p", { class: "form-error" }, error.message));
      return;
    }
    if (seq !== this.seq) return;
    this.render(deliveries);
    this.watch(deliveries);
  }

  follow() {
    this.followUntil = Date.now() + FOLLOW_FOR_MS;
    this.refresh();
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    this.followUntil = 0;
    this.seq += 1;
  }

  // When to look again, if at all: soon after a test or retry, and just after a pending
  // delivery's next attempt is due.
  watch(deliveries) {
    const now = Date.now();
    let wait = now < this.followUntil ? FOLLOW_EVERY_MS : null;
    for (const delivery of deliveries) {
      if (delivery.status !== "pending") continue;
      const date = delivery.next_attempt_at ? parseTime(delivery.next_attempt_at) : new Date(now);
      const due = date ? date.getTime() : NaN;
      if (Number.isNaN(due) || due - now > WATCH_WITHIN_MS || now - due > OVERDUE_MS) continue;
      const until = Math.max(1_000, due - now + 800);
      wait = wait === null ? until : Math.min(wait, until);
    }
    if (wait === null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      // Settings were re-rendered or the endpoint removed: this list is gone, stop.
      if (this.element.isConnected) this.refresh();
    }, wait);
  }

  render(deliveries) {
    if (!deliveries.length) {
      clear(this.body, h("p", { class: "muted deliveries-empty" }, "No deliveries yet. Send a test to see one arrive."));
      return;
    }
    // Explicit roles: the phone layout restyles the cells as blocks, which would otherwise
    // cost the table its semantics in some browsers.
    clear(
      this.body,
      h(
        "table",
        { class: "delivery-table", role: "table", "aria-labelledby": this.headingId },
        h(
          "thead",
          { role: "rowgroup" },
          h(
            "tr",
            { role: "row" },
            COLUMNS.map((name) => h("th", { scope: "col", role: "columnheader" }, name)),
            h("th", { scope: "col", role: "columnheader" }, h("span", { class: "visually-hidden" }, "Action")),
          ),
        ),
        h("tbody", { role: "rowgroup" }, deliveries.map((delivery) => this.row(delivery))),
      ),
    );
  }

  row(delivery) {
    const cell = (label, ...content) => h("td", { role: "cell", "data-label": label }, ...content);
    const retry =
      delivery.status === "failed"
        ? h("button", { type: "button", class: "secondary small", onclick: (event) => this.retry(delivery, event.currentTarget) }, "Retry")
        : null;
    return h(
      "tr",
      { role: "row", class: `delivery status-${delivery.status}` },
      cell("Event", h("code", {}, delivery.type)),
      cell("Status", h("span", { class: `badge status-${delivery.status}` }, STATUS_WORDS[delivery.status] || delivery.status)),
      cell("Attempts", String(delivery.attempts)),
      cell("Response", response(delivery)),
      cell("Time", when(delivery.created_at)),
      cell("Next attempt", delivery.next_attempt_at ? when(delivery.next_attempt_at) : none()),
      h("td", { role: "cell", class: "delivery-action" }, retry),
    );
  }

  async retry(delivery, button) {
    button.disabled = true;
    try {
      await api(`${this.endpoint.path}/deliveries/${encodeURIComponent(delivery.id)}/retry`, { method: "POST" });
      this.endpoint.say(`Retrying the ${delivery.type} delivery now.`);
      this.follow();
    } catch (error) {
      this.endpoint.say(error.message, true);
      button.disabled = false;
    }
  }
}

// The receiver's status code and, when there was one, what went wrong.
function response(delivery) {
  const parts = [];
  if (delivery.response_status !== null && delivery.response_status !== undefined) {
    const ok = delivery.response_status >= 200 && delivery.response_status < 300;
    parts.push(h("code", { class: `http-status ${ok ? "ok" : "bad"}` }, String(delivery.response_status)));
  }
  if (delivery.error) parts.push(h("span", { class: "delivery-error" }, delivery.error));
  return parts.length ? h("span", { class: "delivery-response" }, parts) : none();
}

function when(iso) {
  return h("time", { datetime: iso, title: fullTime(iso) }, logTime(iso));
}

// A dash to see, a word to hear.
function none() {
  return h("span", {}, h("span", { class: "muted", "aria-hidden": "true" }, "—"), h("span", { class: "visually-hidden" }, "none"));
}
