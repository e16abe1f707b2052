// /tokens: the caller's personal access tokens. A new token's value is shown once, on this
// page only (never in the address, never stored by the app); the list never has it.
import { get, post, del } from '../api.js';
import { h, field, replace } from '../dom.js';
import { statusLine, say, showFieldErrors, confirmDialog, words } from '../forms.js';

export default async function tokens(ctx) {
  ctx.title('Access tokens');
  const tbody = h('tbody');
  const status = statusLine('tokens-status');
  const created = h('section', { id: 'new-token-card', class: 'card new-token', hidden: true,
    'aria-labelledby': 'new-token-heading' });
  const view = { tbody, status, created };
  ctx.root.append(h('h1', { text: 'Access tokens' }),
    h('p', { class: 'muted', text: 'A token lets a script or a tool use the API as you: '
      + 'send it as "Authorization: Bearer <token>".' }),
    newTokenForm(ctx, view), created,
    h('h2', { id: 'tokens-heading', text: 'Your tokens' }),
    h('div', { class: 'table-wrap' }, h('table', { id: 'tokens', 'aria-labelledby': 'tokens-heading' },
      h('thead', {}, h('tr', {}, ['Name', 'Created', 'Expires', 'Last used', 'Actions']
        .map((text) => h('th', { scope: 'col', text })))), tbody)),
    status);
  await load(ctx, view);
}

async function load(ctx, view) {
  const { items } = await get('/api/tokens', { signal: ctx.signal });
  replace(view.tbody, items.map((token) => tokenRow(ctx, view, token)));
  if (!items.length) {
    view.tbody.append(h('tr', {}, h('td', { colspan: '5', class: 'muted', text: 'You have no tokens.' })));
  }
}

function when(iso, none) {
  return iso ? h('time', { datetime: iso, title: iso, text: new Date(iso).toLocaleString() }) : none;
}

function tokenRow(ctx, view, token) {
  const revoke = h('button', { type: 'button', class: 'revoke danger', text: 'Revoke',
    'aria-label': 'Revoke ' + token.name });
  const row = h('tr', { class: 'token-row', dataset: { id: token.id } },
    h('td', { class: 'name', text: token.name }), h('td', {}, when(token.createdAt, '')),
    h('td', {}, when(token.expiresAt, 'never')), h('td', {}, when(token.lastUsedAt, 'never')), h('td', {}, revoke));
  revoke.addEventListener('click', async () => {
    const yes = await confirmDialog(ctx, { id: 'confirm-revoke', title: 'Revoke "' + token.name + '"?',
      text: 'Scripts and tools using this token stop working at once.', yes: 'Revoke' });
    if (!yes || ctx.signal.aborted) return;
    try {
      await del('/api/tokens/' + encodeURIComponent(token.id));
    } catch (error) {
      say(view.status, 'Could not revoke "' + token.name + '": ' + words(error), 'error');
      return;
    }
    row.remove();
    say(view.status, 'Token "' + token.name + '" revoked.');
    document.getElementById('token-name')?.focus();
    await reload(ctx, view, view.status, 'Token "' + token.name + '" revoked');
  });
  return row;
}

function newTokenForm(ctx, view) {
  const name = h('input', { id: 'token-name', name: 'name', required: true, maxlength: '100' });
  const expires = h('input', { id: 'token-expires', name: 'expiresAt', type: 'date' });
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Create token' });
  const status = statusLine('new-token-status');
  const form = h('form', { id: 'new-token', class: 'narrow', 'aria-labelledby': 'new-token-form-heading' },
    h('h2', { id: 'new-token-form-heading', text: 'New token' }),
    field('Name', name, 'What it is for, e.g. "laptop" or "CI".'),
    field('Expires (optional)', expires, 'The token stops working at the end of this day (UTC). Empty: never.'),
    h('p', { class: 'actions' }, submit), status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    say(status, '');
    try {
      const expiresAt = expires.value ? expires.value + 'T23:59:59Z' : null;
      const token = await post('/api/tokens', { name: name.value.trim(), expiresAt });
      showOnce(view.created, token);
      name.value = '';
      expires.value = '';
      // The token exists now: a failing list reload must not say it was not created.
      await reload(ctx, view, status, 'Token created');
    } catch (error) {
      if (showFieldErrors(form, error, { name, expiresAt: expires })) {
        say(status, 'Check the fields marked above.', 'error');
      } else {
        say(status, 'Could not create the token: ' + words(error), 'error');
      }
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** Reloads the list after a write that succeeded; a failure says so without undoing `done`. */
async function reload(ctx, view, status, done) {
  try {
    await load(ctx, view);
  } catch (error) {
    if (error.name !== 'AbortError') say(status, done + '; the list could not be reloaded: ' + words(error), 'error');
  }
}

/** The new token, once: with a copy button where the browser allows it. */
function showOnce(card, token) {
  const value = h('code', { id: 'new-token-value', class: 'token-value', text: token.token, tabindex: '0' });
  const copied = statusLine('copy-status');
  const copy = navigator.clipboard
    ? h('button', { type: 'button', id: 'copy-token', text: 'Copy', onclick: async () => {
      try {
        await navigator.clipboard.writeText(token.token);
        say(copied, 'Copied.');
      } catch (error) {
        say(copied, 'The browser did not allow copying: select the token and copy it.', 'error');
      }
    } })
    : null;
  replace(card,
    h('h2', { id: 'new-token-heading', text: 'Token "' + token.name + '" created' }),
    h('p', { class: 'warning', text: 'Copy it now: you will not see it again.' }),
    h('p', { class: 'token-line' }, value, ' ', copy), copied,
    h('p', {}, h('button', { type: 'button', text: 'Done, hide it', onclick: () => {
      card.hidden = true;
      card.replaceChildren();
      document.getElementById('token-name')?.focus();
    } })));
  card.hidden = false;
  value.focus();
}
