/* Typing both ways and the rating after a close (contract section 10). The server puts this
 * file into widget.js where widget.js names it (widget_pages.py), inside its function. */
/* exported typingNote, rateBox, listen, askRating */
/* global h, call, conversationPath, errorText, input, state, save */

// "<name> is typing..." for 5 s after each event; the visitor's own typing is sent at most
// once every 3 s (the server's `typing` limit is 60 a minute).
const typingNote = h('p', { class: 'typing', role: 'status' });
let typingTimer = 0, typedAt = 0;
input.addEventListener('input', () => {
  if (!state.started || Date.now() - typedAt < 3000) return;
  typedAt = Date.now();
  call('POST', conversationPath('typing'));
});

const rateNote = h('p', { class: 'note', role: 'status' });
const comment = h('textarea', { 'aria-label': 'Comment (optional)', rows: '2' });
const commentBtn = h('button', { class: 'link', type: 'button', text: 'Send comment' });
const commentBox = h('div', { class: 'rate-comment', hidden: true }, comment, commentBtn);
let score = 0;
const rate = async (value, withComment) => {
  const r = await call('POST', conversationPath('rating'),
    withComment ? { score: value, comment: comment.value } : { score: value });
  rateNote.textContent = r.ok ? 'Thank you!' : errorText(r);
  if (!r.ok) return;
  score = value;
  state.rated = state.token;
  save();
  for (const b of stars) {
    b.setAttribute('aria-pressed', String(Number(b.value) === value));
    b.classList.toggle('on', Number(b.value) <= value); // filled up to the score given
  }
  commentBox.hidden = withComment;
};
const stars = [1, 2, 3, 4, 5].map((n) => {
  const b = h('button', { type: 'button', class: 'star', value: n, 'aria-label': 'Rate ' + n + ' of 5',
    'aria-pressed': 'false', text: '\u2605' });
  b.addEventListener('click', () => rate(n, false));
  return b;
});
commentBtn.addEventListener('click', () => rate(score, true));
const rateBox = h('div', { class: 'rate', role: 'group', 'aria-labelledby': 'fd-rate', hidden: true },
  h('p', { id: 'fd-rate', text: 'How was your conversation?' }), h('div', null, ...stars), commentBox, rateNote);

// Asked once the conversation is closed (its stream's `status` event, or a poll's header),
// until this conversation has been rated here.
const askRating = (status) => {
  rateBox.hidden = status !== 'closed' || state.rated === state.token;
};

// The stream's `typing` and `status` events (widget.js's connectStream calls this).
const listen = (source) => {
  source.addEventListener('typing', (e) => {
    try { typingNote.textContent = JSON.parse(e.data).author + ' is typing\u2026'; } catch { return; }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { typingNote.textContent = ''; }, 5000);
  });
  source.addEventListener('status', (e) => {
    try { askRating(JSON.parse(e.data).status); } catch { return; }
  });
};
