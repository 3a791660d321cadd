// Settings, "Availability" (contract section 7): the time zone, opening hours per weekday
// (any number of periods a day), holidays, the away message and auto-assignment. The server
// checks everything; its sentence is shown as it comes.

import { api } from "./inbox_api.js";
import { clear, field, h } from "./inbox_dom.js";

const DAYS = [
  ["mon", "Monday"],
  ["tue", "Tuesday"],
  ["wed", "Wednesday"],
  ["thu", "Thursday"],
  ["fri", "Friday"],
  ["sat", "Saturday"],
  ["sun", "Sunday"],
];
const ASSIGN = [
  ["none", "Nobody (agents pick)"],
  ["round_robin", "Round robin among online agents"],
  ["least_busy", "Least busy online agent"],
];

function zones() {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return [];
  }
}

// `settings`: the agent API's settings; kept up to date with what the server stored.
export function hoursSection(settings) {
  const status = h("p", { class: "save-status", role: "status" });
  const tz = h("input", { id: "set-timezone", type: "text", list: "set-timezones", autocomplete: "off" });
  const tzList = h("datalist", { id: "set-timezones" }, zones().map((name) => h("option", { value: name })));
  const days = new Map();
  const holidayList = h("ul", { class: "holiday-list" });
  const away = h("textarea", { id: "set-away-message", rows: "2" });
  const assign = h("select", { id: "set-auto-assign" }, ASSIGN.map(([value, label]) => h("option", { value }, label)));

  // One row per period: a time <input> can't say 24:00, so a close of 00:00 means midnight.
  const periodRow = (day, label, period) => {
    const list = days.get(day);
    const n = list.children.length + 1;
    const opens = h("input", { type: "time", value: period.open, "aria-label": `${label} opens` });
    const closes = h("input", {
      type: "time",
      value: period.close === "24:00" ? "00:00" : period.close,
      "aria-label": `${label} closes`,
    });
    const row = h("li", { class: "period" }, opens, h("span", { "aria-hidden": "true" }, "–"), closes);
    row.append(
      h("button", { type: "button", class: "ghost", "aria-label": `Remove ${label} period ${n}`, onclick: () => row.remove() }, "Remove"),
    );
    list.append(row);
  };

  const dayEditors = DAYS.map(([day, label]) => {
    days.set(day, h("ul", { class: "period-list" }));
    return h(
      "fieldset",
      { class: "day-hours" },
      h("legend", {}, label),
      days.get(day),
      h("button", { type: "button", class: "secondary", onclick: () => periodRow(day, label, { open: "09:00", close: "17:00" }) }, `Add ${label} hours`),
    );
  });

  const holidayRow = (value) => {
    const input = h("input", { type: "date", value, "aria-label": "Holiday" });
    const row = h("li", {}, input);
    row.append(h("button", { type: "button", class: "ghost", "aria-label": `Remove holiday ${value || ""}`.trim(), onclick: () => row.remove() }, "Remove"));
    holidayList.append(row);
  };

  const fill = () => {
    tz.value = settings.timezone || "UTC";
    for (const [day] of DAYS) clear(days.get(day));
    for (const period of settings.business_hours || []) {
      periodRow(period.day, DAYS.find(([d]) => d === period.day)[1], period);
    }
    clear(holidayList);
    for (const day of settings.holidays || []) holidayRow(day);
    away.value = settings.away_message || "";
    assign.value = settings.auto_assign || "none";
  };

  const read = () => {
    const hours = [];
    for (const [day] of DAYS) {
      for (const row of days.get(day).children) {
        const [opens, closes] = row.querySelectorAll("input");
        hours.push({ day, open: opens.value, close: closes.value === "00:00" ? "24:00" : closes.value });
      }
    }
    const holidays = [...holidayList.querySelectorAll("input")].map((input) => input.value).filter(Boolean);
    return { timezone: tz.value.trim(), business_hours: hours, holidays, away_message: away.value, auto_assign: assign.value };
  };

  const form = h(
    "form",
    { class: "card settings-form hours-form", novalidate: true, "aria-labelledby": "hours-heading" },
    h("h2", { id: "hours-heading" }, "Availability"),
    field("set-timezone", "Time zone", tz, "Hours and holidays are in this zone, e.g. Europe/Berlin."),
    tzList,
    h("p", { class: "muted" }, "Opening hours. No hours at all means always open; a close of 00:00 means midnight."),
    dayEditors,
    h("fieldset", { class: "holidays" }, h("legend", {}, "Holidays (closed all day)"), holidayList,
      h("button", { type: "button", class: "secondary", onclick: () => holidayRow("") }, "Add holiday")),
    field("set-away-message", "Away message", away, "Shown in the widget and sent as the auto-reply while closed."),
    field("set-auto-assign", "Auto-assign", assign, "Who a new conversation goes to."),
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary" }, "Save availability"), status),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.className = "save-status";
    status.textContent = "Saving…";
    try {
      Object.assign(settings, await api("/settings", { method: "PATCH", json: read() }));
      fill();
      status.textContent = "Saved.";
    } catch (error) {
      status.className = "save-status form-error";
      status.textContent = error.message;
    }
  });
  fill();
  return form;
}
