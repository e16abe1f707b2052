// The app's shell and router: one page (index.html) for every path; views are modules under
// views/ that render into <main>. The paths are the server's list too (dev.collab.app.AppPages).
import { get, post, whenUnauthenticated, describe } from './api.js';
import { clearAllOutboxes, setCurrentUser } from './outbox.js';
import { replace, h } from './dom.js';

const ROUTES = [
  { pattern: /^\/$/, view: 'projects' },
  { pattern: /^\/login$/, view: 'login', public: true },
  { pattern: /^\/setup$/, view: 'setup', public: true },
  { pattern: /^\/tokens$/, view: 'tokens' },
  { pattern: /^\/users$/, view: 'users' },
  { pattern: /^\/p\/(?<key>[^/]+)$/, view: 'project' },
  { pattern: /^\/p\/(?<key>[^/]+)\/settings$/, view: 'settings' },
  { pattern: /^\/p\/(?<key>[^/]+)\/s\/(?<id>[^/]+)$/, view: 'session' },
  { pattern: /^\/p\/(?<key>[^/]+)\/s\/(?<id>[^/]+)\/changes$/, view: 'changes' },
];

const main = document.getElementById('main');
const notice = document.getElementById('notice');
const connection = document.getElementById('connection');
const connectionAnnounce = document.getElementById('connection-announce');

/** Who is logged in (GET /api/me), or null. */
let me = null;
let current = null; // { controller: AbortController, cleanups: [] }

export const shell = {
  /** The logged-in user with `projects: [{key, role}]`, or null. */
  get me() {
    return me;
  },
  /** Re-reads GET /api/me (after a change of one's roles or projects). */
  async refreshMe() {
    me = await get('/api/me');
    setCurrentUser(me && (me.id || me.login));
    renderHeader();
    return me;
  },
  /** The caller's role in a project ('viewer' | 'member' | 'admin'), a server admin's is admin. */
  roleIn(key) {
    if (!me) return null;
    if (me.admin) return 'admin';
    const entry = (me.projects || []).find((p) => p.key === key);
    return entry ? entry.role : null;
  },
  navigate,
  /** Called by the login and setup views once a user is logged in. */
  loggedIn(user) {
    me = user;
    setCurrentUser(me && (me.id || me.login));
    renderHeader();
  },
  /** A message for the user: kind 'error' | 'info'; empty text clears it. */
  notify(text, kind = 'info') {
    notice.className = 'notice ' + kind;
    notice.textContent = text || '';
  },
  /** The live view's connection state in the header: {state: 'live'|'reconnecting'|'offline'|'', text}. */
  setConnection(state, text) {
    // The badge counts down every second; screen readers hear only changes of state (a
    // live region of its own), not every tick.
    // Reconnecting and offline alternate with each attempt: one "lost" for both.
    const heard = (value) => (value === 'live' ? 'live' : value ? 'lost' : '');
    if (heard(connection.dataset.state || '') !== heard(state || '')) {
      connectionAnnounce.textContent = { live: 'Live: connected.', lost: 'Connection lost: reconnecting.' }[heard(state)]
        || '';
    }
    connection.dataset.state = state || '';
    connection.textContent = text || '';
  },
  describe,
};

function renderHeader() {
  const nav = document.getElementById('nav');
  const whoami = document.getElementById('whoami');
  const logout = document.getElementById('logout');
  nav.hidden = !me;
  logout.hidden = !me;
  document.getElementById('nav-users').hidden = !(me && me.admin);
  whoami.textContent = me ? me.displayName || me.login : '';
  if (me) whoami.title = 'Logged in as ' + me.login;
}

/** Goes to an app path; `replace` for redirects that should not be a history entry. */
export function navigate(path, { replace: replaceEntry = false } = {}) {
  if (replaceEntry) {
    history.replaceState(null, '', path);
  } else {
    history.pushState(null, '', path);
  }
  route();
}

function leave() {
  if (current) {
    current.controller.abort();
    for (const cleanup of current.cleanups) {
      try {
        cleanup();
      } catch (error) {
        console.error(error);
      }
    }
    current = null;
  }
  shell.setConnection('', '');
}

async function route() {
  leave();
  shell.notify('');
  const path = location.pathname;
  let match = null;
  let route = null;
  for (const candidate of ROUTES) {
    match = candidate.pattern.exec(path);
    if (match) {
      route = candidate;
      break;
    }
  }
  const context = { controller: new AbortController(), cleanups: [] };
  current = context;
  if (!route) {
    replace(main, h('h1', { tabindex: '-1', text: 'Not found' }), h('p', {}, 'There is no page at this address. ',
      h('a', { href: '/', 'data-nav': true, text: 'Projects' })));
    document.title = 'Not found · collab';
    return;
  }
  if (!route.public && !me) {
    try {
      await shell.refreshMe();
    } catch (error) {
      if (current !== context) return;
      if (error.status === 401) {
        navigate('/login?redirect=' + encodeURIComponent(path + location.search), { replace: true });
        return;
      }
      replace(main, h('h1', { tabindex: '-1', text: 'collab is not reachable' }),
        h('p', { text: describe(error) }),
        h('button', { type: 'button', onclick: () => route(), text: 'Try again' }));
      return;
    }
  }
  if (current !== context) return;
  const params = {};
  for (const [name, value] of Object.entries(match.groups || {})) {
    try {
      params[name] = decodeURIComponent(value);
    } catch {
      params[name] = value;
    }
  }
  const module = await import('./views/' + route.view + '.js');
  if (current !== context) return;
  main.replaceChildren();
  const ctx = {
    root: main,
    params,
    query: new URLSearchParams(location.search),
    signal: context.controller.signal,
    /** Runs when the user leaves the view (timers, streams). */
    onLeave: (cleanup) => context.cleanups.push(cleanup),
    title: (text) => {
      document.title = text ? text + ' · collab' : 'collab';
    },
    shell,
  };
  try {
    await module.default(ctx);
  } catch (error) {
    if (error.name === 'AbortError' || current !== context) return;
    if (error.status === 404) {
      replace(main, h('h1', { tabindex: '-1', text: 'Not found' }), h('p', { text: describe(error) }),
        h('a', { href: '/', 'data-nav': true, text: 'Projects' }));
      return;
    }
    replace(main, h('h1', { tabindex: '-1', text: 'Something went wrong' }), h('p', { text: describe(error) }),
      h('button', { type: 'button', onclick: () => route(), text: 'Try again' }));
  }
  // Keyboard and screen-reader users land on the new page's heading.
  const heading = main.querySelector('h1');
  if (heading && !main.contains(document.activeElement)) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  }
}

// Links inside the app: no page load (a modified click still opens a new tab).
document.addEventListener('click', (event) => {
  const anchor = event.target.closest && event.target.closest('a[data-nav]');
  if (!anchor || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey
    || event.shiftKey || event.altKey) {
    return;
  }
  event.preventDefault();
  const target = anchor.getAttribute('href');
  if (target !== location.pathname + location.search) {
    navigate(target);
  }
});

window.addEventListener('popstate', route);

document.getElementById('logout').addEventListener('click', async () => {
  try {
    await post('/api/auth/logout');
  } catch (error) {
    // Gone already, or the network: either way this tab forgets the user.
  }
  me = null;
  setCurrentUser(null);
  // Unsent messages are the user's: none stays behind on a shared machine (outbox.js).
  clearAllOutboxes();
  renderHeader();
  navigate('/login', { replace: true });
});

whenUnauthenticated(() => {
  if (!me) return;
  me = null;
  setCurrentUser(null);
  renderHeader();
  const path = location.pathname + location.search;
  navigate('/login?redirect=' + encodeURIComponent(path), { replace: true });
});

// Another tab logged out, or logged in as someone else: this tab's user is gone too, and its
// views (an outbox with the old user's messages) must not go on with the browser's new cookie.
window.addEventListener('storage', (event) => {
  if (!me || (event.key !== 'collab.user' && event.key !== null)) return;
  let user;
  try {
    user = localStorage.getItem('collab.user');
  } catch {
    return;
  }
  if (user === (me.id || me.login)) return;
  me = null;
  renderHeader();
  const path = location.pathname + location.search;
  navigate('/login?redirect=' + encodeURIComponent(path), { replace: true });
});

route();
