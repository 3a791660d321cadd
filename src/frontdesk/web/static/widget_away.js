/* The away notice (contract section 7): when the team is closed or nobody is online, the
 * account's away message and, when closed, when it opens again, in the visitor's own
 * language and time zone. The form and composer still take messages. The server puts this
 * file into widget.js where widget.js names it (widget_pages.py), inside its function. */
/* exported awayNote, showAway */
/* global h */

const awayNote = h('p', { class: 'away', role: 'status', hidden: true });
const showAway = (c) => {
  const at = c.open === false && c.next_open_at ? new Date(c.next_open_at) : null;
  const parts = [];
  if (c.open === false || c.agents_online === false) {
    if (typeof c.away_message === 'string') parts.push(c.away_message);
    if (at && !isNaN(at)) {
      parts.push('We\'re back ' + new Intl.DateTimeFormat(undefined, { weekday: 'long',
        month: 'long', day: 'numeric', hour: 'numeric', minute: '2-digit',
        timeZoneName: 'short' }).format(at) + '.');
    }
  }
  awayNote.textContent = parts.join(' ');
  awayNote.hidden = !parts.length;
};
