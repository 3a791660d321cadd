/* The widget's look and greeting from GET config, and its away notice (showAway), read
 * again on every open and while the panel stays open. The server puts this file into
 * widget.js where widget.js names it (widget_pages.py), inside its function. */
/* exported applyConfig, refreshConfig, configTimer */
/* global call, panel, config, titleEl, greetingEl, wrap, showAway */

// WCAG relative luminance of a #rrggbb color.
const luminance = (hex) => {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
// Black or white text on the account's color, whichever contrasts more.
const onColor = (hex) => {
  const light = luminance(hex);
  return 1.05 / (light + 0.05) >= (light + 0.05) / 0.05 ? '#ffffff' : '#111111';
};
// Focus rings sit on the white panel: the account's color when it stands out 3:1 there
// (WCAG 1.4.11), else near-black (a yellow ring on white is all but invisible).
const ringColor = (hex) => (1.05 / (luminance(hex) + 0.05) >= 3 ? hex : '#111111');

// Read on every open (widget.js's setOpen) and, while the panel stays open (closing time
// comes, the last agent leaves), again every few minutes and just after the announced opening.
let configTimer = 0;
const refreshConfig = () => call('GET', 'config').then((r) => r.ok && r.data && applyConfig(r.data));
const refreshLater = (c) => {
  clearTimeout(configTimer);
  if (panel.hidden) return;
  const opens = c.open === false ? Date.parse(c.next_open_at) - Date.now() + 1000 : NaN;
  configTimer = setTimeout(refreshConfig, opens > 0 ? Math.min(opens, 300000) : 300000);
};

const applyConfig = (c) => {
  refreshLater(c);
  if (typeof c.title === 'string' && c.title.trim()) config.title = c.title;
  if (typeof c.greeting === 'string') config.greeting = c.greeting;
  if (/^#[0-9a-f]{6}$/i.test(c.color)) config.color = c.color;
  titleEl.textContent = config.title;
  greetingEl.textContent = config.greeting;
  showAway(c);
  wrap.style.setProperty('--accent', config.color);
  wrap.style.setProperty('--on-accent', onColor(config.color));
  wrap.style.setProperty('--ring', ringColor(config.color));
};
