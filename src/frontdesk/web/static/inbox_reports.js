// The Reports page (contract section 10): each figure beside its name, a chart of
// conversations and first-response time per day (hand-drawn SVG), and the team's replies.

import { api, query } from "./inbox_api.js";
import { clear, field, h } from "./inbox_dom.js";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) element.setAttribute(key, String(value));
  for (const child of children.flat()) if (child) element.append(child);
  return element;
}

// 42 s, 3 min 5 s, 2 h 10 min, 1 d 4 h; "–" when there is nothing to measure.
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ""}`;
  if (s < 86400) return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ""}`;
  return `${Math.floor(s / 86400)} d${Math.floor((s % 86400) / 3600) ? ` ${Math.floor((s % 86400) / 3600)} h` : ""}`;
}

function figures(report) {
  const csat = report.csat.average === null ? "–" : `${report.csat.average.toFixed(1)} of 5`;
  const items = [
    ["Conversations", report.conversations],
    ["Closed", report.closed],
    ["Messages received", report.messages.inbound],
    ["Messages sent", report.messages.outbound],
    ["First response, median", duration(report.first_response_seconds.median)],
    ["First response, 90th percentile", duration(report.first_response_seconds.p90)],
    ["Resolution, median", duration(report.resolution_seconds.median)],
    ["Resolution, 90th percentile", duration(report.resolution_seconds.p90)],
    ["Satisfaction", csat],
    ["Ratings", report.csat.responses],
  ];
  return h(
    "dl",
    { class: "report-figures" },
    items.map(([name, value]) => h("div", { class: "figure" }, h("dt", {}, name), h("dd", {}, String(value)))),
  );
}

// Bars: conversations per day (left scale); line and dots: first-response median (right).
// A viewBox scales it to any width; on a phone it keeps its shape, only smaller.
function chart(days, available) {
  // As wide as the card, in px: text keeps its size on a phone and bars their room.
  const width = Math.round(Math.max(320, Math.min(960, available || 640)));
  const height = 220;
  const pad = { left: 34, right: 46, top: 12, bottom: 28 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const maxCount = Math.max(1, ...days.map((d) => d.conversations));
  const times = days.map((d) => d.first_response_median_seconds).filter((v) => v !== null);
  const maxTime = Math.max(60, ...times);
  const step = plotW / days.length;
  const x = (i) => pad.left + step * i + step / 2;
  const yCount = (v) => pad.top + plotH - (v / maxCount) * plotH;
  const yTime = (v) => pad.top + plotH - (v / maxTime) * plotH;
  const bars = days.map((d, i) =>
    svg(
      "rect",
      { class: "bar", x: x(i) - Math.max(1, step * 0.35), y: yCount(d.conversations), width: Math.max(2, step * 0.7), height: pad.top + plotH - yCount(d.conversations) },
      svg("title", {}, document.createTextNode(`${d.date}: ${d.conversations} conversations`)),
    ),
  );
  const points = days
    .map((d, i) => (d.first_response_median_seconds === null ? null : [x(i), yTime(d.first_response_median_seconds), d]))
    .filter(Boolean);
  const line = points.length > 1 ? svg("polyline", { class: "line", points: points.map(([px, py]) => `${px},${py}`).join(" ") }) : null;
  const dots = points.map(([px, py, d]) =>
    svg("circle", { class: "dot", cx: px, cy: py, r: 3 }, svg("title", {}, document.createTextNode(`${d.date}: first response ${duration(d.first_response_median_seconds)}`))),
  );
  const label = (text, attrs) => svg("text", attrs, document.createTextNode(text));
  // A date every ~70 px; the last day too, unless it would sit on the one before.
  const everyNth = Math.ceil(days.length / Math.max(2, Math.floor(plotW / 70)));
  const last = days.length - 1;
  const labelled = (i) => i % everyNth === 0 || (i === last && last % everyNth >= everyNth / 2);
  const ticks = days
    .map((d, i) => (labelled(i) ? label(d.date.slice(5), { x: x(i), y: height - 8, class: "tick", "text-anchor": "middle" }) : null))
    .filter(Boolean);
  return svg(
    "svg",
    { class: "report-chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": "chart-title" },
    svg("title", { id: "chart-title" }, document.createTextNode("Conversations and first-response time per day")),
    svg("line", { class: "axis", x1: pad.left, y1: pad.top + plotH, x2: width - pad.right, y2: pad.top + plotH }),
    label(String(maxCount), { x: pad.left - 6, y: pad.top + 10, class: "tick count", "text-anchor": "end" }),
    label("0", { x: pad.left - 6, y: pad.top + plotH, class: "tick count", "text-anchor": "end" }),
    label(duration(maxTime), { x: width - pad.right + 6, y: pad.top + 10, class: "tick time" }),
    bars,
    line,
    dots,
    ticks,
  );
}

function legend() {
  return h(
    "p",
    { class: "chart-legend" },
    h("span", { class: "key bar-key", "aria-hidden": "true" }),
    " Conversations  ",
    h("span", { class: "key line-key", "aria-hidden": "true" }),
    " First response, median",
  );
}

function agentsTable(report) {
  return h(
    "table",
    { class: "report-agents" },
    h("caption", {}, "By agent"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Agent"), h("th", { scope: "col" }, "Replies"), h("th", { scope: "col" }, "First response, median"))),
    h(
      "tbody",
      {},
      report.by_agent.map((row) =>
        h("tr", {}, h("th", { scope: "row" }, row.agent.name), h("td", {}, String(row.replies)), h("td", {}, duration(row.first_response_median_seconds))),
      ),
    ),
  );
}

export class ReportsPage {
  constructor(root) {
    this.root = root;
    this.range = {};
  }

  async load() {
    clear(this.root, h("h1", { class: "settings-title", tabindex: "-1" }, "Reports"), h("p", { class: "muted" }, "Loading…"));
    let report;
    try {
      report = await api(`/reports${query(this.range)}`);
    } catch (error) {
      clear(this.root, h("h1", { class: "settings-title", tabindex: "-1" }, "Reports"), h("p", { class: "form-error", role: "alert" }, error.message));
      return;
    }
    const from = h("input", { id: "report-from", type: "date", value: report.from });
    const to = h("input", { id: "report-to", type: "date", value: report.to });
    const form = h(
      "form",
      { class: "report-range" },
      field("report-from", "From", from),
      field("report-to", "To", to),
      h("button", { type: "submit", class: "secondary" }, "Show"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.range = { from: from.value, to: to.value };
      this.load();
    });
    clear(
      this.root,
      h("h1", { class: "settings-title", tabindex: "-1" }, "Reports"),
      form,
      h("section", { class: "card", "aria-label": "Figures" }, figures(report)),
      h("section", { class: "card", "aria-labelledby": "chart-heading" }, h("h2", { id: "chart-heading" }, "Per day"), chart(report.by_day, this.root.clientWidth - 80), legend()),
      h("section", { class: "card" }, agentsTable(report)),
    );
  }
}
