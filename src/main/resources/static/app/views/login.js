// /login: password login, "Sign in with …" when OIDC is configured, and the OIDC callback's
// ?error= answers. ?redirect= is where to go afterwards (a path of this app only).
import { get, post, describe } from '../api.js';
import { h, field } from '../dom.js';

const OIDC_ERRORS = {
  oidc: 'The sign-in with your identity provider did not work. Try again, or ask an admin.',
  disabled: 'Your account is disabled. Ask an admin.',
};

/** Only a path of this app, never another site (/\evil, //evil, javascript:…). */
export function safeTarget(value) {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) {
    return '/';
  }
  return value;
}

export default async function login(ctx) {
  ctx.title('Log in');
  const target = safeTarget(ctx.query.get('redirect'));
  const error = h('p', { class: 'form-error', role: 'alert', id: 'login-error' });
  const loginInput = h('input', { id: 'login', name: 'login', required: true, autocomplete: 'username',
    autocapitalize: 'none', spellcheck: 'false' });
  const passwordInput = h('input', { id: 'password', name: 'password', type: 'password', required: true,
    autocomplete: 'current-password' });
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Log in' });
  const form = h('form', { class: 'narrow', 'aria-describedby': 'login-error' },
    field('Login', loginInput), field('Password', passwordInput), h('p', { class: 'actions' }, submit), error);
  const oidcSlot = h('div');
  if (OIDC_ERRORS[ctx.query.get('error')]) {
    error.textContent = OIDC_ERRORS[ctx.query.get('error')];
  }
  ctx.root.append(h('h1', { text: 'Log in to collab' }), oidcSlot, form);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.textContent = '';
    try {
      const user = await post('/api/auth/login', { login: loginInput.value.trim(), password: passwordInput.value });
      ctx.shell.loggedIn(user);
      ctx.shell.navigate(target, { replace: true });
    } catch (failure) {
      if (failure.status === 429) {
        const wait = failure.headers && failure.headers.get('Retry-After');
        error.textContent = 'Too many attempts. Try again' + (wait ? ' in ' + wait + ' s.' : ' later.');
      } else {
        error.textContent = describe(failure);
      }
      passwordInput.value = '';
      passwordInput.focus();
    } finally {
      submit.disabled = false;
    }
  });
  loginInput.focus();

  try {
    const config = await get('/api/auth/config', { signal: ctx.signal });
    if (config && config.oidc) {
      const url = '/api/auth/oidc' + (target !== '/' ? '?redirect=' + encodeURIComponent(target) : '');
      oidcSlot.append(h('p', {}, h('a', { class: 'button primary', href: url, id: 'oidc-login' },
        'Sign in with ' + config.oidc.name)), h('p', { class: 'muted', text: 'or with a password:' }));
    }
  } catch (failure) {
    // The password form works without it.
  }
}
