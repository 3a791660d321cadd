/* The widget's DOM and text helpers. The server puts this file into widget.js where widget.js
 * names it (widget_pages.py), so a site still loads one script. The inbox has its own
 * (inbox_dom.js, inbox_format.js): sharing a file would cost the widget a second request on
 * every customer's page, or carry the inbox's larger kit in its download. */
/* exported h, icon, CHAT, CLOSE, CLIP, linkify, clock, fileSize */

const h = (tag, attrs, ...children) => {
  const el = /^(svg|path)$/.test(tag)
    ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'text') el.textContent = v;
    else if (v === true) el.setAttribute(k, '');
    else if (v != null && v !== false) el.setAttribute(k, v);
  }
  el.append(...children.filter((c) => c != null && c !== '' && c !== false));
  return el;
};

const icon = (d) => h('svg', { viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false' },
  h('path', { d }));
const CHAT = 'M4 5.5A1.5 1.5 0 0 1 5.5 4h13A1.5 1.5 0 0 1 20 5.5v10a1.5 1.5 0 0 1-1.5 1.5H9l-5 4z';
const CLOSE = 'M6 6l12 12M18 6L6 18';
const CLIP =
  'M21.4 11.1l-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5';

// Only http(s) addresses become links; the link text is the address itself, as text.
const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"']+/g;
const linkify = (text) => {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const href = match[0].replace(/[.,;:!?)\]]+$/, ''); // "see https://x.com/a." ends before "."
    parts.push(text.slice(last, match.index));
    parts.push(h('a', { href, target: '_blank', rel: 'noopener noreferrer nofollow', text: href }));
    last = match.index + href.length;
  }
  parts.push(text.slice(last));
  return parts;
};

const clock = (ts) => {
  // Trimmed to milliseconds: not every engine parses six fractional digits.
  const when = new Date(String(ts).replace(/(\.\d{3})\d+/, '$1'));
  if (isNaN(when)) return '';
  const opts = { hour: '2-digit', minute: '2-digit' };
  const today = when.toDateString() === new Date().toDateString();
  return when.toLocaleString([], today ? opts : { month: 'short', day: 'numeric', ...opts });
};

const fileSize = (n) =>
  n < 1024 ? n + ' B' : n < 1048576 ? Math.round(n / 1024) + ' KB' : (n / 1048576).toFixed(1) + ' MB';
