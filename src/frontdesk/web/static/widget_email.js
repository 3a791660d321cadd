/* The widget's "Email transcript" button (contract section 8.5): the conversation goes to the
 * visitor's own address (the server sends it nowhere else). The server puts this file into
 * widget.js where widget.js names it (widget_pages.py), inside its function, so it uses
 * widget.js's own call(), conversationPath() and errorText(). */
/* exported transcriptBar */
/* global h, call, conversationPath, errorText */

const transcriptNote = h('span', { class: 'note', role: 'status' });
const transcriptBtn = h('button', { class: 'link', type: 'button', text: 'Email transcript' });
transcriptBtn.addEventListener('click', async () => {
  transcriptBtn.disabled = true;
  transcriptNote.textContent = '';
  const r = await call('POST', conversationPath('transcript'));
  transcriptNote.textContent = r.ok ? 'Sent to your email.' : errorText(r);
  transcriptBtn.disabled = false;
});
const transcriptBar = h('div', { class: 'transcript' }, transcriptBtn, transcriptNote);
