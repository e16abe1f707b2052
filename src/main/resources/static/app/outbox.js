// The outbox: every message the user sends stays here, in localStorage (so it survives a
// reload or a crash of the tab), with its own Idempotency-Key until the server has accepted it.
// Retries reuse the key, so the server's idempotency turns a repeat into the first answer:
// nothing is lost and nothing is sent twice.
//
// Bound to the user: each item is one localStorage entry, collab.outbox.<userId>.<sessionId>.<key>,
// and carries its owner; an item of another user is never shown or sent (and main.js removes
// every collab.outbox.* entry on logout). One entry per item, added and removed singly, so two
// tabs never overwrite each other's items; the `storage` event shows this tab the other's items
// and, if the other tab does not deliver them (it was closed), sends them a little later:
// sending the same key from two tabs is harmless, the server replays the first answer.
//
// Bound in time: the server keeps Idempotency-Keys at least 24 hours (docs/api.md). An item is
// sent by itself only while it is young (AUTO_AGE); older ones wait for "Send now" (same key,
// still known to the server); after KEY_AGE the key may be gone, so the item is never sent:
// it is shown as expired, for the user to copy.
import { get, post, ApiError, NetworkError } from './api.js';

const MIN_DELAY = 1000;
const MAX_DELAY = 30000;
/** Items younger than this are sent (and retried) without asking. */
export const AUTO_AGE = 60 * 60 * 1000;
/** The server's Idempotency-Key retention (24 h): older keys may be forgotten. */
export const KEY_AGE = 24 * 60 * 60 * 1000;
/** How long another tab's new item is left to that tab before this one sends it too. */
const FOREIGN_DELAY = 15000;
/** How often ages are judged again (a tab left open for hours). */
const AGE_CHECK = 60000;
const PREFIX = 'collab.outbox.';
/** The id of the user this browser is logged in as (main.js), shared by all its tabs. */
const USER = 'collab.user';

/**
 * Records who is logged in (null: nobody), for every tab: a tab whose user changed must not
 * deliver its items with the new user's cookie.
 */
export function setCurrentUser(id) {
  try {
    if (id) localStorage.setItem(USER, String(id));
    else localStorage.removeItem(USER);
  } catch {
    // Storage disabled: each tab checks its own user only.
  }
}

/** The user id recorded by setCurrentUser (null: nobody), or undefined without storage. */
export function currentUser() {
  try {
    return localStorage.getItem(USER);
  } catch {
    return undefined;
  }
}

/**
 * The takeover delay, which a test may set on the page (data-outbox-foreign-delay, in ms) to
 * make two tabs' order deterministic.
 */
function foreignDelay() {
  const set = Number(document.documentElement.dataset.outboxForeignDelay);
  return set >= 0 ? set : FOREIGN_DELAY + Math.random() * 5000;
}

/** Removes every outbox entry (all users, all sessions): called on logout. */
export function clearAllOutboxes() {
  try {
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const name = localStorage.key(i);
      if (name && name.startsWith(PREFIX)) localStorage.removeItem(name);
    }
  } catch {
    // Storage disabled: nothing was kept.
  }
}

/**
 * createOutbox({sessionId, owner, isOwner(), onChange(items), onBusy(item, error), onForbidden(error), onSent(item, answer), signal})
 * isOwner() says whether this view's user is still `owner` (checked before every delivery);
 * onSent gets the server's answer to a delivered item (`queued: true` and `position` when the
 * session's queue took it, issue 16).
 * Items: {key, text, createdAt, owner, auto, state: 'sending'|'failed'|'busy'|'held'|'expired', status}.
 * `auto` (stored) says whether the item is retried by itself; state and status are this tab's.
 */
export function createOutbox({ sessionId, owner, isOwner, onChange, onBusy, onForbidden, onSent = () => {}, signal }) {
  const prefix = PREFIX + owner + '.' + sessionId + '.';
  /** @type {Map<string, object>} by Idempotency-Key, in the order they were added */
  const items = new Map();
  const timers = new Map();
  const attempts = new Map();
  const inFlight = new Set();
  const csrfRetried = new Set();
  /** Keys whose entry could not be written (storage full or disabled): this page is their only copy. */
  const unsaved = new Set();

  // ---- storage: one entry per item ----
  function parse(name, value) {
    if (!name || !name.startsWith(prefix) || !value) return null;
    try {
      const saved = JSON.parse(value);
      if (!saved || typeof saved.key !== 'string' || typeof saved.text !== 'string'
        || saved.owner !== owner || prefix + saved.key !== name) {
        return null;
      }
      return saved;
    } catch {
      return null;
    }
  }

  function store(item) {
    try {
      localStorage.setItem(prefix + item.key, JSON.stringify({ key: item.key, text: item.text,
        createdAt: item.createdAt, owner, auto: item.auto }));
      unsaved.delete(item.key);
    } catch {
      // Storage full or disabled: the outbox still works for this page.
      unsaved.add(item.key);
    }
  }

  function unstore(key) {
    try {
      localStorage.removeItem(prefix + key);
    } catch {
      // as above
    }
  }

  /** The item's entry as stored now (null: gone), or undefined when it cannot be read. */
  function storedItem(key) {
    if (unsaved.has(key)) return undefined;
    try {
      return parse(prefix + key, localStorage.getItem(prefix + key));
    } catch {
      return undefined;
    }
  }

  function stored() {
    const found = [];
    try {
      for (let i = 0; i < localStorage.length; i++) {
        const name = localStorage.key(i);
        const saved = parse(name, name && name.startsWith(prefix) ? localStorage.getItem(name) : null);
        if (saved) found.push(saved);
      }
    } catch {
      // Storage disabled: nothing to resume.
    }
    return found.sort((a, b) => (a.createdAt || 0) - (b.createdAt || 0));
  }

  /** Said of an item whose entry could not be written: closing the tab would lose it. */
  const UNSAVED = 'Not saved in this browser — keep this tab open until it is sent.';

  function changed() {
    for (const key of unsaved) {
      const item = items.get(key);
      if (item && item.status && !item.status.endsWith(UNSAVED)) item.status += ' ' + UNSAVED;
    }
    onChange([...items.values()]);
  }

  function update(item, changes) {
    const wasAuto = item.auto;
    Object.assign(item, changes);
    if (item.auto !== wasAuto && items.has(item.key)) store(item);
    changed();
  }

  function forget(key) {
    clearTimeout(timers.get(key));
    timers.delete(key);
    attempts.delete(key);
    csrfRetried.delete(key);
    unsaved.delete(key);
    items.delete(key);
  }

  function remove(item) {
    forget(item.key);
    unstore(item.key);
    changed();
  }

  // ---- age ----
  function age(item) {
    return Date.now() - (Number(item.createdAt) || 0);
  }

  function when(item) {
    const at = new Date(Number(item.createdAt) || 0);
    return at.toLocaleString();
  }

  /** Sets an item taken from storage (an earlier page, another tab) to what its age allows. */
  function adopt(saved, { foreign }) {
    const item = { key: saved.key, text: saved.text, createdAt: Number(saved.createdAt) || 0, owner, auto: saved.auto !== false };
    items.set(item.key, item);
    if (settle(item)) {
      // already set: old, or stopped
    } else if (foreign) {
      // Another tab is sending it; if that tab is gone, this one does.
      item.state = 'failed';
      item.status = 'Being sent from another tab…';
      timers.set(item.key, setTimeout(() => deliver(item), foreignDelay()));
    } else {
      item.state = 'failed';
      item.status = 'Not sent yet — sending again…';
    }
    return item;
  }

  /**
   * Sets an item that must not be sent by itself to what it shows (expired, held, or stopped),
   * cancelling its timer; false if it may still be sent by itself. Used when an item is taken,
   * before every delivery, on a change from another tab and every AGE_CHECK.
   */
  function settle(item) {
    const old = age(item);
    if (old < AUTO_AGE && item.auto) return false;
    clearTimeout(timers.get(item.key));
    timers.delete(item.key);
    let state;
    let status;
    if (old >= KEY_AGE) {
      // The server may have forgotten the key: a send could deliver the message a second time.
      state = 'expired';
      status = 'Expired — not sent again (written ' + when(item) + '): it may or may not have arrived. '
        + 'Check the timeline; if it is not there, copy your text and send it again.';
    } else if (old >= AUTO_AGE) {
      state = 'held';
      status = 'Not sent (written ' + when(item) + ') — send it now or discard it.';
    } else {
      // Stopped: a busy or failed item keeps the reason it shows.
      if (item.state === 'busy' || (item.state === 'failed' && item.status && item.status.startsWith('Not sent:'))) return true;
      state = 'failed';
      status = 'Not sent — retry or discard it.';
    }
    item.auto = false;
    if (item.state !== state || item.status !== status) Object.assign(item, { state, status });
    return true;
  }

  // ---- sending ----
  /** Queues a new message and sends it. */
  function send(text) {
    const item = { key: crypto.randomUUID(), text, createdAt: Date.now(), owner, auto: true,
      state: 'sending', status: 'Sending…' };
    items.set(item.key, item);
    store(item);
    changed();
    deliver(item);
  }

  /**
   * Sends the item. Only the user's Retry / Send now (manual) sends an item that is not sent by
   * itself; a timer, a takeover or a reconnect first reads the item's stored entry, which other
   * tabs share: delivered or discarded there, or stopped there (busy, failed for good), it is
   * not sent. Whatever the caller, an item past the key retention is never sent, and nothing is
   * sent unless the logged-in user is still the item's owner.
   */
  async function deliver(item, { manual = false } = {}) {
    if (inFlight.has(item.key) || signal.aborted || !items.has(item.key)) return;
    clearTimeout(timers.get(item.key));
    timers.delete(item.key);
    if (age(item) >= KEY_AGE) {
      item.auto = false;
      settle(item);
      changed();
      return;
    }
    if (!manual) {
      const saved = storedItem(item.key);
      if (saved === null) {
        forget(item.key);
        changed();
        return;
      }
      if (saved && saved.auto === false) item.auto = false;
      if (!item.auto || age(item) >= AUTO_AGE) {
        item.auto = false;
        settle(item);
        changed();
        return;
      }
    }
    if (!stillOwner()) {
      held(item);
      return;
    }
    inFlight.add(item.key);
    update(item, { state: 'sending', status: 'Sending…' });
    try {
      const answer = await post('/api/sessions/' + encodeURIComponent(sessionId) + '/messages', { text: item.text },
        { headers: { 'Idempotency-Key': item.key } });
      inFlight.delete(item.key);
      if (items.has(item.key)) remove(item);
      else unstore(item.key);
      if (!signal.aborted) onSent(item, answer || {});
    } catch (error) {
      inFlight.delete(item.key);
      if (signal.aborted || !items.has(item.key)) return;
      failed(item, error, manual);
    }
  }

  /** True if the user logged in now (this view's and the browser's) is the item's owner. */
  function stillOwner() {
    const user = currentUser();
    return isOwner() && (user === undefined || user === owner);
  }

  /** Another user is logged in: the item stays, for its owner, and is not sent. */
  function held(item) {
    update(item, { state: 'held', status: 'Not sent: logged in as someone else. It is kept for its author.' });
  }

  function failed(item, error, manual) {
    const transient = error instanceof NetworkError
      || (error instanceof ApiError && (error.status >= 500 || error.status === 429 || error.status === 408));
    if (transient && age(item) < AUTO_AGE) {
      const n = (attempts.get(item.key) || 0) + 1;
      attempts.set(item.key, n);
      const after = error instanceof ApiError ? Number(error.headers && error.headers.get('Retry-After')) : 0;
      const delay = Math.max(500, after > 0 ? after * 1000 : 0,
        Math.random() * Math.min(MAX_DELAY, MIN_DELAY * 2 ** (n - 1)));
      update(item, { state: 'failed', auto: true,
        status: 'Not sent yet (' + (error instanceof NetworkError ? 'no connection' : 'server busy')
          + ') — retrying automatically' });
      // A retry by timer reads the stored entry first, like any automatic send (auto is true now).
      timers.set(item.key, setTimeout(() => deliver(item), delay));
      return;
    }
    if (error instanceof ApiError && error.status === 409 && error.code === 'session-busy') {
      update(item, { state: 'busy', auto: false, status: 'Not sent: the agent is busy. Retry when it is done.' });
      onBusy(item, error);
      return;
    }
    if (error instanceof ApiError && error.status === 401) {
      // The login page comes next (api.js); the item stays, bound to this user, for after the login.
      update(item, { state: 'failed', auto: true, status: 'Not sent: you are logged out.' });
      return;
    }
    if (error instanceof ApiError && error.status === 403 && error.code === 'csrf-failed' && !csrfRetried.has(item.key)) {
      // The XSRF cookie rotated (a login in another tab): GET /api/me sets a fresh one; retry once.
      csrfRetried.add(item.key);
      update(item, { state: 'failed', status: 'Not sent yet — retrying…' });
      // Only if that user is still the item's owner: the login may have been another user's.
      get('/api/me', { signal }).then((user) => {
        if (user && (user.id || user.login) === owner && stillOwner()) deliver(item, { manual });
        else held(item);
      }, (problem) => {
        if (problem instanceof ApiError && (problem.status === 401 || problem.status === 403)) held(item);
        else failed(item, problem, manual);
      });
      return;
    }
    if (error instanceof ApiError && error.status === 403 && error.code === 'forbidden') onForbidden(error);
    const why = error instanceof ApiError ? error.message : String(error && error.message);
    update(item, { state: 'failed', auto: false, status: 'Not sent: ' + why });
  }

  /** Retries what retries by itself now (the stream is live again, the browser online). */
  function retryPending() {
    for (const item of items.values()) {
      if (item.auto && item.state !== 'busy' && item.state !== 'expired' && age(item) < AUTO_AGE) deliver(item);
    }
  }

  // ---- other tabs ----
  function onStorage(event) {
    if (event.storageArea !== localStorage) return;
    if (event.key === null) {
      // localStorage.clear() (or a logout in another tab): nothing is kept any more.
      for (const key of [...items.keys()]) if (!inFlight.has(key)) forget(key);
      changed();
      return;
    }
    if (!event.key.startsWith(prefix)) return;
    const key = event.key.slice(prefix.length);
    const saved = parse(event.key, event.newValue);
    if (!saved) {
      // Delivered or discarded in another tab.
      if (items.has(key)) {
        forget(key);
        changed();
      }
      return;
    }
    const mine = items.get(key);
    if (mine) {
      // Stopped in the other tab (busy, failed for good): this tab's takeover is cancelled too.
      if (saved.auto === false && mine.auto && !inFlight.has(key)) {
        mine.auto = false;
        settle(mine);
        changed();
      } else if (saved.auto === false) {
        mine.auto = false;
      }
      return;
    }
    adopt(saved, { foreign: true });
    changed();
  }
  window.addEventListener('storage', onStorage);

  // Ages move on while the tab stays open: an item stops being sent by itself after AUTO_AGE
  // and is never sent after KEY_AGE.
  const ageCheck = setInterval(() => {
    let any = false;
    for (const item of items.values()) {
      if (inFlight.has(item.key) || item.state === 'expired') continue;
      if (age(item) >= KEY_AGE || (item.auto && age(item) >= AUTO_AGE)) {
        item.auto = false;
        settle(item);
        any = true;
      }
    }
    if (any) changed();
  }, AGE_CHECK);

  signal.addEventListener('abort', () => {
    window.removeEventListener('storage', onStorage);
    clearInterval(ageCheck);
    for (const timer of timers.values()) clearTimeout(timer);
  });

  return {
    get items() {
      return [...items.values()];
    },
    send,
    retry: (item) => {
      attempts.delete(item.key);
      csrfRetried.delete(item.key);
      deliver(item, { manual: true });
    },
    discard: remove,
    /** Changes an item's shown state (the view: a 409 that the stream has overtaken). */
    update,
    retryPending,
    /** Takes what was left over from an earlier page (same keys) and sends what is young enough. */
    resume: () => {
      for (const saved of stored()) if (!items.has(saved.key)) adopt(saved, { foreign: false });
      changed();
      retryPending();
    },
  };
}
