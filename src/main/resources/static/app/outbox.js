// The outbox: every message the user sends stays here, in localStorage (per session, so it
// survives a reload or a crash of the tab), with its own Idempotency-Key until the server has
// accepted it. Retries reuse the key, so the server's idempotency turns a repeat into the
// first answer: nothing is lost and nothing is sent twice.
import { post, ApiError, NetworkError } from './api.js';

const MIN_DELAY = 1000;
const MAX_DELAY = 30000;

/**
 * createOutbox({sessionId, onChange(items), onBusy(item, error), signal})
 * Items: {key, text, state: 'sending'|'failed'|'busy', status, auto (retried by itself)}.
 */
export function createOutbox({ sessionId, onChange, onBusy, onForbidden, signal }) {
  const storageKey = 'collab.outbox.' + sessionId;
  let items = load();
  const timers = new Map();
  const attempts = new Map();
  const inFlight = new Set();

  function load() {
    try {
      const saved = JSON.parse(localStorage.getItem(storageKey) || '[]');
      return Array.isArray(saved) ? saved.filter((i) => i && typeof i.key === 'string' && typeof i.text === 'string') : [];
    } catch {
      return [];
    }
  }

  function save() {
    try {
      if (items.length) localStorage.setItem(storageKey, JSON.stringify(items));
      else localStorage.removeItem(storageKey);
    } catch {
      // Storage full or disabled: the outbox still works for this page.
    }
    onChange(items);
  }

  function update(item, changes) {
    Object.assign(item, changes);
    save();
  }

  function remove(item) {
    clearTimeout(timers.get(item.key));
    timers.delete(item.key);
    attempts.delete(item.key);
    items = items.filter((i) => i !== item);
    save();
  }

  /** Queues a new message and sends it. */
  function send(text) {
    const item = { key: crypto.randomUUID(), text, state: 'sending', status: 'Sending…', auto: true };
    items.push(item);
    save();
    deliver(item);
  }

  async function deliver(item) {
    if (inFlight.has(item.key) || signal.aborted) return;
    clearTimeout(timers.get(item.key));
    inFlight.add(item.key);
    update(item, { state: 'sending', status: 'Sending…' });
    try {
      await post('/api/sessions/' + encodeURIComponent(sessionId) + '/messages', { text: item.text },
        { headers: { 'Idempotency-Key': item.key } });
      inFlight.delete(item.key);
      remove(item);
    } catch (error) {
      inFlight.delete(item.key);
      if (signal.aborted || !items.includes(item)) return;
      failed(item, error);
    }
  }

  function failed(item, error) {
    const transient = error instanceof NetworkError
      || (error instanceof ApiError && (error.status >= 500 || error.status === 429 || error.status === 408));
    if (transient) {
      const n = (attempts.get(item.key) || 0) + 1;
      attempts.set(item.key, n);
      const delay = Math.max(500, Math.random() * Math.min(MAX_DELAY, MIN_DELAY * 2 ** (n - 1)));
      update(item, { state: 'failed', auto: true,
        status: 'Not sent yet (' + (error instanceof NetworkError ? 'no connection' : 'server busy')
          + ') — retrying automatically' });
      timers.set(item.key, setTimeout(() => deliver(item), delay));
      return;
    }
    if (error instanceof ApiError && error.status === 409 && error.code === 'session-busy') {
      update(item, { state: 'busy', auto: false, status: 'Not sent: the agent is busy. Retry when it is done.' });
      onBusy(item, error);
      return;
    }
    if (error instanceof ApiError && error.status === 401) {
      // The login page comes next (api.js); the item stays here for after the login.
      update(item, { state: 'failed', auto: true, status: 'Not sent: you are logged out.' });
      return;
    }
    if (error instanceof ApiError && error.status === 403) onForbidden(error);
    const why = error instanceof ApiError ? error.message : String(error && error.message);
    update(item, { state: 'failed', auto: false, status: 'Not sent: ' + why });
  }

  /** Retries what retries by itself now (the stream is live again, the browser online). */
  function retryPending() {
    for (const item of items) {
      if (item.auto && item.state !== 'busy') deliver(item);
    }
  }

  signal.addEventListener('abort', () => {
    for (const timer of timers.values()) clearTimeout(timer);
  });

  return {
    get items() {
      return items;
    },
    send,
    retry: (item) => {
      attempts.delete(item.key);
      deliver(item);
    },
    discard: remove,
    retryPending,
    /** Re-sends what was left over from an earlier page (same keys). */
    resume: () => {
      onChange(items);
      retryPending();
    },
  };
}
