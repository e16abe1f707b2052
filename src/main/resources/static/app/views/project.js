// /p/{key}: a project's sessions, newest activity first, with the state filter (?state=, so
// back/forward and reload keep it), "load more" (keyset cursor), a live refresh of the first
// page, creating a session, and ending one (project admins). Issue 16 replaces the polling
// with a stream of list changes.
import { get, post, del, ApiError } from '../api.js';
import { h, field, link, seg, time, replace } from '../dom.js';
import { statusLine, say, confirmDialog, words } from '../forms.js';

/** Sessions per page ("load more" fetches the next one). */
export const PAGE = 20;
/** How often the first page is polled while the tab is visible. */
const REFRESH_MS = 5000;
/** The longest wait between polls while they fail (doubling from REFRESH_MS). */
const MAX_REFRESH_MS = 60000;
const STATES = ['IDLE', 'RUNNING', 'ENDED'];

export default async function project(ctx) {
  const key = ctx.params.key;
  const base = '/api/projects/' + seg(key);
  // A non-member gets the very 404 of a key that does not exist; the router shows it.
  const info = await get(base, { signal: ctx.signal });
  // Asked again on every entry: a role granted or taken while the tab was open shows at once.
  await ctx.shell.refreshMe();
  const role = ctx.shell.roleIn(key) || 'viewer';
  const canCreate = role === 'member' || role === 'admin';
  const canEnd = role === 'admin';
  const stateParam = (ctx.query.get('state') || '').toUpperCase();
  const state = STATES.includes(stateParam) ? stateParam : '';
  ctx.title(info.name);

  const status = statusLine('sessions-status');
  const header = h('div', { class: 'page-head' },
    h('h1', { text: info.name }),
    h('p', { class: 'muted' }, h('span', { class: 'key', text: key }), ' · ',
      h('span', { text: 'your role: ' + role }),
      role === 'admin' ? [' · ', h('a', { id: 'project-settings', href: '/p/' + seg(key) + '/settings',
        'data-nav': true, text: 'Project settings' })] : null));
  ctx.root.append(header);
  if (canCreate) {
    ctx.root.append(newSessionForm(ctx, key, base));
  }

  const filter = h('select', { id: 'state-filter', name: 'state' },
    h('option', { value: '', text: 'All' }), STATES.map((s) => h('option', { value: s, text: s })));
  filter.value = state;
  const tbody = h('tbody');
  const table = h('table', { id: 'sessions', class: 'sessions' },
    h('caption', { class: 'visually-hidden', text: 'Sessions, newest activity first' }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Title' }), h('th', { scope: 'col', text: 'State' }),
      h('th', { scope: 'col', text: 'Last activity' }), canEnd ? h('th', { scope: 'col', text: 'Actions' }) : null)),
    tbody);
  const empty = h('p', { id: 'sessions-empty', class: 'muted', hidden: true });
  const more = h('button', { type: 'button', id: 'load-more', hidden: true, text: 'Load more' });
  ctx.root.append(h('h2', { id: 'sessions-heading', text: 'Sessions' }),
    h('div', { class: 'toolbar' }, field('Show', filter)),
    h('div', { class: 'table-wrap' }, table), empty, h('p', { class: 'actions' }, more), status);

  const list = { key, name: info.name, tbody, canEnd, state, cursor: null, complete: false, rows: new Map(), status,
    empty, more, stopRefresh: () => {} };
  const query = (cursor) => base + '/sessions?limit=' + PAGE + (list.state ? '&state=' + list.state : '')
    + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');

  showPage(ctx, list, await get(query(null), { signal: ctx.signal }), false);

  filter.addEventListener('change', async () => {
    // The filter is part of the address (back/forward and reload keep it); the list is
    // reloaded in place so the focus stays on the filter.
    list.state = filter.value;
    history.pushState(null, '', '/p/' + seg(key) + (filter.value ? '?state=' + filter.value : ''));
    list.tbody.replaceChildren();
    list.rows.clear();
    list.cursor = null;
    list.complete = false;
    const asked = list.state;
    try {
      const page = await get(query(null), { signal: ctx.signal });
      if (asked === list.state) showPage(ctx, list, page, false); // else a later change won
    } catch (error) {
      if (error.name !== 'AbortError' && asked === list.state) {
        say(status, 'Could not load the sessions: ' + words(error), 'error');
      }
    }
  });
  more.addEventListener('click', async () => {
    more.disabled = true;
    const asked = list.state;
    try {
      const page = await get(query(list.cursor), { signal: ctx.signal });
      if (asked !== list.state) return; // the filter changed meanwhile
      const firstNew = showPage(ctx, list, page, true);
      if (firstNew) firstNew.querySelector('a').focus();
      else if (!more.hidden) more.focus();
    } catch (error) {
      if (error.name !== 'AbortError') say(status, 'Could not load more sessions: ' + words(error), 'error');
    } finally {
      more.disabled = false;
    }
  });
  startRefresh(ctx, list, () => query(null));
}

/** Appends a page of sessions (or renders the first one); returns the first new row. */
function showPage(ctx, list, page, append) {
  let firstNew = null;
  for (const session of page.items) {
    if (list.rows.has(session.id)) {
      updateRow(list.rows.get(session.id), session);
      continue;
    }
    const row = sessionRow(ctx, list, session);
    list.rows.set(session.id, row);
    list.tbody.append(row);
    firstNew = firstNew || row;
  }
  list.cursor = page.nextCursor;
  list.complete = !page.nextCursor;
  list.more.hidden = !page.nextCursor;
  if (!append) updateEmpty(list);
  return firstNew;
}

function updateEmpty(list) {
  list.empty.hidden = list.rows.size > 0;
  list.empty.textContent = list.state
    ? 'No ' + list.state + ' sessions.'
    : 'No sessions yet.' + (document.getElementById('new-session') ? ' Start one with the form above.' : '');
}

function sessionRow(ctx, list, session) {
  const path = '/p/' + seg(list.key) + '/s/' + seg(session.id);
  const title = link(path);
  const badge = h('span', { class: 'badge' });
  const when = h('td', { class: 'last-activity' });
  const row = h('tr', { class: 'session-row', dataset: { id: session.id } },
    h('td', { class: 'title' }, title), h('td', {}, badge), when,
    list.canEnd ? h('td', {}, h('div', { class: 'row-actions' })) : null);
  row.session = session;
  row.parts = { title, badge, when, actions: row.querySelector('.row-actions') };
  updateRow(row, session, true);
  if (list.canEnd) {
    row.parts.endButton = h('button', { type: 'button', class: 'end danger',
      'aria-label': 'End session ' + (session.title || 'Untitled session'), text: 'End',
      onclick: () => endSession(ctx, list, row) });
    row.parts.actions.append(row.parts.endButton);
    row.parts.endButton.hidden = session.state === 'ENDED';
  }
  return row;
}

/** Changes a row's texts in place: the focus and the loaded pages stay as they are. */
function updateRow(row, session, force = false) {
  const before = row.session;
  row.session = session;
  if (force || before.title !== session.title) {
    row.parts.title.textContent = session.title || 'Untitled session';
    row.parts.title.classList.toggle('untitled', !session.title);
  }
  if (force || before.state !== session.state) {
    row.parts.badge.className = 'badge state-' + session.state;
    row.parts.badge.textContent = session.state;
    row.dataset.state = session.state;
    if (row.parts.endButton) row.parts.endButton.hidden = session.state === 'ENDED';
  }
  replace(row.parts.when, time(session.lastActivityAt));
}

/** Newest activity first, ties by id descending (the server's order). */
function compare(a, b) {
  const byTime = Date.parse(b.lastActivityAt) - Date.parse(a.lastActivityAt);
  if (byTime !== 0) return byTime;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * Polls the first page every few seconds while the tab is visible and merges it: known rows
 * change in place, new ones appear, rows that left the filter go. Pages loaded with "load
 * more" stay. A failed poll is said in words once (not again every tick: the status line is
 * a live region) and retried with a growing delay; a 403/404 means the user lost access,
 * which no retry fixes, so the list goes and the page says so.
 */
function startRefresh(ctx, list, firstPage) {
  let busy = false;
  let timer = null;
  let delay = REFRESH_MS;
  const schedule = () => {
    clearTimeout(timer);
    if (!ctx.signal.aborted) timer = setTimeout(tick, delay);
  };
  const tick = async () => {
    if (busy) return;
    if (document.visibilityState !== 'visible') {
      schedule();
      return;
    }
    busy = true;
    try {
      const asked = list.state;
      const page = await get(firstPage(), { signal: ctx.signal });
      delay = REFRESH_MS;
      if (asked === list.state) merge(ctx, list, page); // else the filter changed meanwhile
      if (list.status.dataset.poll) {
        delete list.status.dataset.poll;
        say(list.status, '');
      }
    } catch (error) {
      if (error.name === 'AbortError') return;
      if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
        lostAccess(ctx, list);
        return; // no retry: it would only fail again
      }
      delay = Math.min(delay * 2, MAX_REFRESH_MS);
      say(list.status, 'Could not refresh the list: ' + words(error) + ' Retrying…', 'error');
      list.status.dataset.poll = 'yes';
    } finally {
      busy = false;
    }
    schedule();
  };
  schedule();
  const onVisible = () => {
    if (document.visibilityState === 'visible') tick();
  };
  // Back online: ask at once instead of waiting out the backed-off delay.
  const onOnline = () => {
    delay = REFRESH_MS;
    tick();
  };
  document.addEventListener('visibilitychange', onVisible);
  window.addEventListener('online', onOnline);
  list.stopRefresh = () => {
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisible);
    window.removeEventListener('online', onOnline);
  };
  ctx.onLeave(list.stopRefresh);
}

/** The user was removed from the project (404) or lost a role the list needs (403). */
function lostAccess(ctx, list) {
  list.stopRefresh();
  replace(ctx.root, h('h1', { tabindex: '-1', text: list.name }),
    h('p', { id: 'project-gone', role: 'alert', text: 'You no longer have access to this project.' }),
    h('p', {}, link('/', 'Back to your projects')));
}

function merge(ctx, list, page) {
  const fresh = new Set(page.items.map((s) => s.id));
  const last = page.items[page.items.length - 1];
  for (const session of page.items) {
    if (list.rows.has(session.id)) {
      updateRow(list.rows.get(session.id), session);
    } else {
      const row = sessionRow(ctx, list, session);
      list.rows.set(session.id, row);
      list.tbody.append(row);
    }
  }
  // A known row that should be on the first page but is not has left the filter. If it
  // holds the focus, the focus goes to the status line first rather than into nowhere.
  for (const [id, row] of list.rows) {
    const shouldBeThere = !last || !page.nextCursor || compare(row.session, last) < 0;
    if (!fresh.has(id) && shouldBeThere) {
      if (row.contains(document.activeElement)) {
        // Said first: an empty status line is not displayed, so it could not take the focus.
        say(list.status, 'Session "' + (row.session.title || 'Untitled session') + '" left this list.');
        list.status.tabIndex = -1;
        list.status.focus({ preventScroll: true });
      }
      row.remove();
      list.rows.delete(id);
    }
  }
  // "Load more" comes back only while more pages were never loaded: once the last page is
  // in (list.complete), a new session on the first page must not bring back a button that
  // would only load rows already listed.
  if (!list.cursor && !list.complete && page.nextCursor) {
    list.cursor = page.nextCursor;
    list.more.hidden = false;
  }
  reorder(list);
  updateEmpty(list);
}

/** Puts the rows in the server's order, keeping the focus where it was. */
function reorder(list) {
  const rows = [...list.rows.values()].sort((a, b) => compare(a.session, b.session));
  const current = [...list.tbody.children];
  if (rows.every((row, i) => current[i] === row)) return;
  const focused = document.activeElement;
  list.tbody.append(...rows);
  if (focused && focused !== document.activeElement && focused.isConnected) {
    focused.focus({ preventScroll: true });
  }
}

async function endSession(ctx, list, row) {
  const name = row.session.title || 'Untitled session';
  const yes = await confirmDialog(ctx, { id: 'confirm-end', title: 'End this session?',
    text: 'Ending "' + name + '" stops a run in progress and removes its workspace. Its history stays readable.',
    yes: 'End session' });
  if (!yes || ctx.signal.aborted) return; // closed because the user left: nothing to do
  try {
    await del('/api/sessions/' + seg(row.session.id));
  } catch (error) {
    say(list.status, 'Could not end the session: ' + words(error), 'error');
    return;
  }
  say(list.status, 'Session "' + name + '" ended.');
  try {
    // The row shows the ended state as the server has it (its last activity moved).
    updateRow(row, await get('/api/sessions/' + seg(row.session.id), { signal: ctx.signal }));
    row.parts.title.focus();
    reorder(list);
  } catch (error) {
    if (error.name !== 'AbortError') {
      say(list.status, 'Session "' + name + '" ended; the list could not be updated: ' + words(error), 'error');
    }
  }
}

function newSessionForm(ctx, key, base) {
  const title = h('input', { id: 'session-title', name: 'title', maxlength: '200' });
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Start session' });
  const status = statusLine('new-session-status');
  const form = h('form', { id: 'new-session', class: 'inline-form', 'aria-labelledby': 'new-session-heading' },
    h('h2', { id: 'new-session-heading', text: 'New session' }),
    field('Title (optional)', title, 'At most 200 characters.'), h('p', { class: 'actions' }, submit), status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    say(status, '');
    try {
      const session = await post(base + '/sessions', { title: title.value.trim() || null });
      if (ctx.signal.aborted) return; // the user went elsewhere meanwhile: stay there
      ctx.shell.navigate('/p/' + seg(key) + '/s/' + seg(session.id));
    } catch (error) {
      say(status, 'Could not start a session: ' + words(error), 'error');
      submit.disabled = false;
      title.focus();
    }
  });
  return form;
}
