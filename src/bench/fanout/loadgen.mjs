// Load generator for the fan-out benchmark (issue 4), the same for collab-server and node-hub.mjs.
// Node.js standard library only. Prints one JSON line on stdout; progress goes to stderr.
//
//   node loadgen.mjs --target collab|node --base http://127.0.0.1:8080 --sessions 1 --watchers 1000
//                    --rate 20 --duration 30 --warmup 5
//   options (defaults): --mode fanout|throughput (fanout)   --concurrency N publisher sockets (32;
//     throughput: concurrent append requests, 8)   --batch N events per throughput request (50)
//   --ramp N stream connects in flight while ramping up (200)   --drain S max wait for late deliveries (10)
//   --ready-file PATH written once all streams are ready   --server-pid PID, --db-pid PID: report the CPU
//     seconds of these processes and their children during the measured window (--db-pid: PostgreSQL's postmaster)
//   --project KEY (bench)   --no-reconnect   --stream-base URL: open the streams there (another instance)
//   Reconnect storms (issue 11): --storm opens every stream at once (no ramp); --history N appends N events
//   to each session before the streams open; --behind N (collab) spreads the streams' Last-Event-ID over
//   head-N..head, so they replay up to N events (node-hub.mjs has no log: its streams start at the head).
//   The result then has firstByteMs (connect to response headers, first connect of each stream),
//   caughtUpMs (collab: connect to the last history event received) and completeness: streams whose last
//   event is their session's last appended one, with no gap and no duplicate.
//
// Steps: create sessions (collab: PUT /api/projects/<key>, POST /api/projects/<key>/sessions; node: random
// UUIDs); open sessions×watchers SSE streams (collab: from the session's head, Last-Event-ID); when all
// answered 200, publish `rate` events/s round-robin over the sessions for warmup+duration seconds on a
// catch-up timer (collab: POST /test/sessions/<id>/events?count=1, node: POST /sessions/<id>/events).
// Every event a stream receives is checked for order (gaps, duplicates); events published after the
// warm-up are "measured": latency = receive time - event.at, and deliveriesExpected = measured × watchers.
// Which events are measured is decided by seq, not time: when the first measured event is sent, each
// session's threshold is its initial head + the events sent to it so far + 1 (only we append to them).
import http from 'node:http';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

// ---------- options ----------
const opts = {
  target: 'collab', base: 'http://127.0.0.1:8080', sessions: 1, watchers: 10, rate: 10, duration: 10,
  warmup: 2, mode: 'fanout', concurrency: 0, batch: 50, ramp: 200, drain: 10, readyFile: '', serverPid: 0,
  dbPid: 0, project: 'bench', reconnect: true, streamBase: '', storm: false, history: 0, behind: 0,
};
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--no-reconnect') { opts.reconnect = false; continue; }
    if (arg === '--storm') { opts.storm = true; continue; }
    if (!arg.startsWith('--')) usage(`unexpected argument ${arg}`);
    let [name, value] = arg.slice(2).split(/=(.*)/s, 2);
    if (value === undefined) value = argv[++i];
    name = name.replace(/-(.)/g, (_, c) => c.toUpperCase());
    if (!(name in opts) || value === undefined) usage(`unknown or incomplete option ${arg}`);
    opts[name] = typeof opts[name] === 'number' ? Number(value) : value;
    if (Number.isNaN(opts[name])) usage(`${arg} needs a number`);
  }
  if (!['collab', 'node'].includes(opts.target)) usage('--target must be collab or node');
  if (!['fanout', 'throughput'].includes(opts.mode)) usage('--mode must be fanout or throughput');
  if (opts.mode === 'throughput' && opts.target !== 'collab') usage('--mode throughput needs --target collab');
  if (!opts.concurrency) opts.concurrency = opts.mode === 'throughput' ? 8 : 32;
}
function usage(message) {
  console.error(`loadgen: ${message}\nsee the header of ${process.argv[1]} for the options`);
  process.exit(2);
}
const log = (...a) => console.error(`[loadgen ${opts.target}]`, ...a);
// A collab-server with identity and access (issue 13) wants a personal access token (run.sh makes
// one and passes it in COLLAB_TOKEN); the node hub and an older collab-server ignore the header.
const AUTH = opts.target === 'collab' && process.env.COLLAB_TOKEN
  ? { authorization: `Bearer ${process.env.COLLAB_TOKEN}` } : {};

const base = new URL(opts.base);
const HOST = base.hostname;
const PORT = Number(base.port || 80);
// --stream-base: streams on another instance than the one appends go to (cross-instance delivery).
const streamBase = new URL(opts.streamBase || opts.base);
const STREAM_HOST = streamBase.hostname;
const STREAM_PORT = Number(streamBase.port || 80);
const S = opts.sessions;
const W = opts.watchers;
const EVENT_TYPE = 'output';

// ---------- small helpers ----------
/** A growable Int32Array/Float64Array column (no per-sample objects). */
class Column {
  constructor(Type = Float64Array, size = 1 << 16) { this.Type = Type; this.a = new Type(size); this.n = 0; }
  push(v) {
    if (this.n === this.a.length) { const b = new this.Type(this.a.length * 2); b.set(this.a); this.a = b; }
    this.a[this.n++] = v;
  }
  percentiles() {
    if (this.n === 0) return { p50: null, p90: null, p99: null, max: null };
    const s = this.a.subarray(0, this.n).sort();
    const q = (p) => s[Math.min(this.n - 1, Math.ceil(p * this.n) - 1)];
    const r = (v) => Math.round(v * 100) / 100;
    return { p50: r(q(0.5)), p90: r(q(0.9)), p99: r(q(0.99)), max: r(s[this.n - 1]) };
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One JSON request; resolves {status, body}. */
function request(agent, method, path, body) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? null : Buffer.from(JSON.stringify(body));
    const headers = { accept: 'application/json', ...AUTH };
    if (payload) { headers['content-type'] = 'application/json'; headers['content-length'] = payload.length; }
    else headers['content-length'] = 0;
    const req = http.request({ host: HOST, port: PORT, method, path, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let parsed = text;
        try { parsed = text ? JSON.parse(text) : null; } catch { /* keep text */ }
        resolve({ status: res.statusCode, body: parsed });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function pool(items, concurrency, fn) {
  let next = 0;
  const worker = async () => { while (next < items.length) { const i = next++; await fn(items[i], i); } };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

let clkTck = 100;
try { clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100; } catch { /* 100 */ }
/** CPU seconds of a process and its descendants (live ones, plus the reaped ones via cutime/cstime). */
function procCpuSeconds(pid, depth = 0) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    let ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // utime stime cutime cstime
    if (depth < 4) {
      let children = '';
      try { children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim(); } catch { /* none */ }
      for (const child of children ? children.split(' ') : []) ticks += (procCpuSeconds(child, depth + 1) ?? 0) * clkTck;
    }
    return ticks / clkTck;
  } catch { return null; }
}
const cpuOf = (pid) => (pid ? procCpuSeconds(pid) : null);
const diff = (a, b) => (a === null || b === null ? null : round(b - a, 3));
const ownCpuSeconds = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };

// ---------- state ----------
const sessionIds = new Array(S);
const initialHead = new Float64Array(S); // seq of the last event before we started (collab: session.created)
const sentTo = new Float64Array(S); // events sent (requests initiated) per session
const okTo = new Float64Array(S); // events appended (answered 200) per session
const firstByte = new Column(Float64Array);
const caughtUp = new Column(Float64Array);
const measuredFrom = new Float64Array(S).fill(Infinity); // first measured seq per session
const latencies = new Column(Float64Array, 1 << 18);
const publishRtt = new Column(Float64Array);
const stats = {
  connectErrors: 0, connectStatus: {}, streamsReady: 0, streamsDropped: 0, reconnects: 0,
  received: 0, measuredReceived: 0, gaps: 0, missingBySeq: 0, duplicates: 0, wrongSession: 0, badEvents: 0,
  otherEvents: {}, pings: 0,
  publishedOk: 0, publishedMeasuredOk: 0, publishErrors: 0, publishStatus: {}, publishInFlight: 0,
};
let phase = 'setup'; // setup → ramp → run → drain → done
let measureStart = null; // {wall, perf, cpu, serverCpu}
let measureEnd = null;

// ---------- SSE client ----------
let lastAt = '';
let lastAtMs = 0;

class Stream {
  constructor(sessionIdx, behind = 0) {
    this.sessionIdx = sessionIdx;
    this.sessionId = sessionIds[sessionIdx];
    this.lastSeq = Math.max(0, initialHead[sessionIdx] - behind);
    this.startSeq = this.lastSeq;
    this.t0 = 0;
    this.caughtUp = this.lastSeq >= initialHead[sessionIdx];
    this.lastEventId = String(this.lastSeq);
    this.retry = 3000;
    this.ready = false;
    this.everReady = false;
    this.req = null;
    this.rest = '';
    this.skipLF = false;
    this.data = null;
    this.type = '';
    this.id = null;
    this.onSettled = null;
  }

  path() {
    return opts.target === 'collab' ? `/api/sessions/${this.sessionId}/events/stream`
      : `/sessions/${this.sessionId}/stream`;
  }

  connect(onSettled) {
    this.onSettled = onSettled;
    this.rest = ''; this.skipLF = false; this.data = null; this.type = ''; this.id = null;
    const headers = { accept: 'text/event-stream', 'cache-control': 'no-cache', ...AUTH };
    const first = this.t0 === 0;
    if (first) this.t0 = performance.now();
    if (opts.target === 'collab') headers['last-event-id'] = this.lastEventId;
    const req = http.request({ host: STREAM_HOST, port: STREAM_PORT, path: this.path(), agent: false, headers }, (res) => {
      if (res.statusCode !== 200) {
        stats.connectErrors++;
        stats.connectStatus[res.statusCode] = (stats.connectStatus[res.statusCode] ?? 0) + 1;
        res.resume();
        this.settle(false);
        return;
      }
      if (first) firstByte.push(performance.now() - this.t0);
      this.ready = true;
      this.everReady = true;
      stats.streamsReady++;
      this.settle(true);
      res.setEncoding('utf8');
      res.on('data', (chunk) => this.feed(chunk));
      res.on('close', () => this.closed());
      res.on('error', () => {});
    });
    req.on('error', (e) => {
      if (!this.ready) {
        stats.connectErrors++;
        stats.connectStatus[e.code ?? 'error'] = (stats.connectStatus[e.code ?? 'error'] ?? 0) + 1;
        this.settle(false);
      }
      // after ready, 'close' on the response reports it
    });
    req.end();
    this.req = req;
  }

  settle(ok) {
    const f = this.onSettled;
    this.onSettled = null;
    if (f) f(ok);
  }

  closed() {
    if (!this.ready) return;
    this.ready = false;
    stats.streamsReady--;
    if (phase === 'done') return;
    stats.streamsDropped++;
    if (opts.reconnect && phase !== 'drain') {
      setTimeout(() => {
        if (phase === 'done') return;
        stats.reconnects++;
        this.connect(null);
      }, this.retry);
    }
  }

  close() {
    if (this.req) this.req.destroy();
  }

  // text/event-stream parsing: lines end with \n, \r\n or \r; a blank line dispatches.
  feed(chunk) {
    let buf = this.rest.length ? this.rest + chunk : chunk;
    let start = 0;
    if (this.skipLF) {
      this.skipLF = false;
      if (buf.charCodeAt(0) === 10) start = 1;
    }
    if (buf.indexOf('\r', start) === -1) {
      let nl;
      while ((nl = buf.indexOf('\n', start)) !== -1) {
        this.line(buf, start, nl);
        start = nl + 1;
      }
    } else {
      const n = buf.length;
      for (let i = start; i < n; i++) {
        const c = buf.charCodeAt(i);
        if (c !== 10 && c !== 13) continue;
        this.line(buf, start, i);
        if (c === 13) {
          if (i + 1 < n) { if (buf.charCodeAt(i + 1) === 10) i++; } else this.skipLF = true;
        }
        start = i + 1;
      }
    }
    this.rest = start < buf.length ? buf.slice(start) : '';
  }

  line(buf, from, to) {
    if (from === to) return this.dispatch();
    if (buf.charCodeAt(from) === 58 /* : */) {
      stats.pings++;
      return;
    }
    const colon = buf.indexOf(':', from);
    let field;
    let value;
    if (colon === -1 || colon >= to) {
      field = buf.slice(from, to);
      value = '';
    } else {
      field = buf.slice(from, colon);
      const v = buf.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1;
      value = v <= to ? buf.slice(v, to) : '';
    }
    switch (field) {
      case 'data': this.data = this.data === null ? value : `${this.data}\n${value}`; break;
      case 'event': this.type = value; break;
      case 'id': if (value.indexOf('\0') === -1) this.id = value; break;
      case 'retry': if (/^\d+$/.test(value)) this.retry = Number(value); break;
      default: break; // ignored, as the spec says
    }
  }

  dispatch() {
    if (this.id !== null) { this.lastEventId = this.id; this.id = null; }
    const data = this.data;
    const type = this.type || 'message';
    this.data = null;
    this.type = '';
    if (data === null) return;
    this.onEvent(type, data);
  }

  onEvent(type, data) {
    const now = Date.now();
    if (type !== EVENT_TYPE) {
      stats.otherEvents[type] = (stats.otherEvents[type] ?? 0) + 1;
      if (type === 'gap') { // collab: the stream skipped to the gap's id; what was skipped is missing here
        const to = Number(this.lastEventId);
        if (to > this.lastSeq) { stats.missingBySeq += to - this.lastSeq; stats.gaps++; this.lastSeq = to; }
      }
      return;
    }
    let event;
    try { event = JSON.parse(data); } catch { stats.badEvents++; return; }
    const seq = event.seq;
    if (typeof seq !== 'number' || typeof event.at !== 'string') { stats.badEvents++; return; }
    if (event.sessionId !== this.sessionId) stats.wrongSession++;
    if (seq <= this.lastSeq) { stats.duplicates++; return; }
    if (seq !== this.lastSeq + 1) { stats.gaps++; stats.missingBySeq += seq - this.lastSeq - 1; }
    this.lastSeq = seq;
    stats.received++;
    if (!this.caughtUp && seq >= initialHead[this.sessionIdx]) {
      this.caughtUp = true;
      caughtUp.push(performance.now() - this.t0);
    }
    if (seq >= measuredFrom[this.sessionIdx]) {
      if (event.at !== lastAt) { lastAt = event.at; lastAtMs = Date.parse(lastAt); }
      latencies.push(now - lastAtMs);
      stats.measuredReceived++;
    }
  }
}

// ---------- setup ----------
const apiAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });

async function setupSessions() {
  if (opts.target === 'node') {
    for (let i = 0; i < S; i++) sessionIds[i] = crypto.randomUUID();
    return;
  }
  const project = await request(apiAgent, 'PUT', `/api/projects/${opts.project}`, { name: 'bench' });
  if (project.status !== 200 && project.status !== 201) {
    throw new Error(`PUT project: ${project.status} ${JSON.stringify(project.body)}`);
  }
  await pool(Array.from({ length: S }, (_, i) => i), 16, async (i) => {
    const r = await request(apiAgent, 'POST', `/api/projects/${opts.project}/sessions`, {});
    if (r.status !== 201 || !r.body?.id) throw new Error(`POST session: ${r.status} ${JSON.stringify(r.body)}`);
    sessionIds[i] = r.body.id;
    initialHead[i] = r.body.headSeq ?? 0;
  });
}

/** --history: N events appended to every session before the streams open (node: published to nobody). */
async function appendHistory() {
  if (!opts.history) return;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  await pool(Array.from({ length: S }, (_, i) => i), 8, async (i) => {
    if (opts.target === 'collab') {
      const r = await request(agent, 'POST', `/test/sessions/${sessionIds[i]}/events?count=${opts.history}`);
      if (r.status !== 200) throw new Error(`history: ${r.status} ${JSON.stringify(r.body)}`);
      initialHead[i] = Number(r.body);
    } else {
      for (let k = 0; k < opts.history; k++) {
        const r = await request(agent, 'POST', `/sessions/${sessionIds[i]}/events`);
        if (r.status !== 200) throw new Error(`history: ${r.status} ${JSON.stringify(r.body)}`);
        initialHead[i] = r.body.seq;
      }
    }
  });
  agent.destroy();
}

async function openStreams() {
  const streams = [];
  for (let w = 0; w < W; w++) {
    for (let i = 0; i < S; i++) {
      const behind = opts.target === 'collab' && opts.behind ? (w * S + i) % (opts.behind + 1) : 0;
      streams.push(new Stream(i, behind));
    }
  }
  const ramp = opts.storm ? streams.length : opts.ramp;
  let next = 0;
  let settled = 0;
  let lastLog = performance.now();
  await new Promise((resolve) => {
    const startOne = () => {
      if (next >= streams.length) return;
      streams[next++].connect(() => {
        settled++;
        if (performance.now() - lastLog > 2000) {
          lastLog = performance.now();
          log(`streams: ${stats.streamsReady} ready, ${stats.connectErrors} failed of ${streams.length}`);
        }
        if (settled === streams.length) resolve();
        else startOne();
      });
    };
    if (streams.length === 0) resolve();
    for (let k = 0; k < Math.min(ramp, streams.length); k++) startOne();
  });
  return streams;
}

// ---------- publishing ----------
const pubAgent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });

function startMeasure() {
  if (measureStart) return;
  for (let i = 0; i < S; i++) measuredFrom[i] = initialHead[i] + sentTo[i] + 1;
  measureStart = {
    wall: Date.now(), perf: performance.now(), cpu: ownCpuSeconds(),
    serverCpu: cpuOf(opts.serverPid), dbCpu: cpuOf(opts.dbPid),
  };
}

function endMeasure() {
  if (measureEnd) return;
  measureEnd = {
    wall: Date.now(), perf: performance.now(), cpu: ownCpuSeconds(),
    serverCpu: cpuOf(opts.serverPid), dbCpu: cpuOf(opts.dbPid),
  };
}

/** Sends `count` events to session i; calls done() when the answer came. */
function publish(i, count, done) {
  const measured = measureStart !== null;
  sentTo[i] += count;
  stats.publishInFlight++;
  const t = performance.now();
  const path = opts.target === 'collab' ? `/test/sessions/${sessionIds[i]}/events?count=${count}`
    : `/sessions/${sessionIds[i]}/events`;
  const finish = (ok, status) => {
    stats.publishInFlight--;
    if (ok) {
      okTo[i] += count;
      stats.publishedOk += count;
      if (measured) stats.publishedMeasuredOk += count;
      publishRtt.push(performance.now() - t);
    } else {
      stats.publishErrors++;
      stats.publishStatus[status] = (stats.publishStatus[status] ?? 0) + 1;
    }
    if (done) done(ok);
  };
  const req = http.request({
    host: HOST, port: PORT, method: 'POST', path, agent: pubAgent,
    headers: { 'content-length': 0, accept: 'application/json', ...AUTH },
  }, (res) => {
    res.resume();
    res.on('end', () => finish(res.statusCode === 200, res.statusCode));
    res.on('error', () => {});
  });
  req.on('error', (e) => finish(false, e.code ?? 'error'));
  req.end();
}

/** `rate` events/s round-robin over the sessions, on a catch-up timer (a late tick sends what is due). */
function publishAtRate() {
  return new Promise((resolve) => {
    const total = Math.round(opts.rate * (opts.warmup + opts.duration));
    const warmupEvents = Math.round(opts.rate * opts.warmup);
    const t0 = performance.now();
    const endAt = t0 + (opts.warmup + opts.duration) * 1000;
    if (opts.rate <= 0 || total === 0) {
      setTimeout(startMeasure, opts.warmup * 1000);
      setTimeout(() => { endMeasure(); resolve(); }, (opts.warmup + opts.duration) * 1000);
      return;
    }
    let sent = 0;
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - t0) * opts.rate) / 1000) + 1);
      while (sent < due) {
        if (sent === warmupEvents) startMeasure();
        publish(sent % S, 1, null);
        sent++;
      }
      if (sent >= total) {
        // the window closes at its nominal end, not at the last send
        setTimeout(() => { endMeasure(); resolve(); }, Math.max(0, endAt - performance.now()));
        return;
      }
      setTimeout(tick, Math.max(0, t0 + (sent * 1000) / opts.rate - performance.now()));
    };
    tick();
  });
}

/** Throughput: `concurrency` workers each append `batch` events per request, back to back. */
function appendFlat() {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const endAt = t0 + (opts.warmup + opts.duration) * 1000;
    setTimeout(startMeasure, opts.warmup * 1000);
    let next = 0;
    let running = opts.concurrency;
    let lastDone = t0;
    const worker = () => {
      if (performance.now() >= endAt) {
        if (--running === 0) { endMeasure(); measureEnd.lastCompletion = lastDone; resolve(); }
        return;
      }
      publish(next++ % S, opts.batch, (ok) => {
        lastDone = performance.now();
        if (ok) worker(); else setTimeout(worker, 20);
      });
    };
    for (let k = 0; k < opts.concurrency; k++) worker();
  });
}

async function drain() {
  const deadline = performance.now() + opts.drain * 1000;
  while (performance.now() < deadline) {
    if (stats.publishInFlight === 0 && stats.measuredReceived >= stats.publishedMeasuredOk * W) break;
    await sleep(50);
  }
}

// ---------- main ----------
async function main() {
  const cpu0 = ownCpuSeconds();
  const t0 = performance.now();
  await setupSessions();
  await appendHistory();
  const tSetup = performance.now();
  phase = 'ramp';
  log(`${S} session(s) ready in ${Math.round(tSetup - t0)} ms; opening ${S * W} streams`);
  const rampCpu0 = { server: cpuOf(opts.serverPid), db: cpuOf(opts.dbPid), own: ownCpuSeconds() };
  const streams = await openStreams();
  const tReady = performance.now();
  const rampCpu = {
    loadgenCpuSecondsRamp: round(ownCpuSeconds() - rampCpu0.own, 3),
    ...(opts.serverPid ? { serverCpuSecondsRamp: diff(rampCpu0.server, cpuOf(opts.serverPid)) } : {}),
    ...(opts.dbPid ? { dbCpuSecondsRamp: diff(rampCpu0.db, cpuOf(opts.dbPid)) } : {}),
  };
  const readyStreams = stats.streamsReady;
  log(`${readyStreams} streams ready in ${Math.round(tReady - tSetup)} ms, ${stats.connectErrors} failed`);
  if (opts.readyFile) fs.writeFileSync(opts.readyFile, `${Date.now()}\n`);
  phase = 'run';
  if (opts.mode === 'throughput') await appendFlat();
  else await publishAtRate();
  phase = 'drain';
  await drain();
  const tDrained = performance.now();
  phase = 'done';
  const droppedDuringRun = stats.streamsDropped;
  // Every stream got every event: its last one is its session's last appended one (gaps and duplicates
  // are counted in `order`).
  let complete = 0;
  for (const st of streams) if (st.everReady && st.lastSeq === initialHead[st.sessionIdx] + okTo[st.sessionIdx]) complete++;
  for (const s of streams) s.close();
  pubAgent.destroy();
  apiAgent.destroy();

  let heads = null;
  if (opts.target === 'collab' && opts.mode === 'throughput') {
    // cross-check the count against the log: sum of head seqs moved since the start
    heads = 0;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    await pool(Array.from({ length: S }, (_, i) => i), 8, async (i) => {
      const r = await request(agent, 'GET', `/api/sessions/${sessionIds[i]}`);
      heads += (r.body?.headSeq ?? 0) - initialHead[i];
    });
    agent.destroy();
  }

  const window = (measureEnd.perf - measureStart.perf) / 1000;
  const expected = stats.publishedMeasuredOk * W;
  const result = {
    target: opts.target,
    mode: opts.mode,
    sessions: S,
    watchers: W,
    streams: S * W,
    streamsReady: readyStreams,
    rate: opts.mode === 'throughput' ? null : opts.rate,
    warmup: opts.warmup,
    duration: opts.duration,
    setupMs: Math.round(tSetup - t0),
    rampMs: Math.round(tReady - tSetup),
    drainMs: Math.round(tDrained - measureEnd.perf),
    eventsPublished: stats.publishedMeasuredOk,
    eventsPublishedTotal: stats.publishedOk,
    publishErrors: stats.publishErrors,
    ...(stats.publishErrors ? { publishStatus: stats.publishStatus } : {}),
    publishRttMs: publishRtt.percentiles(),
    deliveriesExpected: expected,
    deliveriesReceived: stats.measuredReceived,
    deliveriesMissing: Math.max(0, expected - stats.measuredReceived),
    latencyMs: latencies.percentiles(),
    order: { gaps: stats.gaps, missingBySeq: stats.missingBySeq, duplicates: stats.duplicates,
      wrongSession: stats.wrongSession, badEvents: stats.badEvents },
    otherEvents: stats.otherEvents,
    eventsReceivedTotal: stats.received,
    pings: stats.pings,
    connectionErrors: stats.connectErrors,
    ...(opts.storm || opts.history ? {
      storm: opts.storm, history: opts.history, behind: opts.target === 'collab' ? opts.behind : 0,
      firstByteMs: firstByte.percentiles(), caughtUpMs: caughtUp.percentiles(),
      streamsComplete: complete, streamsIncomplete: streams.length - complete, ...rampCpu,
    } : {}),
    ...(stats.connectErrors ? { connectStatus: stats.connectStatus } : {}),
    streamsDropped: droppedDuringRun,
    reconnects: stats.reconnects,
    loadgenCpuSeconds: round(ownCpuSeconds() - cpu0, 3),
    loadgenCpuSecondsWindow: round(measureEnd.cpu - measureStart.cpu, 3),
    ...(opts.serverPid ? { serverCpuSecondsWindow: diff(measureStart.serverCpu, measureEnd.serverCpu) } : {}),
    ...(opts.dbPid ? { dbCpuSecondsWindow: diff(measureStart.dbCpu, measureEnd.dbCpu) } : {}),
    windowSeconds: round(window, 3),
  };
  if (opts.mode === 'throughput') {
    const span = (measureEnd.lastCompletion - measureStart.perf) / 1000;
    result.batch = opts.batch;
    result.concurrency = opts.concurrency;
    result.appendEventsPerSecond = Math.round(stats.publishedMeasuredOk / span);
    result.appendedTotal = stats.publishedOk;
    result.appendedTotalByLog = heads;
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function round(v, d) { const f = 10 ** d; return Math.round(v * f) / f; }

main().then(() => process.exit(0), (e) => {
  log(`failed: ${e.stack ?? e}`);
  process.exit(1);
});
