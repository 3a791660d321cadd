// The API reference page (/docs): every operation of /openapi.json, grouped by tag, with its
// parameters, request body and answers. Plain DOM, nothing loaded from anywhere else.

const METHODS = ["get", "post", "put", "patch", "delete"];
const root = document.getElementById("reference");

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function resolve(spec, schema) {
  const ref = schema && schema.$ref;
  if (!ref) return schema;
  return ref.split("/").slice(1).reduce((found, key) => (found ? found[key] : undefined), spec);
}

function parameters(list) {
  if (!list || !list.length) return null;
  const rows = list.map((p) =>
    el(
      "tr",
      {},
      el("td", {}, el("code", {}, p.name)),
      el("td", {}, p.in),
      el("td", {}, p.required ? "required" : "optional"),
      el("td", {}, (p.schema && p.schema.type) || ""),
    ),
  );
  const head = el("tr", {}, el("th", {}, "Parameter"), el("th", {}, "In"), el("th", {}, ""), el("th", {}, "Type"));
  return el("table", {}, head, ...rows);
}

function requestBody(spec, body) {
  if (!body || !body.content) return null;
  const [type, media] = Object.entries(body.content)[0];
  const schema = resolve(spec, media.schema);
  return el("div", {}, el("p", {}, "Body (", el("code", {}, type), ")"), el("pre", {}, JSON.stringify(schema, null, 2)));
}

function answers(responses) {
  const codes = Object.entries(responses || {}).map(([code, r]) => `${code} ${r.description || ""}`.trim());
  return codes.length ? el("p", { class: "muted" }, `Answers: ${codes.join("; ")}`) : null;
}

function operation(spec, method, path, op) {
  return el(
    "details",
    {},
    el(
      "summary",
      {},
      el("span", { class: "method" }, method),
      el("span", { class: "path" }, path),
      el("span", { class: "summary" }, op.summary || ""),
    ),
    el(
      "div",
      { class: "body" },
      op.description ? el("p", {}, op.description) : null,
      parameters(op.parameters),
      requestBody(spec, op.requestBody),
      answers(op.responses),
    ),
  );
}

function render(spec) {
  const groups = new Map();
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const method of METHODS) {
      if (!item[method]) continue;
      const tag = (item[method].tags || ["other"])[0];
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag).push(operation(spec, method, path, item[method]));
    }
  }
  const sections = [];
  if (spec.info && spec.info.description) sections.push(el("p", {}, spec.info.description));
  for (const [tag, ops] of groups) sections.push(el("section", {}, el("h2", {}, tag), ...ops));
  root.replaceChildren(...sections);
}

fetch("/openapi.json")
  .then((response) => {
    if (!response.ok) throw new Error(`The schema could not be loaded (${response.status}).`);
    return response.json();
  })
  .then(render)
  .catch((error) => root.replaceChildren(el("p", { role: "alert" }, error.message)));
