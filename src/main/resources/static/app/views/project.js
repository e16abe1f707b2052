// /p/{key}: a project's sessions, newest activity first, with the state filter (?state=, so
// back/forward and reload keep it), "load more" (keyset cursor), creating a session, and
// ending one (project admins). The list is live (issue 16): the project's list stream
// (GET …/sessions/stream) sends a snapshot of the first page, then the sessions that changed;
// rows are upserted and re-sorted (newest activity first), with who is here, queue length and
// unread count per row.
import { get, post, del } from '../api.js';
import { h, field, link, seg, time, replace } from '../dom.js';
import { statusLine, say, confirmDialog, words } from '../forms.js';
import { follow } from '../stream.js';

/** Sessions per page ("load more" fetches the next one). */
export const PAGE = 20;
const STATES = ['IDLE', 'RUNNING', 'ENDED'];
/** How long the first page waits for the list stream's snapshot before asking the GET list. */
const FIRST_PAGE_WAIT = 3000;

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
      h('th', { scope: 'col', text: 'Last activity' }), h('th', { scope: 'col', text: 'Here now' }), canEnd ? h('th', { scope: 'col', text: 'Actions' }) : null)),
    tbody);
  const empty = h('p', { id: 'sessions-empty', class: 'muted', hidden: true });
  const more = h('button', { type: 'button', id: 'load-more', hidden: true, text: 'Load more' });
  ctx.root.append(h('h2', { id: 'sessions-heading', text: 'Sessions' }),
    h('div', { class: 'toolbar' }, field('Show', filter)),
    h('div', { class: 'table-wrap' }, table), empty, h('p', { class: 'actions' }, more), status);

  const list = { key, name: info.name, tbody, canEnd, state, cursor: null, complete: false, rows: new Map(), status,
    empty, more, shown: false, stopRefresh: () => {} };
  const query = (cursor) => base + '/sessions?limit=' + PAGE + (list.state ? '&state=' + list.state : '')
    + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');

  list.firstPage = () => query(null);

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
  // The first page comes with the list stream's snapshot (no GET of its own); the GET list
  // only when the stream does not deliver one soon (startLive says when).
  await startLive(ctx, list, base);
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
  if (!append) {
    list.shown = true;
    updateEmpty(list);
  }
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
  const unread = h('span', { class: 'unread' });
  const badge = h('span', { class: 'badge' });
  const queued = h('span', { class: 'queued' });
  const when = h('td', { class: 'last-activity' });
  const here = h('td', { class: 'here' });
  const row = h('tr', { class: 'session-row', dataset: { id: session.id } },
    h('td', { class: 'title' }, title, ' ', unread), h('td', { class: 'state' }, badge, ' ', queued), when, here,
    list.canEnd ? h('td', {}, h('div', { class: 'row-actions' })) : null);
  row.session = session;
  row.parts = { title, unread, badge, queued, when, here, actions: row.querySelector('.row-actions') };
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
  // The fields of issue 16 (absent from an older server's JSON: nothing is shown).
  const unread = Number(session.unread) || 0;
  const unreadText = unread > 0 ? (unread > 99 ? '99+' : String(unread)) + ' unread' : '';
  if (row.parts.unread.textContent !== unreadText) row.parts.unread.textContent = unreadText;
  row.parts.unread.className = unread > 0 ? 'unread badge' : 'unread';
  row.dataset.unread = String(unread);
  const queueLength = Number(session.queueLength) || 0;
  const queuedText = queueLength > 0 ? queueLength + ' queued' : '';
  if (row.parts.queued.textContent !== queuedText) row.parts.queued.textContent = queuedText;
  row.dataset.queued = String(queueLength);
  showHere(row.parts.here, session.presence);
}

/** The initials of a person (at most two letters), for the row's avatars. */
export function initials(watcher) {
  const name = String(watcher.displayName || watcher.login || '?').trim();
  // By code point, not UTF-16 unit: a name starting with an emoji keeps it whole.
  const parts = name.split(/[\s._-]+/).filter(Boolean).map((part) => Array.from(part));
  const letters = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : Array.from(name).slice(0, 2).join('');
  return letters.toUpperCase();
}

/** "Ana is here", "Ana and Bo are here", "Ana and 2 others are here". */
export function hereWords(presence) {
  const count = Number(presence && presence.count) || 0;
  const watchers = (presence && Array.isArray(presence.watchers)) ? presence.watchers : [];
  if (count <= 0) return '';
  const first = watchers.length ? String(watchers[0].displayName || watchers[0].login) : 'Someone';
  if (count === 1) return first + ' is here';
  if (count === 2 && watchers.length >= 2) return first + ' and ' + String(watchers[1].displayName || watchers[1].login) + ' are here';
  return first + ' and ' + (count - 1) + (count === 2 ? ' other are here' : ' others are here');
}

/** Who is here: initials of up to 3 people, "+n" for the rest; the words for screen readers. */
function showHere(cell, presence) {
  const said = hereWords(presence);
  if (cell.dataset.said === said) return;
  cell.dataset.said = said;
  cell.dataset.count = String(Number(presence && presence.count) || 0);
  if (!said) {
    cell.replaceChildren();
    return;
  }
  const watchers = presence.watchers || [];
  const shown = watchers.slice(0, 3);
  const rest = presence.count - shown.length;
  cell.replaceChildren(h('span', { class: 'visually-hidden', text: said }),
    h('span', { class: 'avatars', 'aria-hidden': 'true', title: said },
      shown.map((w) => h('span', { class: 'avatar' + (w.state === 'idle' ? ' idle' : ''), text: initials(w) })),
      rest > 0 ? h('span', { class: 'more-here', text: '+' + rest }) : null));
}

/** Newest activity first, ties by id descending (the server's order). */
function compare(a, b) {
  const byTime = Date.parse(b.lastActivityAt) - Date.parse(a.lastActivityAt);
  if (byTime !== 0) return byTime;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * Follows the project's list stream (stream.js: reconnects with backoff and resumes with
 * Last-Event-ID, like EventSource, but also after a 503 or a restart). The snapshot is merged
 * like a fresh first page; `sessions` (and presence-only `presence`) messages are upserted and
 * the rows re-sorted. The stream has no state filter: with one set, the snapshot's page is asked
 * with the filter instead, and changed sessions that no longer match leave the list. A 404 means
 * the user lost access, which no retry fixes: the list goes and the page says so. A stream is
 * authorised when it opens, so access is also checked again when the tab comes back into view.
 * A lost connection is said in words once (the status line is a live region), not at every
 * attempt; the header shows the connection as on a session's page.
 */
function startLive(ctx, list, base) {
  let version = 0;
  const controller = new AbortController();
  const signal = AbortSignal.any([ctx.signal, controller.signal]);
  // Resolved once the first page is shown: from the stream's snapshot, or from the GET list
  // when the stream has none within FIRST_PAGE_WAIT (a proxy that buffers, an older server)
  // or fails first. Rejected (the view's error) only when that GET fails too.
  let firstShown;
  let firstFailed;
  const first = new Promise((resolve, reject) => {
    firstShown = resolve;
    firstFailed = reject;
  });
  let fallingBack = false;
  const fallback = async () => {
    clearTimeout(waiting);
    if (list.shown || fallingBack) return;
    fallingBack = true;
    try {
      const page = await get(list.firstPage(), { signal: ctx.signal });
      if (!list.shown) showPage(ctx, list, page, false);
      firstShown();
    } catch (error) {
      if (list.shown) {
        firstShown();
      } else {
        // The view fails as the GET did before there was a stream: no stream goes on behind it.
        list.stopRefresh();
        firstFailed(error);
      }
    }
  };
  const waiting = setTimeout(fallback, FIRST_PAGE_WAIT);
  // Left before it came: the view ends as an aborted GET would have ended it.
  ctx.signal.addEventListener('abort', () => firstFailed(new DOMException('Left the view', 'AbortError')),
    { once: true });
  const onVisible = async () => {
    if (document.visibilityState !== 'visible' || signal.aborted) return;
    try {
      await get(base, { signal });
    } catch (error) {
      if (error.status === 404 || error.status === 403) lostAccess(ctx, list);
    }
  };
  document.addEventListener('visibilitychange', onVisible);
  list.stopRefresh = () => {
    controller.abort();
    document.removeEventListener('visibilitychange', onVisible);
    ctx.shell.setConnection('', '');
  };
  const onEvent = async ({ id, type, data }) => {
    if (id) version = id;
    if (!data) return;
    if (type === 'snapshot') {
      const asked = list.state;
      const page = asked ? await get(list.firstPage(), { signal: ctx.signal }) : data;
      if (asked === list.state && Array.isArray(page.items)) {
        if (list.shown) merge(ctx, list, page);
        else showPage(ctx, list, page, false);
      }
      if (list.shown) {
        clearTimeout(waiting);
        firstShown();
      }
      list.tbody.closest('table').dataset.live = 'yes';
    } else if ((type === 'sessions' || type === 'presence') && Array.isArray(data.items)) {
      upsert(ctx, list, data.items);
    } else if (type === 'presence' && data.sessionId && list.rows.has(data.sessionId)) {
      const row = list.rows.get(data.sessionId);
      updateRow(row, { ...row.session, presence: { count: data.count, watchers: data.watchers || [] } });
    }
  };
  follow({ url: base + '/sessions/stream?limit=' + PAGE, cursor: () => version, onEvent,
    onStatus: (state, seconds) => {
      if (signal.aborted) return;
      list.tbody.closest('table').dataset.stream = state;
      if (state === 'live') {
        ctx.shell.setConnection('live', 'Live');
        if (list.status.dataset.poll) {
          delete list.status.dataset.poll;
          say(list.status, '');
        }
        return;
      }
      ctx.shell.setConnection(state === 'offline' ? 'offline' : 'reconnecting', state === 'connecting' ? 'Connecting…'
        : (state === 'offline' ? 'Offline — retrying' : 'Reconnecting') + (seconds ? ' in ' + seconds + ' s' : '…'));
      if (state !== 'connecting') fallback();
      if (state !== 'connecting' && !list.status.dataset.poll) {
        say(list.status, 'Could not refresh the list: the connection to the server was lost. Retrying…', 'error');
        list.status.dataset.poll = 'yes';
      }
    },
    onEnd: async (reason) => {
      if (!list.shown) await fallback();
      if (reason === 'unauthenticated') {
        get('/api/me').catch(() => {});
        return;
      }
      if (reason !== 'not-found') return;
      // The list stream's 404 is a non-member's; a server without the list stream (an older
      // version behind a rolling deploy) answers 404 too, while the project still answers.
      try {
        await get(base, { signal });
        ctx.shell.setConnection('', '');
        say(list.status, 'This list does not update by itself on this server: reload the page to see changes.');
      } catch (error) {
        if (error.name !== 'AbortError') lostAccess(ctx, list);
      }
    },
    signal });
  ctx.onLeave(list.stopRefresh);
  ctx.onLeave(() => clearTimeout(waiting));
  return first;
}

/** Changed sessions: known rows change in place, new ones appear, and the order is the server's. */
function upsert(ctx, list, items) {
  const rows = [...list.rows.values()];
  for (const session of items) {
    if (!session || !session.id) continue;
    const known = list.rows.get(session.id);
    const matches = !list.state || session.state === list.state;
    if (known && !matches) {
      leave(list, session.id, known);
    } else if (known) {
      updateRow(known, session);
    } else if (matches) {
      // Below the loaded pages it would be out of place: "load more" brings it in order.
      const last = rows.length ? rows.reduce((a, b) => (compare(a.session, b.session) > 0 ? a : b)) : null;
      if (!list.complete && last && compare(session, last.session) > 0) continue;
      const row = sessionRow(ctx, list, session);
      list.rows.set(session.id, row);
      list.tbody.append(row);
    }
  }
  reorder(list);
  updateEmpty(list);
}

/** A row goes (it left the filter); a focus inside it goes to the status line first. */
function leave(list, id, row) {
  if (row.contains(document.activeElement)) {
    // Said first: an empty status line is not displayed, so it could not take the focus.
    say(list.status, 'Session "' + (row.session.title || 'Untitled session') + '" left this list.');
    list.status.tabIndex = -1;
    list.status.focus({ preventScroll: true });
  }
  row.remove();
  list.rows.delete(id);
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
    if (!fresh.has(id) && shouldBeThere) leave(list, id, row);
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
