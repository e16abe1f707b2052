// /users (server admins): list, create, make/unmake admin, disable/enable, reset a password
// (PATCH /api/users/{id}). Anyone else gets a page that says this is for admins.
import { get, post, patch } from '../api.js';
import { h, field, replace } from '../dom.js';
import { statusLine, say, showFieldErrors, clearFieldErrors, closeOnLeave, words } from '../forms.js';

export default async function users(ctx) {
  ctx.title('Users');
  if (!ctx.shell.me || !ctx.shell.me.admin) {
    ctx.root.append(h('h1', { text: 'Users' }),
      h('p', { id: 'users-forbidden', text: 'Only server admins can manage users.' }));
    return;
  }
  const view = { tbody: h('tbody'), status: statusLine('users-status') };
  ctx.root.append(h('h1', { text: 'Users' }),
    h('div', { class: 'table-wrap' }, h('table', { id: 'users', 'aria-label': 'Users' },
      h('thead', {}, h('tr', {}, ['Login', 'Name', 'Email', 'Status', 'Actions']
        .map((text) => h('th', { scope: 'col', text })))), view.tbody)),
    view.status, newUserForm(ctx, view));
  await load(ctx, view);
}

async function load(ctx, view) {
  const { items } = await get('/api/users', { signal: ctx.signal });
  replace(view.tbody, items.map((user) => userRow(ctx, view, user)));
}

function describeUser(user) {
  return [user.admin ? 'server admin' : 'user', user.disabled ? 'disabled' : null].filter(Boolean).join(', ');
}

function userRow(ctx, view, user) {
  const statusCell = h('td', { class: 'user-status' });
  const adminButton = h('button', { type: 'button', class: 'toggle-admin' });
  const disableButton = h('button', { type: 'button', class: 'toggle-disabled' });
  const resetButton = h('button', { type: 'button', class: 'reset-password', text: 'Reset password',
    'aria-label': 'Reset password of ' + user.login });
  const row = h('tr', { class: 'user-row', dataset: { login: user.login } },
    h('td', { class: 'login', text: user.login }), h('td', { class: 'display-name', text: user.displayName || '' }),
    h('td', { text: user.email || '' }), statusCell,
    h('td', {}, h('div', { class: 'row-actions' }, adminButton, disableButton, resetButton)));
  const show = () => {
    statusCell.textContent = describeUser(user);
    row.dataset.admin = String(user.admin);
    row.dataset.disabled = String(user.disabled);
    adminButton.textContent = user.admin ? 'Remove admin' : 'Make admin';
    adminButton.setAttribute('aria-label', (user.admin ? 'Remove admin from ' : 'Make admin: ') + user.login);
    disableButton.textContent = user.disabled ? 'Enable' : 'Disable';
    disableButton.setAttribute('aria-label', (user.disabled ? 'Enable ' : 'Disable ') + user.login);
  };
  const change = async (button, body, done) => {
    button.disabled = true;
    try {
      Object.assign(user, await patch('/api/users/' + encodeURIComponent(user.id), body));
      show();
      say(view.status, done());
      if (ctx.shell.me && ctx.shell.me.login === user.login) await afterOwnChange(ctx);
    } catch (error) {
      say(view.status, 'Could not change ' + user.login + ': ' + words(error), 'error');
    } finally {
      button.disabled = false;
      button.focus();
    }
  };
  adminButton.addEventListener('click', () => change(adminButton, { admin: !user.admin },
    () => user.login + (user.admin ? ' is now a server admin.' : ' is no longer a server admin.')));
  disableButton.addEventListener('click', () => change(disableButton, { disabled: !user.disabled },
    () => user.login + (user.disabled ? ' is disabled: their sessions and tokens no longer work.' : ' is enabled.')));
  resetButton.addEventListener('click', () => resetPassword(ctx, view, user));
  show();
  return row;
}

/** An admin who changed their own user: the header (Users nav) and this page follow. */
async function afterOwnChange(ctx) {
  await ctx.shell.refreshMe();
  if (!ctx.signal.aborted && !ctx.shell.me.admin) ctx.shell.navigate('/', { replace: true });
}

/** A dialog asks for the new password: it never goes into the page's address or the list. */
function resetPassword(ctx, view, user) {
  document.getElementById('reset-password')?.remove();
  const opener = document.activeElement;
  const password = h('input', { id: 'reset-password-value', type: 'password', required: true, minlength: '12',
    autocomplete: 'new-password' });
  const error = statusLine('reset-password-status');
  const form = h('form', { method: 'dialog' },
    h('h2', { id: 'reset-password-title', text: 'New password for ' + user.login }),
    field('New password', password, 'At least 12 characters. Their other browser sessions end.'), error,
    h('p', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'reset-password-save', text: 'Save' }),
      h('button', { type: 'button', id: 'reset-password-cancel', text: 'Cancel', onclick: () => dialog.close() })));
  const dialog = h('dialog', { id: 'reset-password', 'aria-labelledby': 'reset-password-title' }, form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    if (ctx.signal.aborted) return;
    try {
      await patch('/api/users/' + encodeURIComponent(user.id), { password: password.value });
      dialog.close();
      say(view.status, 'The password of ' + user.login + ' was changed.');
    } catch (failure) {
      if (!showFieldErrors(form, failure, { password })) say(error, words(failure), 'error');
    }
  });
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (opener && opener.isConnected) opener.focus();
  });
  closeOnLeave(ctx, dialog); // never a password PATCH from a page the user moved to
  document.body.append(dialog);
  dialog.showModal();
  password.focus();
}

function newUserForm(ctx, view) {
  const login = h('input', { id: 'new-login', name: 'login', required: true, maxlength: '64',
    pattern: '[a-z0-9][a-z0-9._\\-]{0,63}', autocapitalize: 'none', spellcheck: 'false', autocomplete: 'off' });
  const displayName = h('input', { id: 'new-display-name', name: 'displayName', maxlength: '200', autocomplete: 'off' });
  const email = h('input', { id: 'new-email', name: 'email', type: 'email', autocomplete: 'off' });
  const password = h('input', { id: 'new-password', name: 'password', type: 'password', minlength: '12',
    autocomplete: 'new-password' });
  const admin = h('input', { id: 'new-admin', name: 'admin', type: 'checkbox' });
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Create user' });
  const status = statusLine('new-user-status');
  const form = h('form', { id: 'new-user', class: 'narrow', 'aria-labelledby': 'new-user-heading' },
    h('h2', { id: 'new-user-heading', text: 'New user' }),
    field('Login', login, 'Lower-case letters, digits, dot, underscore, hyphen.'),
    field('Display name (optional)', displayName), field('Email (optional)', email),
    field('Password', password, 'At least 12 characters. Empty: the user can only sign in through the identity provider.'),
    h('p', { class: 'checkbox' }, admin, h('label', { for: 'new-admin', text: ' Server admin' })),
    h('p', { class: 'actions' }, submit), status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    say(status, '');
    clearFieldErrors(form);
    try {
      const body = { login: login.value.trim(), admin: admin.checked };
      if (displayName.value.trim()) body.displayName = displayName.value.trim();
      if (email.value.trim()) body.email = email.value.trim();
      if (password.value) body.password = password.value;
      const user = await post('/api/users', body);
      form.reset();
      await load(ctx, view);
      say(status, 'User ' + user.login + ' created.');
      login.focus();
    } catch (error) {
      if (showFieldErrors(form, error, { login, displayName, email, password })) {
        say(status, 'Check the fields marked above.', 'error');
      } else {
        say(status, 'Could not create the user: ' + words(error), 'error');
      }
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
