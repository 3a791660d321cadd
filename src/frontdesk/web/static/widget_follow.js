/* The conversation log follows the newest message unless the visitor scrolled up to read
 * back: when a message arrives, when the log shrinks (the rating prompt, the away notice)
 * and when it grows after the fact (an image loads). The server puts this file into
 * widget.js where widget.js names it (widget_pages.py), inside its function. */
/* exported scrollDown, keepPinned */
/* global log */

const nearBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 80;
let placedAt = 0; // where scrollDown last put the log
const scrollDown = () => { log.scrollTop = log.scrollHeight; placedAt = log.scrollTop; };
let pinned = true;
log.addEventListener('scroll', () => { pinned = nearBottom(); }, { passive: true });
// A scroll up whose event has not come yet (it comes with the next frame) counts too: a
// reply arriving in between must not pull the visitor back down.
const scrolledBack = () => log.scrollTop < placedAt - 1 && !nearBottom();
const keepPinned = () => {
  if (pinned && scrolledBack()) pinned = false;
  if (pinned) scrollDown();
};
if (window.ResizeObserver) new ResizeObserver(keepPinned).observe(log);
log.addEventListener('load', keepPinned, true); // an image's load doesn't bubble: capture
