/* A signed-in visitor (contract section 6): data-user-id, -hash, -name, -email on the tag.
 * Put into widget.js after the form by the server (widget_pages.py). */
/* global script, state:writable, save, call, errorText, formError, nameIn, emailIn */
/* exported userId, who, resume */
const userAttr = (name) => (script.getAttribute('data-user-' + name) || '').trim();
const userId = userAttr('id');
const who = userId ? { user_id: userId, user_hash: userAttr('hash') } : {};

// Given on the tag: not asked for (the fields, out of the DOM, still send it).
for (const [el, value] of [[nameIn, userAttr('name')], [emailIn, userAttr('email')]]) {
  if (!value) continue;
  el.value = value;
  el.closest('label').remove();
}

// Stored by another user (or by nobody signed in): never shown to this one.
if ((state.user || '') !== userId) {
  state = {};
  save();
}

// A browser with no conversation of its own opens the user's newest one, if any.
const resume = async () => {
  if (!userId || state.started) return;
  const r = await call('GET', 'conversations?' + new URLSearchParams(who));
  if (r.status === 403) formError.textContent = errorText(r);
  const first = r.ok && Array.isArray(r.data) ? r.data[0] : null;
  if (!first || typeof first.visitor_token !== 'string') return;
  // Old messages count as read: no badge for them.
  state = { token: first.visitor_token, started: true, user: userId, read: first.updated_at };
  if (nameIn.value) state.name = nameIn.value.trim();
  save();
};
