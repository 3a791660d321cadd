/* The host page while the open widget covers a phone's screen. The server puts this file into
 * widget.js where widget.js names it (widget_pages.py), so a site still loads one script; it is
 * kept apart because it is the one part that changes the host's own page.
 *
 * A phone lays a page without <meta name=viewport> out 980 px wide, shown at ~40%. While the
 * chat is open on a phone (known by its screen: the layout says 980) the page gets device width
 * and stops scrolling; closing puts back each attribute changed, exactly, and the scroll. */
/* exported hostPage */
const hostPage = {
  taken: null, // {x, y, ours: a viewport tag we added, undo: [[element, attribute, old value]]}

  takeOver() {
    const meta = [...document.querySelectorAll('meta[name="viewport" i]')].pop();
    let ours = null;
    if (!meta) {
      ours = document.head.appendChild(document.createElement('meta'));
      ours.setAttribute('name', 'viewport');
      ours.setAttribute('content', '');
    }
    const lock = (el, css = '') =>
      [el, 'style', (el.getAttribute('style') || '') + ';overflow:hidden!important' + css];
    // A transform or zoom on <html> would move or scale the panel: off while the panel covers all.
    const changes = [lock(document.documentElement, ';transform:none!important;zoom:1!important')];
    if (document.body) changes.push(lock(document.body));
    const tag = meta || ours;
    const device = 'width=device-width, initial-scale=1, maximum-scale=1';
    if (!/width\s*=\s*device-width/i.test(tag.content)) changes.push([tag, 'content', device]);
    const undo = changes.map(([el, k]) => [el, k, el.getAttribute(k)]);
    this.taken = { x: scrollX, y: scrollY, ours, undo };
    for (const [el, name, value] of changes) el.setAttribute(name, value);
  },

  giveBack() {
    const { x, y, ours, undo } = this.taken;
    for (const [el, k, old] of undo) old == null ? el.removeAttribute(k) : el.setAttribute(k, old);
    if (ours) ours.remove(); // blanked first: Chromium keeps a removed tag's width
    scrollTo(x, y);
    this.taken = null;
  },
};
