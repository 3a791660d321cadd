// The pages beside the inbox that every agent has (contract section 10): Canned responses
// and Reports, shown in #tools-view and loaded only when first opened.

const root = document.getElementById("tools-view");
const pages = {};

export async function showTool(name) {
  if (!root) return;
  root.hidden = false;
  if (!pages[name]) {
    if (name === "canned") {
      const { CannedPage } = await import("./inbox_canned.js");
      pages[name] = new CannedPage(root);
    } else {
      const { ReportsPage } = await import("./inbox_reports.js");
      pages[name] = new ReportsPage(root);
    }
  }
  await pages[name].load();
  const heading = root.querySelector("h1");
  if (heading) heading.focus();
}

export function hideTools() {
  if (root) root.hidden = true;
}
