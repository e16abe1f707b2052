// /setup?token=…: the one-time link the server logs at its first start creates the first admin.
import { post, describe } from '../api.js';
import { h, field } from '../dom.js';

export default async function setup(ctx) {
  ctx.title('Create the first admin');
  const token = ctx.query.get('token');
  const status = h('p', { id: 'status', role: 'status', 'aria-live': 'polite' });
  const login = h('input', { id: 'login', name: 'login', required: true, autocomplete: 'username',
    pattern: '[a-z0-9][a-z0-9._\\-]{0,63}', autocapitalize: 'none' });
  const displayName = h('input', { id: 'displayName', name: 'displayName', autocomplete: 'name' });
  const password = h('input', { id: 'password', name: 'password', type: 'password', required: true, minlength: '12',
    autocomplete: 'new-password' });
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Create admin' });
  const form = h('form', { id: 'setup', class: 'narrow' },
    field('Login', login, 'Lower-case letters, digits, dot, underscore, hyphen.'),
    field('Display name (optional)', displayName),
    field('Password', password, 'At least 12 characters.'),
    h('p', { class: 'actions' }, submit));
  ctx.root.append(h('h1', { text: 'Create the first admin' }),
    h('p', { text: 'This one-time link creates the server\'s first admin. Choose a login and a password.' }),
    form, status);
  if (!token) {
    status.textContent = 'This page needs the setup link from the server log (/setup?token=…).';
    form.hidden = true;
    return;
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    status.textContent = 'Creating…';
    try {
      await post('/api/auth/setup', { token, login: login.value.trim(), password: password.value,
        displayName: displayName.value.trim() || null });
      const user = await post('/api/auth/login', { login: login.value.trim(), password: password.value });
      ctx.shell.loggedIn(user);
      ctx.shell.navigate('/', { replace: true });
    } catch (failure) {
      status.textContent = describe(failure);
      submit.disabled = false;
    }
  });
}
