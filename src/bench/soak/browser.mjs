// A browser, as far as the browser app's own modules need one, so that the soak's clients run the
// app's reconnect and outbox code itself rather than a copy of its rules:
//   - stream.js (follow: reconnect with backoff and full jitter, Last-Event-ID, the silence limit,
//     the SSE parser) listens on `window` for 'online'/'offline' and reads `navigator.onLine`;
//   - outbox.js (Idempotency-Key per message, retried with the same key on a network error or a
//     5xx with its own backoff and Retry-After; busy stops it) keeps its items in `localStorage`
//     and listens on `window` for 'storage';
//   - api.js reads `document.cookie` for the XSRF token and calls `fetch` with relative paths.
// Here `window` is an EventTarget (a reconnect storm is an 'offline' then an 'online' event, which
// stream.js answers by dropping every connection and reconnecting at once), `localStorage` lives
// in memory, `document.cookie` is empty (the clients use a bearer token: no cookie, no XSRF), and
// `fetch` plays the network and the load balancer: a relative path goes to a random healthy
// instance, like an ALB; a stream's URL names its watcher (http://w<n>.soak/…), whose reconnect
// goes to another instance than its last connection; every request carries the token and is
// counted (outcomes, successes for the longest unavailability).
//
// The modules are loaded from a copy in the work directory (same bytes) with a package.json that
// makes them ES modules for every Node 20 (the app's directory has none).
import { setMaxListeners } from "node:events";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const realFetch = globalThis.fetch;

export class Browser {
  constructor({ instances, onAnswer, random }) {
    /** [{name, port, healthy}] (healthy: the load balancer's view, from readiness probes). */
    this.instances = instances;
    this.onAnswer = onAnswer;
    this.random = random;
    this.token = null;
    /** Watcher number → the instance of its last stream connection. */
    this.lastOf = new Map();
    /** Idempotency-Key → the problem code of its last non-2xx answer (the outbox keeps only text). */
    this.lastProblem = new Map();
    this.replayed = 0;
    /** Idempotency-Key → how long the POST took that was answered 202 (the ack's latency). */
    this.ackDurations = new Map();
  }

  /** Installs the globals; returns the app's modules {stream, outbox, api}. */
  async install(appDirectory, workDirectory) {
    const window = new EventTarget();
    setMaxListeners(0, window); // one 'online' and 'offline' listener per stream, like a browser's
    globalThis.window = window;
    if (!globalThis.navigator || globalThis.navigator.onLine === undefined) {
      Object.defineProperty(globalThis, "navigator", { value: { onLine: true }, configurable: true, writable: true });
    }
    const store = new Map();
    globalThis.localStorage = {
      get length() {
        return store.size;
      },
      key: (i) => [...store.keys()][i] ?? null,
      getItem: (k) => (store.has(k) ? store.get(k) : null),
      setItem: (k, value) => store.set(k, String(value)),
      removeItem: (k) => store.delete(k),
      clear: () => store.clear(),
    };
    globalThis.document = { cookie: "", documentElement: { dataset: {} } };
    globalThis.fetch = (input, init) => this.fetch(input, init);
    const copy = join(workDirectory, "app");
    mkdirSync(copy, { recursive: true });
    writeFileSync(join(copy, "package.json"), '{"type": "module"}\n');
    for (const file of ["api.js", "stream.js", "outbox.js"]) copyFileSync(join(appDirectory, file), join(copy, file));
    const load = (file) => import(pathToFileURL(join(copy, file)).href);
    return { api: await load("api.js"), stream: await load("stream.js"), outbox: await load("outbox.js") };
  }

  /** The load balancer: a random healthy instance (any, when none is), never `avoid` if it can. */
  pick(avoid) {
    const healthy = this.instances.filter((i) => i.healthy);
    let choices = healthy.length ? healthy : this.instances;
    if (avoid && choices.length > 1) choices = choices.filter((i) => i !== avoid);
    return choices[Math.floor(this.random() * choices.length)];
  }

  async fetch(input, init = {}) {
    const url = new URL(typeof input === "string" ? input : String(input.url ?? input), "http://lb.soak");
    const watcher = /^w(\d+)\.soak$/.exec(url.hostname);
    let instance;
    if (watcher) {
      const n = Number(watcher[1]);
      instance = this.pick(this.lastOf.get(n));
      this.lastOf.set(n, instance);
    } else {
      instance = this.pick(null);
    }
    const headers = new Headers(init.headers ?? {});
    if (this.token) headers.set("Authorization", `Bearer ${this.token}`);
    const method = (init.method ?? "GET").toUpperCase();
    const kind = watcher ? "stream" : method === "POST" && url.pathname.endsWith("/messages") ? "send" : "read";
    const started = Date.now();
    try {
      const response = await realFetch(`http://127.0.0.1:${instance.port}${url.pathname}${url.search}`, { ...init, headers });
      this.onAnswer({ instance, kind, status: response.status, started, at: Date.now() });
      if (kind === "send") {
        const key = headers.get("Idempotency-Key");
        if (response.headers.get("Idempotent-Replayed") === "true") this.replayed++;
        if (response.status === 202 && key) this.ackDurations.set(key, Date.now() - started);
        if (!response.ok && key) {
          response.clone().json().then((p) => this.lastProblem.set(key, p?.code ?? `http-${response.status}`),
            () => this.lastProblem.set(key, `http-${response.status}`));
        }
      }
      return response;
    } catch (error) {
      if (error?.name !== "AbortError") this.onAnswer({ instance, kind, status: "network", started, at: Date.now() });
      throw error;
    }
  }
}
