// The inbox's entry point: routing (#/c/ID, #/settings), live updates, the unread count in
// the title, notifications and keyboard shortcuts. The pieces live in their own modules.

import { api } from "./inbox_api.js";
import { mountAvailability } from "./inbox_availability.js";
import { ConversationView } from "./inbox_conversation.js";
import { mountEmailPreference } from "./inbox_email.js";
import { preview } from "./inbox_format.js";
import { ConversationList } from "./inbox_list.js";
import { Live, Notifier } from "./inbox_live.js";
import { UnreadTracker, needsAttention } from "./inbox_unread.js";
import { showTool, hideTools } from "./inbox_tools.js";

// Who is signed in, as the server rendered it into the page.
const bootElement = document.getElementById("inbox-boot");
const boot = JSON.parse(bootElement ? bootElement.textContent : "{}");
const me = boot.agent || {};
const isAdmin = me.role === "admin";
const baseTitle = document.title;
const inboxView = document.getElementById("inbox-view");
const settingsView = document.getElementById("settings-view");
// Contacts, audit log and Security (inbox_privacy.js, which also shows inbox_security.js's
// password and sessions), loaded when first opened.
const privacyView = document.getElementById("privacy-view");
let privacy = null;
const searchInput = document.getElementById("search");
const liveStatus = document.getElementById("live-status");

let agents = [];
let settings = null;
// Newest message timestamp already known: only later ones may raise a notification.
let highWater = null;
// The history entry below this one is the list (phone layout: Back can simply go back).
let listBelow = false;

const unread = new UnreadTracker(me.id);
const notifier = new Notifier(document.getElementById("notify-button"));
const list = new ConversationList({ unread, onChange: updateTitle });
mountEmailPreference(document.querySelector(".sidebar"));
mountAvailability(document.querySelector(".top-actions"));
const view = new ConversationView({
  agents: () => agents,
  onChanged: (id, message) => {
    if (message) list.applyMessage(id, message);
    else list.refreshSoon();
  },
  onSeen: (id) => markSeen(id),
  onBack: () => {
    if (listBelow) window.history.back();
    else window.location.hash = "#/";
  },
});

function updateTitle() {
  const count = unread.count();
  document.title = count ? `(${count}) ${baseTitle}` : baseTitle;
}

function markSeen(id) {
  if (document.hidden) return;
  if (unread.markSeen(id)) list.render();
}

// Events carry the visitor's own message; a poll may only see the auto-reply after it.
function maybeNotify(conversationId, message, { polled }) {
  if (highWater === null || message.timestamp <= highWater) return;
  highWater = message.timestamp;
  if (polled ? !needsAttention(message) : message.direction !== "inbound" || message.private) return;
  if (!document.hidden && conversationId === view.id) return;
  const conversation = list.get(conversationId);
  const who = conversation ? conversation.contact.name : message.author;
  // An auto-reply stands for the visitor's message it answered: say so, not the bot's words.
  const text = message.direction === "inbound" ? preview(message) : "started a conversation";
  notifier.notify(who, text, `conversation-${conversationId}`, () => {
    window.location.hash = `#/c/${conversationId}`;
  });
}

function onEvent(type, data) {
  if (type === "message.created") {
    const { conversation_id: id, message } = data;
    unread.noteMessage(id, message);
    view.addMessage(message, { scroll: false });
    list.applyMessage(id, message);
    maybeNotify(id, message, { polled: false });
  } else if (type === "typing") {
    view.showTyping(data);
  } else if (data && typeof data.id === "number") {
    list.applyConversation(data);
    view.updateConversation(data);
  }
}

async function poll() {
  await Promise.all([list.refresh(), view.reload()]);
  for (const item of list.items) if (item.last_message) maybeNotify(item.id, item.last_message, { polled: true });
}

function setLiveStatus(mode) {
  liveStatus.textContent = mode === "live" ? "● Live" : "Updating every few seconds";
  liveStatus.className = `live-status ${mode}`;
}

async function loadAgents() {
  try {
    agents = (await api("/agents")).agents;
  } catch {
    agents = [];
  }
}

async function showPrivacy(page) {
  inboxView.hidden = true;
  if (settingsView) settingsView.hidden = true;
  privacyView.hidden = false;
  setCurrentNav(`nav-${page}`);
  if (!privacy) {
    const { PrivacyView } = await import("./inbox_privacy.js");
    privacy = new PrivacyView(privacyView, { me, sessionId: boot.session_id });
  }
  await privacy.show(page);
}

async function showSettings() {
  setPane("settings");
  if (privacyView) privacyView.hidden = true;
  inboxView.hidden = true;
  settingsView.hidden = false;
  setCurrentNav("nav-settings");
  if (!settings) {
    // Fetched only when an admin opens it: agents never load the settings code at all.
    const { SettingsView } = await import("./inbox_settings.js");
    settings = new SettingsView(settingsView, {
      me,
      onAgentsChanged: (team) => {
        agents = team;
        if (view.conversation) view.renderHeader();
      },
    });
  }
  await settings.load();
  const heading = settingsView.querySelector("h1");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
}

// Every page but the inbox lives in its own <main>; one is shown at a time.
function hidePages() {
  if (settingsView) settingsView.hidden = true;
  if (privacyView) privacyView.hidden = true;
  hideTools();
}

function showInbox() {
  hidePages();
  inboxView.hidden = false;
  setCurrentNav("nav-inbox");
}

function setCurrentNav(id) {
  for (const link of document.querySelectorAll(".top-nav a")) {
    if (link.id === id) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

// A phone shows one pane at a time (the breakpoint in inbox.css): the list, or the
// conversation open in it.
const onePane = window.matchMedia("(max-width: 720px)");

function setPane(pane) {
  listBelow = pane === "conversation" && inboxView.dataset.pane === "list";
  inboxView.dataset.pane = pane;
}

// Set once a route has been shown: start() routes only if no click did while it loaded.
let routed = false;

function route() {
  routed = true;
  const hash = window.location.hash;
  if (hash === "#/settings" && isAdmin && settingsView) {
    hideTools();
    showSettings();
    return;
  }
  if (hash === "#/canned" || hash === "#/reports") {
    // Canned responses and Reports (inbox_tools.js): pages beside the inbox, any agent.
    if (settingsView) settingsView.hidden = true;
    if (privacyView) privacyView.hidden = true;
    inboxView.hidden = true;
    setPane("tools");
    setCurrentNav(hash === "#/canned" ? "nav-canned" : "nav-reports");
    showTool(hash.slice(2));
    return;
  }
  const page = /^#\/(contacts|audit|security)$/.exec(hash);
  if (page && privacyView && (page[1] !== "audit" || isAdmin)) {
    hideTools();
    showPrivacy(page[1]);
    return;
  }
  showInbox();
  const match = /^#\/c\/(\d+)$/.exec(hash);
  if (match) {
    const id = Number(match[1]);
    setPane("conversation");
    list.setOpen(id);
    view.open(id).then(() => {
      const heading = view.header && view.header.querySelector("h2");
      // The tapped link is hidden now: focus where the reading starts, not back at the top.
      if (view.id === id && heading && onePane.matches) heading.focus({ preventScroll: true });
    });
  } else {
    const left = view.id;
    setPane("list");
    list.setOpen(null);
    view.showEmpty();
    if (left !== null && onePane.matches) list.focusItem(left);
  }
}

// Was the user typing? Single-key shortcuts must never steal letters from a text field.
function isTyping(target) {
  if (!(target instanceof Element)) return false;
  return Boolean(target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']"));
}

function openRelative(delta) {
  const id = list.neighbour(delta);
  if (id === null) return;
  window.location.hash = `#/c/${id}`;
  list.focusItem(id);
}

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "Escape" && isTyping(event.target)) {
    // Out of the reply box or search, back to the list, still without a mouse.
    if (event.target.id === "reply" || event.target.id === "search") {
      event.target.blur();
      list.focusItem(view.id);
    }
    return;
  }
  if (isTyping(event.target) || inboxView.hidden) return;
  if (document.querySelector("dialog[open]")) return;
  if (event.key === "j") {
    event.preventDefault();
    openRelative(1);
  } else if (event.key === "k") {
    event.preventDefault();
    openRelative(-1);
  } else if (event.key === "r" && view.composer) {
    event.preventDefault();
    view.focusReply();
  } else if (event.key === "/") {
    event.preventDefault();
    searchInput.focus();
    searchInput.select();
  }
});

document.addEventListener("visibilitychange", () => {
  if (!document.hidden && view.id !== null) markSeen(view.id);
});

window.addEventListener("hashchange", route);

// Keep the app exactly as tall as what the screen shows, so the reply box sits right above
// an on-screen keyboard. Where the browser resizes the page for the keyboard (Android, with
// interactive-widget in the viewport meta) this changes nothing; iOS Safari only shrinks the
// visual viewport, and without this the composer would hide behind the keyboard.
function fitVisualViewport() {
  const viewport = window.visualViewport;
  if (!viewport) return; // the CSS's 100dvh alone
  const fit = () => {
    // Times the scale: pinch-zooming shrinks the visual viewport but must not shrink the app.
    const height = Math.round(viewport.height * viewport.scale);
    document.documentElement.style.setProperty("--visual-height", `${height}px`);
    document.body.classList.add("fit-visual-viewport");
    // iOS scrolls the page up to show a focused field; the app already fits: undo that.
    if (viewport.scale === 1 && window.scrollY !== 0) window.scrollTo(0, 0);
  };
  viewport.addEventListener("resize", fit);
  fit();
}

async function start() {
  fitVisualViewport();
  await Promise.all([loadAgents(), list.refresh()]);
  highWater = "";
  for (const item of list.items) {
    const stamp = item.last_message ? item.last_message.timestamp : "";
    if (stamp > highWater) highWater = stamp;
  }
  // A link clicked while the list loaded has routed already; routing again would render
  // that page a second time, over whatever was typed into it meanwhile.
  if (!routed) route();
  setLiveStatus("polling");
  new Live({ onEvent, onPoll: poll, onStatus: setLiveStatus }).start();
}

start();
