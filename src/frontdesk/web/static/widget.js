/* Frontdesk chat widget. A site embeds it with one line:
 *   <script src="https://chat.example.com/widget.js" data-site-key="KEY" async></script>
 * Plain ES2020, no dependencies, no build step: the server only puts its parts (widget_*.js,
 * where a line names them) and widget.css (as the string CSS) in (widget_pages.py). An open
 * shadow root keeps the host page's CSS out and ours in. Network text is only ever set as text (textContent, attributes), never parsed as
 * HTML. The file stays ASCII so it reads the same whatever charset the host page declares. */
(() => {
  'use strict';

  const script =
    document.currentScript || document.querySelector('script[data-site-key][src*="widget"]');
  const siteKey = script && script.getAttribute('data-site-key');
  if (!siteKey) return;
  // A page that includes the snippet twice still gets one launcher.
  const mounted = (window.__frontdeskWidgets = window.__frontdeskWidgets || {});
  if (mounted[siteKey]) return;
  mounted[siteKey] = true;

  // The server is wherever this script came from (also when it lives below a path prefix).
  const base = new URL('.', script.src);
  const api = new URL('api/v1/chat/', base);
  const serverUrl = (path) => new URL(String(path).replace(/^\/+/, ''), base);

  /* ---------- what this visitor keeps between pages: localStorage, per site key ---------- */
  const storeKey = 'frontdesk:' + siteKey;
  let memory = {}; // storage can be disabled (private modes, strict settings): keep it in memory
  const load = () => {
    try { return JSON.parse(localStorage.getItem(storeKey) || '{}') || {}; } catch { return memory; }
  };
  const save = () => {
    try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch { memory = state; }
  };
  // token: the visitor_token; started: the server has the conversation; name; read: newest seen.
  let state = load();

  // 128 random bits, base64url: the visitor_token and every Idempotency-Key.
  const randomId = () => {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };

  /* ---------- talking to the server ---------- */
  const OFFLINE = "We couldn't reach the chat service. Check your connection and try again.";
  const FAILED = 'Something went wrong. Please try again.';

  // Resolves to {status, ok, data, error, retryAfter, state}; never throws, so callers just branch.
  const call = async (method, path, body, headers) => {
    const init = { method, credentials: 'omit', headers: { 'X-Api-Key': siteKey, ...headers } };
    if (body instanceof FormData) init.body = body;
    else if (body) {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
    let res, data = null;
    try { res = await fetch(new URL(path, api), init); } catch {
      return { status: 0, ok: false, data, error: OFFLINE, retryAfter: 0 };
    }
    try { data = await res.json(); } catch { /* a proxy's HTML page: the status still tells */ }
    const error = res.ok ? null : data && typeof data.error === 'string' ? data.error : FAILED;
    const retryAfter = parseInt(res.headers.get('Retry-After'), 10) || 0;
    // state: open|closed, on reads of messages (X-Conversation-Status).
    return { status: res.status, ok: res.ok, data, error, retryAfter, state: res.headers.get('X-Conversation-Status') };
  };

  const plural = (n, word) => n + ' ' + word + (n === 1 ? '' : 's');
  // What a visitor reads when a request fails: the API's own sentence, or a calm wait.
  const errorText = (r) => r.status !== 429 ? r.error
    : 'Please wait a moment: try again in ' + plural(Math.max(r.retryAfter, 1), 'second') + '.';
  const conversationPath = (tail) => 'conversations/' + encodeURIComponent(state.token) + '/' + tail;

  /* ---------- building DOM, text only ---------- */
  // h, icon and its paths, linkify, clock, fileSize: widget_dom.js, which the server puts in.
  /* global h, icon, CHAT, CLOSE, CLIP, linkify, clock, fileSize */
  /* @include widget_dom.js */

  const IMAGE = /^image\/(png|jpeg|gif|webp)$/i;
  // <img> and <a> can't send X-Api-Key, so file links carry the site key as a query parameter.
  const attachment = (a) => {
    const url = serverUrl(a.url);
    if (!/^https?:$/.test(url.protocol)) return null;
    url.searchParams.set('site_key', siteKey);
    const name = String(a.filename || 'file');
    if (IMAGE.test(a.content_type)) {
      url.searchParams.set('disposition', 'inline');
      const img = h('img', { src: url, alt: name, loading: 'lazy' });
      return h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', class: 'thumb' }, img);
    }
    const label = name + (a.size != null ? ' (' + fileSize(a.size) + ')' : '');
    return h('a', { href: url, rel: 'noopener noreferrer', class: 'file', text: label });
  };

  const renderMessage = (m) => {
    const mine = m.direction === 'inbound';
    const files = (m.attachments || []).map(attachment).filter(Boolean);
    const author = m.author || (mine ? state.name || 'You' : config.title);
    const time = m.timestamp && h('time', { datetime: m.timestamp, text: clock(m.timestamp) });
    return h('div', { class: 'msg ' + (mine ? 'in' : 'out') },
      h('div', { class: 'meta' }, h('span', { class: 'who', text: author }), time),
      (m.body || !files.length) && h('div', { class: 'bubble' }, ...linkify(String(m.body || ''))),
      files.length > 0 && h('div', { class: 'files' }, ...files),
      h('div', { class: 'status' }));
  };

  /* ---------- the widget's parts ---------- */
  const config = { title: 'Chat', greeting: '', color: '#2563eb' };
  let open = false;

  const host = document.createElement('frontdesk-chat');
  const root = host.attachShadow({ mode: 'open' });
  const wrap = h('div', { class: 'w' });
  const badge = h('span', { class: 'badge', 'aria-hidden': 'true', hidden: true });
  const unreadText = h('span', { id: 'fd-unread', class: 'sr' });
  const launcher = h('button', { class: 'launcher', type: 'button', 'aria-label': 'Open chat',
    'aria-describedby': 'fd-unread' }, icon(CHAT), badge);
  const titleEl = h('h2', { id: 'fd-title' });
  const greetingEl = h('p', { class: 'greeting' });
  const closeBtn = h('button', { class: 'close', type: 'button', 'aria-label': 'Close chat' }, icon(CLOSE));
  const body = h('div', { class: 'body' });
  const panel = h('section', { class: 'panel', role: 'dialog', 'aria-labelledby': 'fd-title', hidden: true },
    h('header', null, h('div', null, titleEl, greetingEl), closeBtn), body);
  wrap.append(launcher, unreadText, panel);

  // Pre-chat form. novalidate: the API's sentences are the only validation a visitor sees.
  const field = (label, control) => h('label', null, h('span', { text: label }), control);
  const nameIn = h('input', { name: 'name', autocomplete: 'name' });
  const emailIn = h('input', { name: 'email', type: 'email', autocomplete: 'email' });
  const firstIn = h('textarea', { name: 'message', rows: '4' });
  const formError = h('p', { class: 'error', role: 'alert' });
  const startBtn = h('button', { class: 'primary', type: 'submit', text: 'Start chat' });
  const form = h('form', { class: 'form', novalidate: true }, field('Name', nameIn),
    field('Email', emailIn), field('Message', firstIn), formError, startBtn);
  // A signed-in visitor (data-user-*): userId, who (sent on create), resume(): widget_identity.js.
  /* global userId, who, resume */
  /* @include widget_identity.js */
  // The conversation.
  const log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Conversation',
    tabindex: '0' });
  const input = h('textarea', { 'aria-label': 'Message', rows: '1', placeholder: 'Write a message' });
  const fileIn = h('input', { type: 'file', hidden: true, tabindex: '-1' });
  const attachBtn = h('button', { class: 'icon', type: 'button', 'aria-label': 'Attach file',
    title: 'Attach file' }, icon(CLIP));
  const sendBtn = h('button', { class: 'primary', type: 'submit', text: 'Send' });
  const composer = h('form', { class: 'composer', novalidate: true }, attachBtn, input, fileIn, sendBtn);

  // awayNote, showAway(config): the away notice, widget_away.js, which the server puts in here.
  /* global awayNote */
  /* @include widget_away.js */

  // transcriptBar, "Email transcript": widget_email.js, which the server puts in here.
  /* global transcriptBar */
  /* @include widget_email.js */
  // typingNote, rateBox, listen(stream), askRating(status): widget_rating.js, put in here.
  /* global typingNote, rateBox, listen, askRating */
  /* @include widget_rating.js */

  // Only one of the two forms is in the DOM at a time, so each label names exactly one field.
  const show = (chatting) => {
    panel.classList.toggle('chatting', chatting);
    body.replaceChildren(
      awayNote,
      ...(chatting ? [log, typingNote, rateBox, transcriptBar, composer] : [form]),
    );
  };

  /* ---------- phones: the open chat fills the screen at device scale ---------- */
  // hostPage.takeOver() and .giveBack(): widget_host.js, which the server puts in here.
  /* global hostPage */
  /* @include widget_host.js */
  const vv = window.visualViewport;

  // Full screen (a phone, a narrow window) is sized to the visual viewport, which an on-screen
  // keyboard shrinks and pans; on a page shown zoomed out, the launcher keeps its real size.
  const fit = () => {
    wrap.classList.toggle('full', open && (hostPage.taken || innerWidth <= 480));
    if (!vv) return;
    const sizes = { x: vv.offsetLeft, y: vv.offsetTop, w: vv.width, h: vv.height };
    for (const [k, v] of Object.entries(sizes)) wrap.style.setProperty('--vv-' + k, v + 'px');
    wrap.style.setProperty('--zoom', Math.max(1, 1 / vv.scale));
  };
  for (const type of ['resize', 'scroll']) (vv || window).addEventListener(type, fit);

  const setOpen = (value) => {
    open = value;
    const phone = Math.min(screen.width, screen.height) <= 600 && matchMedia('(pointer: coarse)').matches;
    if (open && !hostPage.taken && phone) hostPage.takeOver();
    if (!open && hostPage.taken) hostPage.giveBack();
    panel.hidden = !open;
    launcher.hidden = open;
    fit();
    if (!open) {
      clearTimeout(configTimer);
      return launcher.focus({ preventScroll: true });
    }
    // Whether the team is in changes while a page stays open: ask again on every open.
    refreshConfig();
    markRead();
    scrollDown();
    (body.contains(form) ? form.querySelector('input,textarea') : input).focus();
    schedule(0);
  };
  launcher.addEventListener('click', () => setOpen(true));
  closeBtn.addEventListener('click', () => setOpen(false));
  panel.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    e.stopPropagation();
    setOpen(false);
  });

  /* ---------- messages: each shown once, in timestamp order ---------- */
  const seen = new Map(); // message id -> element, whichever path (stream, poll) brought it
  const sent = new Map(); // id we posted -> its optimistic element, until the stored copy arrives
  let newest = ''; // timestamp of the newest stored message shown: `since` for the next poll
  let unread = 0;

  const visible = () => open && !document.hidden;
  // scrollDown(), keepPinned(): the log follows the newest message, widget_follow.js.
  /* global scrollDown, keepPinned */
  /* @include widget_follow.js */

  // Stored messages sort by timestamp; optimistic ones not stored yet stay at the end.
  const place = (el, ts) => {
    el.dataset.ts = ts;
    log.insertBefore(el, [...log.children].find((c) => !c.dataset.ts || c.dataset.ts > ts) || null);
  };

  const updateBadge = () => {
    badge.hidden = unread === 0;
    badge.textContent = unread > 9 ? '9+' : String(unread);
    unreadText.textContent = unread ? plural(unread, 'unread message') : '';
  };
  const markRead = () => {
    unread = 0;
    updateBadge();
    if (newest <= (state.read || '')) return;
    state.read = newest;
    save();
  };

  // A send whose stored copy arrives (stream, poll) before its own answer, or after an answer
  // that was lost: the same text or file, inbound. The stored copy takes its place, never
  // beside it.
  const pending = new Set();
  const adopt = (m) => {
    const name = m.attachments && m.attachments[0] && m.attachments[0].filename;
    for (const item of pending) {
      if (item.file ? item.file.name !== name : item.text !== m.body) continue;
      pending.delete(item);
      item.el.remove();
      item.adopted = true;
      return;
    }
  };

  const receive = (messages) => {
    for (const m of messages) {
      const id = m && (m.id != null ? m.id : m.timestamp);
      if (id == null || seen.has(id)) continue;
      if (sent.has(id)) sent.get(id).remove();
      else if (m.direction === 'inbound') adopt(m);
      sent.delete(id);
      const el = renderMessage(m);
      seen.set(id, el);
      place(el, String(m.timestamp));
      if (m.timestamp > newest) newest = m.timestamp;
      if (m.direction === 'outbound' && m.timestamp > (state.read || '')) unread += 1;
    }
    if (visible()) markRead();
    else updateBadge();
    keepPinned(); // at the newest message still, unless the visitor is reading back
  };

  const setStatus = (item, phase, text) => {
    item.el.className = 'msg in ' + phase;
    const retry = phase === 'failed' && h('button', { type: 'button', text: 'Retry' });
    if (retry) retry.addEventListener('click', () => post(item));
    item.el.querySelector('.status').replaceChildren(...[text, retry].filter(Boolean));
  };

  // Optimistic send: shown at once, marked failed with a retry on error. The Idempotency-Key
  // is made once per message and reused by every retry, so a retry after a lost answer
  // never stores the message twice.
  const post = async (item) => {
    if (!item.el) {
      item.el = renderMessage({ direction: 'inbound', body: item.file ? item.file.name : item.text });
      log.append(item.el);
      scrollDown();
    }
    setStatus(item, 'pending', 'Sending\u2026');
    const headers = { 'Idempotency-Key': item.key };
    const data = item.file ? new FormData() : { message: item.text };
    if (item.file) data.append('file', item.file);
    pending.add(item); // until it is answered, or its stored copy arrives (also after a failure)
    const r = await call('POST', conversationPath(item.file ? 'files' : 'messages'), data, headers);
    if (item.adopted) return schedule(0); // stored, and already shown as such
    if (r.status === 201 && r.data && r.data.id != null) {
      pending.delete(item);
      setStatus(item, 'sent', '');
      if (seen.has(r.data.id)) item.el.remove(); // the stored copy got here first
      else {
        sent.set(r.data.id, item.el);
        place(item.el, String(r.data.timestamp || ''));
      }
      return schedule(0);
    }
    let reason = errorText(r);
    if (item.file && (r.status === 404 || r.status === 405) && reason !== 'Conversation not found') {
      reason = "Sending files isn't available on this chat yet.";
    } else if (item.file && r.status === 413) reason = 'This file is too large to send.';
    setStatus(item, 'failed', 'Not sent: ' + reason + ' ');
  };

  const send = () => {
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    grow();
    post({ key: randomId(), text });
  };

  const grow = () => {
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight + 2, 120) + 'px';
  };
  input.addEventListener('input', grow);
  // Enter sends; Shift+Enter (and Enter while an input method is composing) breaks the line.
  input.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.shiftKey || e.isComposing) return;
    e.preventDefault();
    send();
  });
  composer.addEventListener('submit', (e) => {
    e.preventDefault();
    send();
    input.focus();
  });
  attachBtn.addEventListener('click', () => fileIn.click());
  fileIn.addEventListener('change', () => {
    const file = fileIn.files && fileIn.files[0];
    fileIn.value = '';
    if (file) post({ key: randomId(), file });
  });

  /* ---------- starting a conversation ---------- */
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (startBtn.disabled) return;
    startBtn.disabled = true;
    formError.textContent = '';
    // Kept before sending: if the answer is lost, the next try gets 409 and simply opens it.
    state.token = state.token || randomId();
    if (userId) state.user = userId; // whose it is: another user on this browser starts over
    save();
    const r = await call('POST', 'conversations', {
      name: nameIn.value, email: emailIn.value, message: firstIn.value, visitor_token: state.token, ...who,
    });
    startBtn.disabled = false;
    if (r.status !== 201 && r.status !== 409) {
      formError.textContent = errorText(r); // and the fields keep what was typed
      return;
    }
    Object.assign(state, { started: true, name: nameIn.value.trim() });
    save();
    show(true);
    input.focus();
    poll();
  });

  // The server no longer knows this conversation: start over with a fresh form.
  const forget = () => {
    state = {};
    save();
    if (stream) stream.close();
    [stream, streamLive, newest] = [null, false, ''];
    seen.clear();
    sent.clear();
    log.replaceChildren();
    show(false);
  };

  /* ---------- live updates: the event stream when offered, else polling ---------- */
  let timer = 0, failures = 0, polling = false, stream = null;
  let streamLive = false; // connected: polling rests
  let streamFailed = false; // this server offers no stream: poll for the rest of this page

  // Every 3 s while the page is visible, 30 s while hidden; after errors, doubling up to a minute.
  const schedule = (delay) => {
    clearTimeout(timer);
    if (!state.started || streamLive) return;
    const every = document.hidden ? 30000 : 3000;
    const wait = failures ? Math.min(every * 2 ** failures, 60000) : every;
    timer = setTimeout(poll, delay != null ? delay : wait);
  };

  const poll = async () => {
    if (polling || !state.started) return;
    polling = true;
    clearTimeout(timer);
    const since = newest ? '?since=' + encodeURIComponent(newest) : '';
    const r = await call('GET', conversationPath('messages' + since));
    polling = false;
    if (r.ok && Array.isArray(r.data)) {
      failures = 0;
      receive(r.data);
      if (r.state) askRating(r.state); // closed while polling, or before this page loaded
      connectStream();
      schedule();
    } else if (r.status === 404 && r.error === 'Conversation not found') forget();
    else if (r.status === 429) schedule(Math.max(r.retryAfter, 1) * 1000);
    else {
      failures = Math.min(failures + 1, 5);
      schedule();
    }
  };

  const connectStream = () => {
    if (stream || streamFailed || !window.EventSource) return;
    const url = new URL(conversationPath('events'), api);
    url.searchParams.set('site_key', siteKey); // EventSource can't send headers
    // Resume after what we have, so nothing between the last poll and this stream is lost.
    if (newest) url.searchParams.set('last_event_id', newest);
    let opened = false;
    const source = (stream = new EventSource(url));
    source.onopen = () => {
      opened = streamLive = true;
      failures = 0;
      clearTimeout(timer);
    };
    source.onmessage = (e) => {
      try { receive([JSON.parse(e.data)]); } catch { /* skipped: polling would bring it */ }
    };
    listen(source);
    source.onerror = () => {
      streamLive = false;
      // Otherwise the browser reconnects by itself (sending Last-Event-ID); polls meanwhile.
      if (!opened || source.readyState === EventSource.CLOSED) {
        // Never connected (no stream on this server), or given up: poll. A stream that
        // did work gets another try after a while.
        source.close();
        if (stream === source) stream = null;
        if (!opened) streamFailed = true;
        else setTimeout(connectStream, 30000);
      }
      schedule(0);
    };
  };

  document.addEventListener('visibilitychange', () => {
    if (visible()) markRead();
    schedule(document.hidden ? null : 0);
  });

  /* ---------- start ---------- */
  // applyConfig, refreshConfig, configTimer: widget_config.js, which the server puts in here.
  /* global applyConfig, refreshConfig, configTimer */
  /* @include widget_config.js */

  const mount = () => {
    // A constructed sheet is not an inline <style>, so a strict host CSP doesn't block it.
    const sheet = window.CSSStyleSheet && 'adoptedStyleSheets' in root && new CSSStyleSheet();
    if (sheet && sheet.replaceSync) {
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else root.append(h('style', { text: CSS }));
    root.append(wrap);
    fit();
    // On <html>, not <body>: a transformed or zoomed body would carry a fixed element with it.
    document.documentElement.append(host);
  };

  const start = async () => {
    const [r] = await Promise.all([call('GET', 'config'), resume()]); // both before showing
    if (r.status === 401 || r.status === 403) {
      return console.warn('Frontdesk chat: ' + r.error + ' (check data-site-key and allowed origins)');
    }
    applyConfig(r.ok && r.data ? r.data : {});
    if (document.readyState === 'loading') {
      await new Promise((done) => document.addEventListener('DOMContentLoaded', done, { once: true }));
    }
    mount();
    show(Boolean(state.started));
    poll();
  };

  /* ---------- styles: widget.css, which the server puts in here ---------- */
  const CSS = __FRONTDESK_WIDGET_CSS__;

  start();
})();
