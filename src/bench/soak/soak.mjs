// The soak's driver (issue 17), started by src/bench/soak.sh once PostgreSQL runs; see that
// script for what the soak is. This process:
//   - starts the three server incarnations (start-instance.sh, one process group each) and
//     restarts them after a fault; knows each incarnation's pid, readiness and end;
//   - runs the clients: senders use the browser app's outbox (an Idempotency-Key per message,
//     retried with the same key until a 202) and retry what the outbox leaves to the user
//     (busy, other 4xx) with the same key; watchers use the app's stream module (Last-Event-ID,
//     backoff, reconnect storms through its 'offline'/'online' handling) and fill gaps from the
//     history; a load balancer spreads their requests over the healthy instances (browser.mjs);
//   - injects faults, seeded and logged: kill -9 and SIGTERM of an instance (and its restart), a
//     PostgreSQL restart (fast and immediate stop, then start), pg_terminate_backend of the
//     servers' connections, a reconnect storm, the sweeper on a random instance (with every live
//     workspace dated back past min-age, and orphans of ended sessions planted to be swept);
//   - measures the longest unavailability (no instance answered any request with a 2xx), samples
//     runs RUNNING past their lease, collects the sweeper's reports;
//   - lets the cluster settle, collects the history (what the clients were told and saw, the log
//     through the API and through psql, runs, workspaces, agents, ERROR lines), runs the checker
//     (check.mjs) and writes report.json and history.json into the work directory.
// Exit code 0 when the checker found no violation, 1 otherwise.
import { execFile, spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Browser } from "./browser.mjs";
import { check, dedupeSweeps, digestStep, DIGEST_START, FAULT_KINDS, textId } from "./check.mjs";

const nodeFetch = globalThis.fetch;

// ---- arguments and settings ----
const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
const work = args.work;
const repo = args.repo;
const seed = Number(args.seed);
const short = args.short === "true";
const loadMs = Number(args.duration) * 1000;
const leaseMs = Number(args["lease-ms"]);
const root = join(work, "workspaces");
const settings = short
  ? { sessionsPerPolicy: 2, sendersPerSession: 2, watchersPerSession: 2, faultGap: [3000, 6000], settleMs: 100_000,
    bootMs: 150_000, extraLoadMs: 60_000 }
  : { sessionsPerPolicy: 5, sendersPerSession: 2, watchersPerSession: 3, faultGap: [8000, 30000], settleMs: 240_000,
    bootMs: 240_000, extraLoadMs: 0 };

// ---- seeded choices: one stream per purpose, so that the fault schedule does not depend on how
// many messages the clients happened to send ----
function mulberry32(a) {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const faultRandom = mulberry32(seed);
const clientRandom = mulberry32(seed ^ 0x5bd1e995);
const balancerRandom = mulberry32(seed + 0x3c6ef372);
const between = (random, [low, high]) => low + random() * (high - low);
const int = (random, n) => Math.floor(random() * n);

// ---- log ----
const t0 = Date.now();
const logFile = join(work, "logs", "soak.log");
const since = (at = Date.now()) => `${((at - t0) / 1000).toFixed(1).padStart(6)}s`;
function log(text) {
  const line = `soak: [${since()}] ${text}`;
  console.log(line);
  appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
}
const driverViolations = [];
function violation(text) {
  driverViolations.push(text);
  log(`VIOLATION: ${text}`);
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function waitUntil(condition, ms, step = 250) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(step);
  }
  return !!(await condition());
}
function run(command, commandArgs, { timeout = 180_000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(command, commandArgs, { timeout, maxBuffer: 1 << 30 }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stdout, stderr }));
      else resolve(stdout);
    });
  });
}
const pg = (...a) => run(join(work, "pg.sh"), a);
/** One SQL query that returns one JSON value (psql -At). */
async function sql(query) {
  return JSON.parse((await pg("psql", "-At", "-c", query)).trim());
}

// ---- the instances ----
const ports = readFileSync(join(work, "ports"), "utf8").trim().split("\n").map(Number);
const instances = ports.map((port, i) => ({ name: String(i + 1), n: i + 1, port, healthy: false, state: "down", inc: null, incarnations: [], restarting: null }));
let finalStop = false;
let loadOn = false;

function spawnInstance(instance) {
  const k = instance.incarnations.length + 1;
  const file = join(work, "logs", `instance-${instance.n}.${k}.log`);
  const child = spawn(join(work, "start-instance.sh"), [String(instance.n), file], { detached: true, stdio: "ignore" });
  const inc = { k, pid: child.pid, startedAt: Date.now(), readyAt: null, endedAt: null, endedBy: null, exitCode: null, signal: null, log: file };
  writeFileSync(join(work, "pids", `${instance.n}-${k}.pgid`), String(child.pid));
  instance.inc = inc;
  instance.state = "starting";
  instance.incarnations.push(inc);
  inc.exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      inc.endedAt = Date.now();
      inc.exitCode = code;
      inc.signal = signal;
      if (instance.inc === inc) {
        instance.state = "down";
        instance.healthy = false;
      }
      if (!inc.endedBy) {
        inc.endedBy = "unexpected";
        if (!finalStop) {
          violation(`instance ${instance.name} (pid ${inc.pid}) exited by itself (code ${code}, signal ${signal}); see ${file}`);
          if (loadOn && !instance.restarting) restart(instance, 1000, "after its unexpected exit");
        }
      }
      resolve();
    });
  });
  return inc;
}

async function ready(instance, inc, ms) {
  const ok = await waitUntil(async () => {
    if (inc.endedAt) return true;
    try {
      const answer = await nodeFetch(`http://127.0.0.1:${instance.port}/actuator/health/readiness`, { signal: AbortSignal.timeout(2000) });
      await answer.arrayBuffer();
      return answer.status === 200;
    } catch {
      return false;
    }
  }, ms, 300);
  if (!ok || inc.endedAt) return false;
  inc.readyAt = Date.now();
  instance.state = "up";
  instance.healthy = true;
  return true;
}

/** Starts a new incarnation after `delay` and waits for its readiness (in the background). */
function restart(instance, delay, why) {
  instance.restarting = (async () => {
    await sleep(delay);
    const inc = spawnInstance(instance);
    const ok = await ready(instance, inc, settings.bootMs);
    if (ok) log(`instance ${instance.name} restarted ${why} (pid ${inc.pid}), ready after ${((inc.readyAt - inc.startedAt) / 1000).toFixed(1)} s`);
    else if (!inc.endedAt) violation(`instance ${instance.name} (pid ${inc.pid}) was not ready ${settings.bootMs / 1000} s after its restart; see ${inc.log}`);
    instance.restarting = null;
  })();
  return instance.restarting;
}

/** Stops an incarnation with a signal and waits for its end (SIGKILL of its group after `ms`). */
async function stop(instance, signal, endedBy, ms = 90_000) {
  const inc = instance.inc;
  if (!inc || inc.endedAt) return;
  inc.endedBy = endedBy;
  instance.state = "stopping";
  try {
    process.kill(inc.pid, signal);
  } catch {
    // already gone
  }
  const timer = setTimeout(() => {
    if (!inc.endedAt) {
      violation(`instance ${instance.name} (pid ${inc.pid}) did not exit ${ms / 1000} s after ${signal}; killed`);
      try {
        process.kill(-inc.pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
  }, ms);
  await inc.exited;
  clearTimeout(timer);
}

function killAllGroups() {
  for (const instance of instances) {
    for (const inc of instance.incarnations) {
      try {
        process.kill(-inc.pid, "SIGKILL");
      } catch {
        // the group is gone
      }
    }
  }
}
process.on("exit", killAllGroups);
// A request of the driver's own that fails unobserved must not end the run: it is written down.
process.on("unhandledRejection", (error) => log(`driver: unobserved failure: ${error?.stack ?? error}`));
process.on("SIGTERM", () => process.exit(143));
process.on("SIGINT", () => process.exit(130));

// ---- requests: the load balancer's health view, the availability measure, outcomes ----
const outcomes = {};
const availability = { lastSuccess: null, longestMs: 0, from: null, to: null, outages: [] };
let measuring = false;
function answered({ kind, status, at }) {
  const key = `${kind} ${status}`;
  outcomes[key] = (outcomes[key] ?? 0) + 1;
  if (typeof status !== "number" || status < 200 || status > 299 || !measuring) return;
  if (availability.lastSuccess !== null && at > availability.lastSuccess) {
    const gap = at - availability.lastSuccess;
    if (gap > availability.longestMs) Object.assign(availability, { longestMs: gap, from: availability.lastSuccess, to: at });
    if (gap >= 1000) availability.outages.push({ from: availability.lastSuccess, to: at, ms: gap });
  }
  availability.lastSuccess = Math.max(availability.lastSuccess ?? 0, at);
}

const browser = new Browser({ instances, onAnswer: answered, random: balancerRandom });
let token = null;

/** The admin's calls (setup, collection, DELETE, sweeper): any healthy instance, retried. */
async function call(method, path, body, { expect = [200, 201, 202, 204], ms = 60_000, headers = {}, instance = null } = {}) {
  const deadline = Date.now() + ms;
  let last = null;
  for (;;) {
    const target = instance ?? browser.pick(null);
    const started = Date.now();
    try {
      const answer = await nodeFetch(`http://127.0.0.1:${target.port}${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await answer.text();
      answered({ kind: "admin", status: answer.status, started, at: Date.now() });
      if (expect.includes(answer.status)) return { status: answer.status, json: text ? JSON.parse(text) : null, headers: answer.headers };
      last = `${answer.status} ${text.slice(0, 200)}`;
    } catch (error) {
      answered({ kind: "admin", status: "network", started, at: Date.now() });
      last = String(error?.cause?.code ?? error?.message ?? error);
    }
    if (Date.now() > deadline) throw new Error(`${method} ${path}: ${last}`);
    await sleep(500);
  }
}

function healthProbes() {
  const timer = setInterval(() => {
    for (const instance of instances) {
      if (instance.state === "down") {
        instance.healthy = false;
        continue;
      }
      nodeFetch(`http://127.0.0.1:${instance.port}/actuator/health/readiness`, { signal: AbortSignal.timeout(1500) })
        .then(async (answer) => {
          await answer.arrayBuffer();
          if (instance.state !== "down") instance.healthy = answer.status === 200;
        })
        .catch(() => {
          instance.healthy = false;
        });
    }
  }, 500);
  return () => clearInterval(timer);
}

/** A steady reader, one instance after the other, so that availability is measured at all times. */
function prober(sessionId) {
  let i = 0;
  const timer = setInterval(() => {
    const instance = instances[i++ % instances.length];
    const started = Date.now();
    nodeFetch(`http://127.0.0.1:${instance.port}/api/sessions/${sessionId}`, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(2000) })
      .then(async (answer) => {
        await answer.arrayBuffer();
        answered({ kind: "probe", status: answer.status, started, at: Date.now() });
      })
      .catch(() => answered({ kind: "probe", status: "network", started, at: Date.now() }));
  }, 200);
  return () => clearInterval(timer);
}

// ---- sessions, watchers, senders ----
const sessions = [];
const follows = [];
const senders = [];
const acks = [];
const unacked = [];
const retries = {};
let me = null;
let app = null;
let watcherCount = 0;

async function createSession(project, policy, { scratch = false } = {}) {
  const { json } = await call("POST", `/api/projects/${project}/sessions`, { title: `soak ${scratch ? "scratch" : policy} ${sessions.length + 1}` }, { expect: [201] });
  // started/finished: message ids seen in `message` events and run ids in `run.finished` events
  // by this session's watchers (the senders wait on them, as a user watching the session would).
  const session = { id: json.id, project, policy, scratch, ended: false, started: new Set(), finished: new Set(), marker: null, inode: null };
  sessions.push(session);
  if (!scratch) {
    // The marker the checker looks for at the end: a live session's workspace is never touched.
    const dir = join(root, session.id);
    session.marker = `${session.id} ${Math.floor(clientRandom() * 1e12)}`;
    writeFileSync(join(dir, ".soak-marker"), session.marker);
    session.inode = statSync(dir).ino;
  }
  return session;
}

/** A watcher of one session: the app's follow() (stream.js), its onEvent as views/session.js. */
function startFollow(session) {
  const f = { watcher: ++watcherCount, session, lastSeq: 0, log: [], digest: DIGEST_START, end: null, live: false, connections: 0, abort: new AbortController(), handle: null };
  follows.push(f);
  const base = `/api/sessions/${session.id}`;
  const take = (event, via) => {
    const last = f.log[f.log.length - 1];
    if (last && last[0] === via && last[2] === event.seq - 1) last[2] = event.seq;
    else f.log.push([via, event.seq, event.seq]);
    f.lastSeq = event.seq;
    f.digest = digestStep(f.digest, event.seq, event.type, event.data?.messageId ?? event.data?.runId ?? null);
    if (event.type === "message" && event.data?.messageId) session.started.add(event.data.messageId);
    if (event.type === "run.finished" && event.data?.runId) session.finished.add(event.data.runId);
  };
  // views/session.js's fill(): pages of the history after lastSeq up to `to`; anything but the
  // next seq is refused, and a page that brings nothing drops the connection (resumed from lastSeq).
  const fill = async (to) => {
    while (f.lastSeq < to) {
      const before = f.lastSeq;
      const page = await app.api.get(`${base}/events?after=${f.lastSeq}&limit=${Math.min(1000, to - f.lastSeq)}`, { signal: f.abort.signal });
      for (const event of page.items) if (event.seq === f.lastSeq + 1 && event.seq <= to) take(event, "h");
      if (f.lastSeq === before) throw new Error(`history did not continue after ${before}`);
    }
  };
  // views/session.js's onEvent(), except that a gap is always filled (the view starts at the head
  // on a first open or when far behind; the soak wants 1..head), and that what the view skips
  // silently (an event it has, one beyond the next) is written down for the checker.
  const onEvent = async ({ type, data }) => {
    if (type === "presence") return;
    if (type === "gap") {
      f.log.push(["gap", data.from, data.to]);
      if (data.to <= f.lastSeq) return;
      await fill(data.to);
      return;
    }
    if (!data || typeof data.seq !== "number") {
      f.log.push(["bad", type, JSON.stringify(data)?.slice(0, 100)]);
      return;
    }
    if (data.seq <= f.lastSeq) {
      f.log.push(["dup", data.seq, f.lastSeq]);
      return;
    }
    if (data.seq > f.lastSeq + 1) {
      f.log.push(["skip", f.lastSeq + 1, data.seq - 1]);
      await fill(data.seq - 1);
    }
    take(data, "s");
  };
  f.handle = app.stream.follow({
    url: `http://w${f.watcher}.soak${base}/events/stream`,
    cursor: () => f.lastSeq,
    onEvent,
    onStatus: (state) => {
      if (state === "live" && !f.live) f.connections++;
      f.live = state === "live";
    },
    onEnd: (reason) => {
      f.end = reason;
      f.live = false;
    },
    signal: f.abort.signal,
  });
  return f;
}

/**
 * A browser that opens a busy session late, from its first event: past the replay cap the stream
 * starts with a `gap` event, which the watcher fills from the history.
 */
function lateWatcher({ busiest = false } = {}) {
  const live = sessions.filter((s) => !s.scratch);
  const head = (s) => Math.max(0, ...follows.filter((f) => f.session === s).map((f) => f.lastSeq));
  const session = busiest ? live.reduce((a, b) => (head(b) > head(a) ? b : a)) : live[int(clientRandom, live.length)];
  startFollow(session);
  return { id: session.id, headSeq: Math.max(0, ...follows.filter((f) => f.session === session).map((f) => f.lastSeq)) };
}

/** The text of a send: the client's id, and what the agent is to do. */
function nextText(sender) {
  sender.count++;
  const r = clientRandom();
  const lines = r < 0.1 ? 15 + int(clientRandom, 15) : 2 + int(clientRandom, 6);
  const pause = r < 0.1 ? 0.4 : 0.2 + 0.1 * int(clientRandom, 4);
  const code = clientRandom() < 0.05 ? 3 : 0;
  return `soak id=${sender.name}.${sender.count} lines=${lines} pause=${pause.toFixed(1)} exit=${code}`;
}

/** A sender (a browser tab on one session): one message at a time through the app's outbox. */
function startSender(name, session, { once = false } = {}) {
  const s = { name, session, count: 0, waiting: null, current: null, scheduled: new Set(), abort: new AbortController(), done: false };
  senders.push(s);
  const ackOf = (item, answer) => {
    const ack = { key: item.key, id: textId(item.text), sessionId: session.id, messageId: answer.messageId, seq: answer.seq, queued: !!answer.queued,
      runId: answer.runId ?? null, sentAt: item.createdAt, ackedAt: Date.now(), postMs: browser.ackDurations.get(item.key) ?? null };
    acks.push(ack);
    const resolve = s.waiting;
    s.waiting = null;
    s.current = null;
    if (resolve) resolve(ack);
  };
  // What the outbox leaves to the user (busy; a 4xx it does not retry) is retried here with the
  // same key, as a user pressing Retry. Busy: once the stream showed that run's run.finished (the
  // contract's rule; views/session.js shows "retry now" then), else after a minute; anything
  // else after a second or two; while the run settles, soon.
  const retryLater = (item, why, runId) => {
    if (s.scheduled.has(item.key)) return;
    s.scheduled.add(item.key);
    const waited = why === "busy" && runId
      ? waitUntil(() => session.finished.has(runId) || !loadOn || s.abort.signal.aborted, 60_000, 100)
      : Promise.resolve();
    const delay = loadOn ? (why === "busy" ? clientRandom() * 300 : 500 + clientRandom() * 1500) : 300;
    waited.then(() => setTimeout(() => {
      s.scheduled.delete(item.key);
      if (s.abort.signal.aborted || !s.outbox.items.some((i) => i.key === item.key)) return;
      const code = why === "busy" ? "session-busy" : browser.lastProblem.get(item.key) ?? "unknown";
      retries[code] = (retries[code] ?? 0) + 1;
      if (["idempotency-key-reused", "validation-failed", "malformed-request", "payload-too-large"].includes(code)) {
        violation(`send ${textId(item.text)} (key ${item.key}) was refused with ${code}`);
        unacked.push({ key: item.key, id: textId(item.text), sessionId: session.id, reason: code });
        s.outbox.discard(item);
        const resolve = s.waiting;
        s.waiting = null;
        s.current = null;
        if (resolve) resolve(null);
        return;
      }
      s.outbox.retry(item);
    }, delay));
  };
  s.outbox = app.outbox.createOutbox({
    sessionId: session.id,
    owner: me.id,
    isOwner: () => true,
    signal: s.abort.signal,
    onChange: (items) => {
      for (const item of items) {
        // A 401 leaves the item to the login page (auto, no timer): retried here like the rest.
        if (item.state === "failed" && (!item.auto || item.status?.includes("logged out"))) retryLater(item, "failed");
        if (item.state === "held" || item.state === "expired") violation(`the outbox holds send ${textId(item.text)}: ${item.status}`);
      }
    },
    onBusy: (item, error) => retryLater(item, "busy", error?.problem?.runId),
    onForbidden: (error) => violation(`send to session ${session.id} forbidden: ${error.message}`),
    onSent: ackOf,
  });
  s.loop = (async () => {
    while (loadOn && !s.abort.signal.aborted) {
      const text = nextText(s);
      const acked = new Promise((resolve) => (s.waiting = resolve));
      s.current = { text, sentAt: Date.now() };
      s.outbox.send(text);
      const ack = await acked;
      if (!ack || once) break;
      if (ack.queued) {
        // Keeps the queue short: the next message only once this one has started.
        await waitUntil(() => session.started.has(ack.messageId) || !loadOn, 120_000, 200);
      }
      const think = 300 + clientRandom() * 2200;
      await waitUntil(() => !loadOn, think, 100);
    }
    s.done = true;
  })();
  return s;
}

// ---- workspaces: the sweeper's material ----
const planted = [];
const readyOrphans = [];
let scratchCount = 0;

/** A session that is created, sent one message, ended, and whose workspace comes back as an orphan. */
async function scratchLifecycle() {
  const n = ++scratchCount;
  try {
    const session = await createSession("soak-scratch", "reject", { scratch: true });
    startFollow(session);
    const sender = startSender(`x${n}`, session, { once: true });
    await waitUntil(() => sender.done || !loadOn, 90_000, 200);
    if (!sender.done) return;
    await call("DELETE", `/api/sessions/${session.id}`, undefined, { expect: [204], ms: 90_000 });
    session.ended = true;
    const dir = join(root, session.id);
    if (!(await waitUntil(() => !existsSync(dir), 60_000, 250))) return;
    readyOrphans.push(session.id);
  } catch (error) {
    log(`scratch session ${n}: ${error.message}`);
  }
}

const hoursAgo = (h) => new Date(Date.now() - h * 3600_000);
function backdateLiveWorkspaces() {
  let count = 0;
  for (const session of sessions.filter((s) => !s.scratch)) {
    try {
      utimesSync(join(root, session.id), hoursAgo(2), hoursAgo(2));
      count++;
    } catch {
      // checked at the end
    }
  }
  return count;
}

function plantOrphans() {
  let count = 0;
  while (readyOrphans.length) {
    const id = readyOrphans.shift();
    const dir = join(root, id);
    mkdirSync(join(dir, "left", "over"), { recursive: true });
    writeFileSync(join(dir, "left", "over", "file.txt"), "an ended session's leftover, for the sweeper\n");
    utimesSync(dir, hoursAgo(3), hoursAgo(3));
    planted.push({ sessionId: id, at: Date.now() });
    count++;
  }
  return count;
}

// ---- the fault injector ----
const faults = [];
function fault(kind, target, detail, started) {
  const entry = { at: started, kind, target, detail, ms: Date.now() - started };
  faults.push(entry);
  log(`fault ${kind}${target ? ` ${target}` : ""}: ${detail}`);
}
// At least one instance stays up through an instance fault: one needs two up (and none stopping).
// A PostgreSQL fault waits until no instance is starting: a server that cannot reach its
// database at startup exits with one line (docs/configuration.md), as ECS would restart it.
const up = () => instances.filter((i) => i.state === "up" && !i.restarting);
const runnable = (kind) => {
  if (kind === "storm" || kind === "sweeper") return true;
  if (kind === "kill9" || kind === "sigterm") return up().length >= 2 && instances.every((i) => i.state !== "stopping");
  return instances.every((i) => i.state === "up" && !i.restarting);
};

async function inject(kind) {
  const started = Date.now();
  if (kind === "kill9" || kind === "sigterm") {
    const candidates = up();
    const instance = candidates[int(faultRandom, candidates.length)];
    const pid = instance.inc.pid;
    await stop(instance, kind === "kill9" ? "SIGKILL" : "SIGTERM", kind);
    const delay = 500 + faultRandom() * 2000;
    fault(kind, `instance ${instance.name}`, `pid ${pid} ${kind === "kill9" ? "killed with -9" : `stopped with SIGTERM, exit ${instance.inc.exitCode ?? instance.inc.signal} after ${((instance.inc.endedAt - started) / 1000).toFixed(1)} s`}; restart in ${(delay / 1000).toFixed(1)} s`, started);
    restart(instance, delay, `after ${kind}`);
  } else if (kind === "pg-restart-fast" || kind === "pg-restart-immediate") {
    await pg(kind === "pg-restart-fast" ? "stop-fast" : "stop-immediate");
    const down = 300 + faultRandom() * 1700;
    await sleep(down);
    await pg("start");
    fault(kind, "PostgreSQL", `stopped (${kind.slice(11)}), down ${((Date.now() - started) / 1000).toFixed(1)} s, started again`, started);
  } else if (kind === "pg-terminate") {
    const terminated = await sql("select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity where datname = 'collab' and pid <> pg_backend_pid() and backend_type = 'client backend') t");
    fault(kind, "PostgreSQL", `pg_terminate_backend of ${terminated} server connections`, started);
  } else if (kind === "storm") {
    const open = follows.filter((f) => !f.end && !f.abort.signal.aborted);
    globalThis.window.dispatchEvent(new Event("offline"));
    await waitUntil(() => open.every((f) => !f.live || f.end), 5000, 50);
    globalThis.window.dispatchEvent(new Event("online"));
    // views/session.js retries its outbox when the browser is online again.
    for (const s of senders) if (!s.abort.signal.aborted) s.outbox.retryPending();
    const back = await waitUntil(() => open.every((f) => f.live || f.end), 60_000, 50);
    const late = lateWatcher();
    fault(kind, `${open.length} streams`, `all dropped at once and reopened; ${back ? `all live again after ${((Date.now() - started) / 1000).toFixed(1)} s` : "NOT all live again within 60 s"}; a late watcher opens session ${late.id} from its start (head ${late.headSeq})`, started);
  } else if (kind === "sweeper") {
    const backdated = backdateLiveWorkspaces();
    const orphans = plantOrphans();
    const instance = browser.pick(null);
    let answer = "no answer";
    try {
      const { json } = await call("POST", "/actuator/sweeper", undefined, { expect: [202], ms: 10_000, instance });
      answer = json?.started ? "started" : "already running there";
    } catch (error) {
      answer = error.message;
    }
    scratchLifecycle();
    lateWatcher();
    fault(kind, `instance ${instance.name}`, `POST /actuator/sweeper: ${answer}; ${backdated} live workspaces dated back 2 h, ${orphans} orphans planted`, started);
  }
}

async function injector(until) {
  // Every kind once first, in a seeded order within three groups: the PostgreSQL faults (they
  // need every instance up), then the instance faults (their restarts take longest), then the
  // storm and the sweep, which go on while the instances restart.
  const group = (kind) => (kind.startsWith("pg-") ? 0 : kind === "kill9" || kind === "sigterm" ? 1 : 2);
  const must = [...FAULT_KINDS];
  for (let i = must.length - 1; i > 0; i--) {
    const j = int(faultRandom, i + 1);
    [must[i], must[j]] = [must[j], must[i]];
  }
  must.sort((a, b) => group(a) - group(b));
  const over = () => Date.now() >= until() && !(short && must.length && Date.now() < until() + settings.extraLoadMs);
  while (!over()) {
    await sleep(between(faultRandom, settings.faultGap));
    let kind = must.find(runnable);
    if (kind) must.splice(must.indexOf(kind), 1);
    else if (must.length) continue;
    else {
      // After the first round: any kind, each as likely, waited for until it can run (a
      // PostgreSQL fault waits for restarts to finish rather than lose its turn); a short run
      // adds no restart, which the settle would wait for.
      const choices = FAULT_KINDS.filter((k) => !(short && group(k) === 1));
      kind = choices[int(faultRandom, choices.length)];
      await waitUntil(() => runnable(kind) || Date.now() >= until(), until() - Date.now(), 250);
      if (!runnable(kind) || Date.now() >= until()) break;
    }
    try {
      await inject(kind);
    } catch (error) {
      violation(`fault ${kind} could not be injected: ${error.message}${error.stderr ? ` (${String(error.stderr).trim().slice(0, 300)})` : ""}`);
    }
  }
}

/** Runs RUNNING past their lease by more than one more lease, sampled every 2 s. */
function leaseMonitor(samples) {
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const overdue = await sql(`select coalesce(json_agg(json_build_object('runId', id, 'sessionId', session_id,
        'overdueMs', (extract(epoch from now() - lease_expires_at) * 1000)::bigint)), '[]') from runs
        where state = 'RUNNING' and lease_expires_at < now() - interval '${leaseMs} milliseconds'`);
      if (overdue.length) samples.push({ at: Date.now(), overdue });
    } catch {
      // PostgreSQL is away (a fault): nothing to sample
    } finally {
      busy = false;
    }
  }, 2000);
  return () => clearInterval(timer);
}

/** Every instance's sweeper reports, polled; the checker counts each sweep once. */
const sweepReports = [];
async function pollSweeper() {
  await Promise.all(instances.filter((i) => i.healthy).map(async (instance) => {
    try {
      const answer = await nodeFetch(`http://127.0.0.1:${instance.port}/actuator/sweeper`, { signal: AbortSignal.timeout(3000) });
      const json = await answer.json();
      for (const r of json.lastRuns ?? []) sweepReports.push({ ...r, instance: instance.name });
    } catch {
      // down or busy: the next poll
    }
  }));
}

// ---- collection ----
const eventRow = (e) => [e.seq, e.type, e.data?.messageId ?? null, e.data?.runId ?? null,
  e.type === "message" || e.type === "message.queued" ? textId(e.data?.text) : null, e.data?.status ?? null];

async function collectApi() {
  const result = {};
  for (const session of sessions) {
    const { json: view } = await call("GET", `/api/sessions/${session.id}`);
    const events = [];
    let after = 0;
    for (;;) {
      const { json: page } = await call("GET", `/api/sessions/${session.id}/events?after=${after}&limit=1000`);
      for (const e of page.items) events.push(eventRow(e));
      if (!page.items.length || page.items[page.items.length - 1].seq >= page.headSeq) break;
      after = page.items[page.items.length - 1].seq;
    }
    result[session.id] = { state: view.state, headSeq: view.headSeq, events };
  }
  return result;
}

async function collectDb() {
  const events = await sql(`select coalesce(json_object_agg(session_id, rows), '{}') from (
      select session_id, json_agg(json_build_array(seq, type, data->>'messageId', data->>'runId',
        case when type in ('message', 'message.queued') then substring(data->>'text' from 'id=([^ ]+)') end,
        data->>'status') order by seq) as rows
      from events group by session_id) t`);
  const sessionsNow = await sql(`select coalesce(json_agg(json_build_object('id', id, 'state', state, 'headSeq', head_seq,
      'currentRunId', current_run_id)), '[]') from sessions`);
  const runs = await sql(`select json_build_object('now', now(), 'runs', coalesce((select json_agg(json_build_object('id', id,
      'sessionId', session_id, 'messageId', message_id, 'state', state, 'status', status, 'leaseExpiresAt', lease_expires_at,
      'startedAt', started_at, 'finishedAt', finished_at)) from runs), '[]'))`);
  const queued = await sql(`select coalesce(json_agg(json_build_object('id', id, 'sessionId', session_id, 'state', state,
      'reason', reason)), '[]') from queued_messages`);
  const keys = await sql(`select coalesce(json_agg(json_build_object('sessionId', session_id, 'key', key,
      'messageId', response->>'messageId')), '[]') from idempotency_keys`);
  return { now: runs.now, sessions: sessionsNow, events, runs: runs.runs, queued, keys };
}

function collectWorkspaces() {
  const live = sessions.filter((s) => !s.scratch).map((s) => {
    const dir = join(root, s.id);
    let found = { exists: false };
    if (existsSync(dir)) {
      let marker = null;
      try {
        marker = readFileSync(join(dir, ".soak-marker"), "utf8");
      } catch {
        marker = null;
      }
      found = { exists: true, marker, inode: statSync(dir).ino };
    }
    return { sessionId: s.id, marker: s.marker, inode: s.inode, found };
  });
  return { live, planted: planted.map((p) => ({ ...p, existsAtEnd: existsSync(join(root, p.sessionId)) })) };
}

function collectAgents() {
  const agents = {};
  for (const runId of readdirSync(join(work, "agents"))) {
    const lines = readFileSync(join(work, "agents", runId), "utf8").trim().split("\n");
    const start = lines.find((l) => l.startsWith("start "))?.split(" ");
    const done = lines.find((l) => l.startsWith("done "))?.split(" ");
    agents[runId] = { ppid: start ? Number(start[1]) : null, startMs: start ? Number(start[2]) : null,
      doneMs: done ? Number(done[1]) : null, code: done ? Number(done[2]) : null };
  }
  return agents;
}

function errorLines() {
  const found = [];
  for (const instance of instances) {
    for (const inc of instance.incarnations) {
      if (!existsSync(inc.log)) continue;
      readFileSync(inc.log, "utf8").split("\n").forEach((line, i) => {
        if (!/(^|[ "])ERROR([ "]|$)|"level":"ERROR"/.test(line)) return;
        // The fault it followed, if any began within the 15 s before it (the log's own time).
        const at = Date.parse(line.slice(0, 24));
        const near = faults.filter((f) => Number.isFinite(at) && f.at <= at && at - (f.at + f.ms) <= 15_000).map((f) => f.kind);
        found.push({ file: inc.log.slice(work.length + 1), line: i + 1, after: [...new Set(near)], text: line.slice(0, 400) });
      });
    }
  }
  return found;
}

// ---- the run ----
async function main() {
  mkdirSync(join(work, "logs"), { recursive: true });
  app = await browser.install(join(repo, "src/main/resources/static/app"), work);

  log(`starting 3 instances on ports ${ports.join(", ")}`);
  const incs = instances.map((instance) => spawnInstance(instance));
  const readies = await Promise.all(instances.map((instance, i) => ready(instance, incs[i], settings.bootMs)));
  if (readies.some((ok) => !ok)) {
    violation(`not every instance became ready: ${instances.map((i) => `${i.name}: ${i.state}`).join(", ")}`);
    return finish(null);
  }
  log(`all 3 instances ready (${instances.map((i) => `${i.name}: ${((i.inc.readyAt - i.inc.startedAt) / 1000).toFixed(1)} s`).join(", ")})`);
  const stopProbes = healthProbes();

  // The first admin logs in with the password (cookie + XSRF), makes a personal access token,
  // and every client uses the token from then on.
  const login = await nodeFetch(`http://127.0.0.1:${instances[0].port}/api/auth/login`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ login: args.admin, password: args.password }) });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  const cookies = login.headers.getSetCookie().map((c) => c.split(";")[0]);
  const xsrf = cookies.find((c) => c.startsWith("XSRF-TOKEN="))?.slice("XSRF-TOKEN=".length);
  const made = await nodeFetch(`http://127.0.0.1:${instances[0].port}/api/tokens`, {
    method: "POST", headers: { "Content-Type": "application/json", Cookie: cookies.join("; "), "X-XSRF-TOKEN": decodeURIComponent(xsrf ?? "") },
    body: JSON.stringify({ name: "soak", expiresAt: null }) });
  if (made.status !== 201) throw new Error(`no token: ${made.status} ${await made.text()}`);
  token = (await made.json()).token;
  browser.token = token;
  me = (await call("GET", "/api/me")).json;
  app.outbox.setCurrentUser(me.id);
  for (const [key, policy] of [["soak-queue", "queue"], ["soak-reject", "reject"], ["soak-scratch", "reject"]]) {
    await call("PUT", `/api/projects/${key}`, { name: `Soak (${key.slice(5)})`, repoUrl: null, busyPolicy: policy });
  }
  for (const policy of ["queue", "reject"]) {
    for (let i = 0; i < settings.sessionsPerPolicy; i++) await createSession(`soak-${policy}`, policy);
  }
  log(`logged in as ${me.login} (token); ${sessions.length} sessions (${settings.sessionsPerPolicy} queue, ${settings.sessionsPerPolicy} reject), ${settings.sendersPerSession} senders and ${settings.watchersPerSession} watchers each`);

  const leaseSamples = [];
  loadOn = true;
  measuring = true;
  const stopProber = prober(sessions[0].id);
  const stopLeases = leaseMonitor(leaseSamples);
  const sweeperTimer = setInterval(pollSweeper, 5000);
  const loadStart = Date.now();
  for (const session of sessions) {
    for (let i = 0; i < settings.watchersPerSession; i++) startFollow(session);
  }
  for (const session of sessions) {
    for (let i = 0; i < settings.sendersPerSession; i++) startSender(`${session.policy[0]}${sessions.indexOf(session) + 1}.${i + 1}`, session);
  }
  scratchLifecycle();
  log(`load on for ${loadMs / 1000} s; faults every ${settings.faultGap.map((g) => g / 1000).join("-")} s`);
  const progress = setInterval(() => log(`progress: ${acks.length} sends acknowledged, ${follows.filter((f) => f.live).length}/${follows.filter((f) => !f.end).length} streams live, ${faults.length} faults, instances ${instances.map((i) => `${i.name}:${i.state}`).join(" ")}`), short ? 15000 : 60000);
  await injector(() => loadStart + loadMs);
  loadOn = false;
  const loadEnd = Date.now();
  measuring = false;
  log(`load off after ${((loadEnd - loadStart) / 1000).toFixed(1)} s; settling`);

  // ---- settle: every instance up, every send acknowledged, no run running, watchers at the head ----
  const settleUntil = Date.now() + settings.settleMs;
  const left = () => Math.max(1000, settleUntil - Date.now());
  await Promise.all(instances.map((i) => i.restarting));
  for (const instance of instances.filter((i) => i.state === "down")) await restart(instance, 0, "for the end");
  for (const s of senders) if (!s.abort.signal.aborted) s.outbox.retryPending();
  if (!(await waitUntil(() => senders.every((s) => s.done || !s.current), left(), 250))) {
    for (const s of senders.filter((x) => x.current)) {
      const item = s.outbox.items[0];
      unacked.push({ key: item?.key ?? null, id: textId(s.current.text), sessionId: s.session.id, reason: `not acknowledged ${settings.settleMs / 1000} s after the load (outbox: ${item?.state} ${item?.status})` });
    }
  }
  await Promise.all(senders.map((s) => Promise.race([s.loop, sleep(2000)])));
  const quiet = await waitUntil(async () => {
    try {
      return await sql(`select to_json((select count(*) from runs where state = 'RUNNING') + (select count(*) from sessions where state = 'RUNNING')
        + (select count(*) from queued_messages where state = 'QUEUED') = 0)`);
    } catch {
      return false;
    }
  }, left(), 1000);
  if (!quiet) log("runs still RUNNING or messages queued at the settle deadline (the checker lists them)");
  // One more browser opens the busiest session from its start: by now past the replay cap.
  const late = lateWatcher({ busiest: true });
  log(`a late watcher opens session ${late.id} from its start (head ${late.headSeq})`);
  const heads = new Map((await sql("select coalesce(json_agg(json_build_array(id, head_seq)), '[]') from sessions")).map(([id, head]) => [id, head]));
  for (const f of follows) if (!f.end) f.handle.reconnectNow();
  await waitUntil(() => follows.every((f) => f.lastSeq >= (heads.get(f.session.id) ?? 0) && (!f.session.ended || f.end)), left(), 250);
  for (const f of follows) f.abort.abort();
  for (const s of senders) s.abort.abort();
  clearInterval(progress);
  stopProber();
  stopLeases();
  clearInterval(sweeperTimer);
  log(`settled after ${((Date.now() - loadEnd) / 1000).toFixed(1)} s; collecting`);

  await pollSweeper();
  const api = await collectApi();
  const db = await collectDb();
  const workspaces = collectWorkspaces();
  stopProbes();
  finalStop = true;
  await Promise.all(instances.map((instance) => stop(instance, "SIGTERM", "final", 60_000)));
  await pg("stop-fast").catch((error) => log(`PostgreSQL stop: ${error.message}`));
  for (const instance of instances) {
    for (const inc of instance.incarnations) {
      try {
        process.kill(-inc.pid, "SIGKILL"); // what a killed incarnation left running (an agent)
      } catch {
        // nothing left
      }
      try {
        unlinkSync(join(work, "pids", `${instance.n}-${inc.k}.pgid`));
      } catch {
        // not there
      }
    }
  }

  return finish({
    meta: { seed, short, loadMs: loadEnd - loadStart, leaseMs, startedAt: new Date(t0).toISOString(), loadFrom: loadStart, loadTo: loadEnd,
      requiredKinds: short ? FAULT_KINDS : [], sessions: sessions.length, watchers: follows.length, senders: senders.length },
    instances: instances.map((i) => ({ name: i.name, port: i.port, incarnations: i.incarnations.map(({ exited, ...inc }) => inc) })),
    faults,
    sessions: sessions.map((s) => ({ id: s.id, project: s.project, policy: s.policy, scratch: s.scratch, ended: s.ended })),
    acks,
    unacked,
    watchers: follows.map((f) => ({ watcher: f.watcher, sessionId: f.session.id, end: f.end, last: f.lastSeq, digest: f.digest, connections: f.connections, log: f.log })),
    api: { sessions: api },
    db,
    leaseSamples,
    workspaces,
    sweeps: sweepReports,
    agents: collectAgents(),
    availability: { longestMs: availability.longestMs, from: availability.from, to: availability.to, outages: availability.outages },
    requests: { outcomes, retries, replayed: browser.replayed },
    errors: errorLines(),
    driverViolations,
  });
}

/** ERROR lines counted by logger and message, ids left out. */
function errorKinds(errors) {
  const kinds = {};
  for (const e of errors) {
    const match = /ERROR \[[^\]]*\] \d+ --- \[[^\]]*\] \[[^\]]*\] (\S+)\s+: (.*)$/.exec(e.text);
    const key = match ? `${match[1].split(".").pop()}: ${match[2].replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "…").slice(0, 90)}` : e.text.slice(0, 90);
    kinds[key] = (kinds[key] ?? 0) + 1;
  }
  return kinds;
}

function finish(history) {
  if (!history) {
    const result = { violations: driverViolations, warnings: [], figures: {} };
    writeFileSync(join(work, "report.json"), JSON.stringify({ seed, result }, null, 2));
    return 1;
  }
  writeFileSync(join(work, "history.json"), JSON.stringify(history));
  const result = check(history);
  const f = result.figures;
  const overlapping = (from, to) => faults.filter((x) => x.at <= to && x.at + x.ms + 1000 >= from).map((x) => x.kind);
  const report = {
    seed,
    short,
    loadSeconds: Math.round(history.meta.loadMs / 1000),
    wallSeconds: Math.round((Date.now() - t0) / 1000),
    faultsInjected: f.faultsByKind,
    sendsAcknowledged: f.sendsAcknowledged,
    sendsNotAcknowledged: f.sendsNotAcknowledged,
    lost: f.lost,
    duplicated: f.duplicated,
    gaps: f.gaps,
    eventsChecked: f.eventsChecked,
    eventsInLogs: f.eventsInLogs,
    eventsTakenByWatchers: f.eventsTakenByWatchers,
    gapEvents: f.gapEvents,
    filledFromHistory: f.filledFromHistory,
    longestUnavailabilityMs: history.availability.longestMs,
    longestUnavailability: history.availability.from
      ? { from: new Date(history.availability.from).toISOString(), to: new Date(history.availability.to).toISOString(), during: overlapping(history.availability.from, history.availability.to) }
      : null,
    ackLatencyMs: f.ackLatencyMs,
    timeToAckMs: f.timeToAckMs,
    runsStarted: f.runsStarted,
    runsByStatus: f.runsByStatus,
    lostRunsByKind: f.lostRunsByKind,
    lostRuns: f.lostRuns,
    sweeps: f.sweeps,
    sweeperRemoved: f.sweeperRemoved,
    orphansPlanted: f.orphansPlanted,
    plantedOrphansLeft: history.workspaces.planted.filter((p) => p.existsAtEnd).length,
    streams: history.watchers.length,
    streamConnections: history.watchers.reduce((n, w) => n + w.connections, 0),
    requests: history.requests,
    errorLinesByMessage: errorKinds(history.errors),
    errorLines: history.errors,
    warnings: result.warnings,
    violations: result.violations,
  };
  writeFileSync(join(work, "report.json"), JSON.stringify(report, null, 2));
  const kinds = Object.entries(f.faultsByKind).map(([k, n]) => `${k} ${n}`).join(", ");
  const statuses = Object.entries(f.runsByStatus).map(([k, n]) => `${k} ${n}`).join(", ");
  const lines = [
    `==== report (seed ${seed}${short ? ", short" : ""}) ====`,
    `load ${report.loadSeconds} s, wall ${report.wallSeconds} s (driver); faults injected: ${kinds || "none"}`,
    `sends acknowledged ${f.sendsAcknowledged} (not acknowledged ${f.sendsNotAcknowledged}); lost = ${f.lost}; duplicated = ${f.duplicated}; gaps = ${f.gaps}`,
    `events checked ${f.eventsChecked} (${f.eventsInLogs} in the logs via the API and psql, ${f.eventsTakenByWatchers} taken by ${history.watchers.length} watchers over ${report.streamConnections} connections; ${f.gapEvents} gap events, ${f.filledFromHistory} events filled from the history)`,
    `longest unavailability ${(history.availability.longestMs / 1000).toFixed(1)} s${report.longestUnavailability ? ` (${report.longestUnavailability.from} → ${report.longestUnavailability.to}; faults: ${report.longestUnavailability.during.join(", ") || "none"})` : ""}`,
    `ack latency (the 202's request) p50 ${f.ackLatencyMs.p50} ms, p99 ${f.ackLatencyMs.p99} ms, max ${f.ackLatencyMs.max} ms; send to ack (retries, busy included) p50 ${f.timeToAckMs.p50} ms, p99 ${f.timeToAckMs.p99} ms; idempotent replays ${history.requests.replayed}`,
    `runs started ${f.runsStarted}: ${statuses}; lost: ${Object.entries(f.lostRunsByKind).map(([k, n]) => `${n} ${k}`).join(", ") || "none"}`,
    `sweeper: ${f.sweeps} sweeps reported, ${f.sweeperRemoved} workspaces removed; ${history.workspaces.planted.length} orphans planted (${report.plantedOrphansLeft} left at the end), ${history.workspaces.live.length} live workspaces untouched or listed above`,
    `ERROR lines in the server logs: ${history.errors.length}${history.errors.length ? ` (${Object.entries(report.errorLinesByMessage).map(([k, n]) => `${n}× ${k}`).join("; ")})` : ""}`,
    ...history.errors.map((e) => `  ${e.file}:${e.line} (${e.after.length ? `after ${e.after.join(", ")}` : "no fault just before"}): ${e.text}`),
    ...result.warnings.map((w) => `warning: ${w}`),
    result.violations.length ? `violations: ${result.violations.length}` : "violations: none",
    ...result.violations.map((v) => `  VIOLATION: ${v}`),
  ];
  for (const line of lines) log(line);
  return result.violations.length ? 1 : 0;
}

main().then((code) => process.exit(code), (error) => {
  log(`driver failed: ${error.stack ?? error}`);
  process.exit(1);
});
