// The live stream of a session: fetch + a streaming Server-Sent Events parser instead of
// EventSource, because EventSource gives up for good on any non-200 answer (a 503 from a
// proxy, a restart) and cannot set headers. This one never gives up: it reconnects with
// exponential backoff and full jitter (1 s → 30 s, reset once a connection delivers
// something), resuming with Last-Event-ID, and stops only when the server says there is
// nothing more (204), that the session is gone (404) or that the user is logged out (401).

const MIN_DELAY = 1000;
const MAX_DELAY = 30000;
/** Without even a `: ping` (sent every 15 s) for this long, the connection is dead. */
const SILENCE_LIMIT = 45000;
/** Failed attempts after which the header says "Offline" rather than "Reconnecting". */
const OFFLINE_AFTER = 4;

/**
 * follow({url, cursor, onEvent, onStatus, onEnd, signal}):
 * - `cursor()` → the last seq rendered (sent as Last-Event-ID on every (re)connect);
 * - `onEvent({id, type, data})` may be async: the next event waits for it (gap filling);
 *   when it throws, the connection is dropped and resumed from `cursor()`;
 * - `onStatus(state, seconds)` with state 'connecting' | 'live' | 'reconnecting' | 'offline';
 * - `onEnd(reason)` with 'complete' (204), 'not-found' (404), 'unauthenticated' (401).
 * Returns {reconnectNow()}.
 */
export function follow({ url, cursor, onEvent, onStatus, onEnd, signal }) {
  let failures = 0;
  let wake = null; // resolves the current backoff wait early
  let countdown = null;

  const reconnectNow = () => {
    if (wake) wake();
  };
  let current = null; // the open connection's AbortController
  const online = () => reconnectNow();
  // A lost network does not always break an open response at once: drop it, so the header
  // says so now rather than after the silence limit.
  const offline = () => current && current.abort();
  window.addEventListener('online', online);
  window.addEventListener('offline', offline);
  signal.addEventListener('abort', () => {
    window.removeEventListener('online', online);
    window.removeEventListener('offline', offline);
    clearInterval(countdown);
    reconnectNow();
  });

  async function run() {
    while (!signal.aborted) {
      onStatus(failures === 0 ? 'connecting' : 'reconnecting', 0);
      const outcome = await connect();
      if (signal.aborted) return;
      if (outcome.end) {
        onEnd(outcome.end);
        return;
      }
      if (outcome.delivered) failures = 0;
      failures += 1;
      await backoff();
    }
  }

  /** One connection: resolves {end} for a final answer, else {delivered} once it broke. */
  async function connect() {
    const controller = new AbortController();
    current = controller;
    const stop = () => controller.abort();
    signal.addEventListener('abort', stop);
    let silence = setTimeout(stop, SILENCE_LIMIT);
    const alive = () => {
      clearTimeout(silence);
      silence = setTimeout(stop, SILENCE_LIMIT);
    };
    let delivered = false;
    try {
      const headers = { Accept: 'text/event-stream' };
      const last = cursor();
      if (last > 0) headers['Last-Event-ID'] = String(last);
      const response = await fetch(url, { headers, credentials: 'same-origin', signal: controller.signal,
        cache: 'no-store' });
      if (response.status === 204) return { end: 'complete' };
      if (response.status === 404) return { end: 'not-found' };
      if (response.status === 401) return { end: 'unauthenticated' };
      if (response.status !== 200 || !response.body) {
        response.body?.cancel().catch(() => {});
        return { delivered };
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = sseParser();
      // Live as soon as the server accepted; but only an event or a heartbeat proves the
      // connection works (a busy database answers 200 with a `retry:` and ends at once).
      markLive();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        alive();
        for (const message of parser(value)) {
          if (message.comment !== undefined) {
            // The heartbeat: the connection works even when nothing happens.
            if (message.comment.trim() === 'ping') delivered = true;
            continue;
          }
          delivered = true;
          let data = null;
          try {
            data = message.data ? JSON.parse(message.data) : null;
          } catch {
            continue;
          }
          await onEvent({ id: message.id, type: message.type, data });
          if (signal.aborted) return { delivered };
        }
      }
    } catch (error) {
      // Network error, silence, or a failed gap fill: reconnect.
      if (error && error.name !== 'AbortError' && !(error instanceof TypeError)) {
        console.warn('stream:', error);
      }
    } finally {
      clearTimeout(silence);
      signal.removeEventListener('abort', stop);
      controller.abort();
    }
    return { delivered };
  }

  function markLive() {
    onStatus('live', 0);
  }

  /** Waits min(30 s, 1 s · 2^(failures-1)) · random() (full jitter), counting down. */
  function backoff() {
    const cap = Math.min(MAX_DELAY, MIN_DELAY * 2 ** Math.max(0, failures - 1));
    const delay = Math.max(250, Math.random() * cap);
    const until = Date.now() + delay;
    const state = () => (failures >= OFFLINE_AFTER || !navigator.onLine ? 'offline' : 'reconnecting');
    const tick = () => onStatus(state(), Math.max(1, Math.ceil((until - Date.now()) / 1000)));
    tick();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        clearInterval(countdown);
        wake = null;
        resolve();
      };
      const timer = setTimeout(done, delay);
      countdown = setInterval(tick, 1000);
      wake = done;
    });
  }

  run();
  return { reconnectNow };
}

/**
 * A streaming text/event-stream parser: feed it chunks, get the complete messages
 * ({id, type, data} or {comment}) they finish. Lines end in \n, \r\n or \r.
 */
export function sseParser() {
  let buffer = '';
  let data = [];
  let type = '';
  let id = null;
  return (chunk) => {
    buffer += chunk;
    const messages = [];
    let start = 0;
    for (let i = 0; i < buffer.length; i++) {
      const c = buffer[i];
      if (c !== '\n' && c !== '\r') continue;
      if (c === '\r' && i + 1 === buffer.length) break; // maybe \r\n split across chunks
      const line = buffer.slice(start, i);
      if (c === '\r' && buffer[i + 1] === '\n') i++;
      start = i + 1;
      if (line === '') {
        if (data.length || type) messages.push({ id, type: type || 'message', data: data.join('\n') });
        data = [];
        type = '';
        continue;
      }
      if (line.startsWith(':')) {
        messages.push({ comment: line.slice(1) });
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'event') type = value;
      else if (field === 'id') id = value;
    }
    buffer = buffer.slice(start);
    return messages;
  };
}
