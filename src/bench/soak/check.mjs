// The soak's checker (issue 17; src/bench/soak.sh), in the spirit of Jepsen's queue checker: it
// reads one history of a soak run (what the clients were told, what they saw, what the API and the
// database hold at the end, what happened to the workspaces) and lists every violation of
// "nothing lost, nothing repeated":
//   - every acknowledged send is in its session's log exactly once (by message id, and by the
//     client's own id in the text, which a retry that became a second message would repeat), at
//     the seq its answer gave, in the API's log and in the database's;
//   - the stored log of every session has seqs 1..head with no gap and no duplicate, read from the
//     API and with psql from the database, and both say the same;
//   - every watcher took 1..head of each session it followed exactly once and in order (what it
//     filled from the history counts), never got an event twice, was never skipped past without a
//     `gap` event, and saw what the log holds (a digest of seq, type and ids);
//   - every run has one run.started and, once finished, one run.finished with its status; no run
//     or session is RUNNING past its lease (sampled during the run, and at the end);
//   - no workspace of a live session was touched (its marker file and inode are as the soak left
//     them), and the sweeper's reports remove no more workspaces than there were orphans;
//   - every send was acknowledged in the end, and (short runs) every fault kind was injected.
// Usage: node check.mjs <history.json>   (prints the report, exit 1 on violations)
//        node check.mjs --self-test      (the checker's own tests on synthetic histories)
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The fault kinds of the injector (soak.mjs); a short run must inject each at least once. */
export const FAULT_KINDS = ["kill9", "sigterm", "pg-restart-fast", "pg-restart-immediate", "pg-terminate", "storm", "sweeper"];

/**
 * One step of a watcher's digest of what it took: FNV-1a (32 bits) over "seq:type:id|", where id
 * is the event's messageId, else its runId, else empty. The checker recomputes it from the
 * database's log; equal digests mean the watcher saw the same events at the same seqs.
 */
export function digestStep(hash, seq, type, id) {
  const text = `${seq}:${type}:${id ?? ""}|`;
  let h = hash >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
export const DIGEST_START = 0x811c9dc5;

/** The client's id of a send, written into its text as "id=<id>" (soak.mjs). */
export function textId(text) {
  const match = typeof text === "string" ? /(?:^|\s)id=(\S+)/.exec(text) : null;
  return match ? match[1] : null;
}

function percentile(values, p) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

// Event rows, in the API's and the database's copy alike: [seq, type, messageId, runId, textId, status].
const SEQ = 0, TYPE = 1, MESSAGE = 2, RUN = 3, TEXT = 4, STATUS = 5;

/**
 * Checks one history. Returns {violations: [text…], warnings: [text…], figures: {…}}; the run
 * passes when violations is empty. Warnings are what the report must show but that is not a
 * broken promise of the contract (a run lost after its agent finished: a known defect).
 */
export function check(history) {
  const violations = [];
  const warnings = [];
  const v = (text) => violations.push(text);
  const sessions = history.sessions ?? [];
  const apiLogs = history.api?.sessions ?? {};
  const dbEvents = history.db?.events ?? {};
  const dbSessions = new Map((history.db?.sessions ?? []).map((s) => [s.id, s]));
  let eventsChecked = 0;
  let gaps = 0;

  // ---- the stored logs: 1..head, no gap, no duplicate, API = database ----
  const logIndex = (rows) => {
    const bySeq = new Map();
    for (const row of rows) {
      if (!bySeq.has(row[SEQ])) bySeq.set(row[SEQ], []);
      bySeq.get(row[SEQ]).push(row);
    }
    return bySeq;
  };
  const checkLog = (where, id, rows, head) => {
    const bySeq = logIndex(rows);
    eventsChecked += rows.length;
    for (const [seq, same] of bySeq) {
      if (same.length > 1) v(`${where}: session ${id} has ${same.length} events at seq ${seq}`);
      if (seq < 1 || seq > head) v(`${where}: session ${id} has an event at seq ${seq} outside 1..${head} (head)`);
    }
    let missing = [];
    for (let seq = 1; seq <= head; seq++) if (!bySeq.has(seq)) missing.push(seq);
    if (missing.length) {
      gaps += missing.length;
      v(`${where}: session ${id} has a gap in its log: seq ${ranges(missing)} missing (head ${head})`);
    }
  };
  for (const session of sessions) {
    const api = apiLogs[session.id];
    const db = dbEvents[session.id];
    const dbSession = dbSessions.get(session.id);
    if (!api) v(`api: session ${session.id} could not be read`);
    if (!db || !dbSession) v(`database: session ${session.id} is not in the database`);
    if (!api || !db || !dbSession) continue;
    checkLog("api", session.id, api.events, api.headSeq);
    checkLog("database", session.id, db, dbSession.headSeq);
    if (api.headSeq !== dbSession.headSeq) v(`session ${session.id}: headSeq ${api.headSeq} in the API, ${dbSession.headSeq} in the database`);
    if (api.state !== dbSession.state) v(`session ${session.id}: state ${api.state} in the API, ${dbSession.state} in the database`);
    const dbBySeq = logIndex(db);
    for (const row of api.events) {
      const other = dbBySeq.get(row[SEQ])?.[0];
      if (other && (other[TYPE] !== row[TYPE] || other[MESSAGE] !== row[MESSAGE] || other[RUN] !== row[RUN])) {
        v(`session ${session.id} seq ${row[SEQ]}: the API says ${row[TYPE]} (${row[MESSAGE] ?? row[RUN] ?? "-"}), the database ${other[TYPE]} (${other[MESSAGE] ?? other[RUN] ?? "-"})`);
      }
    }
    if (session.ended && dbSession.state !== "ENDED") v(`session ${session.id} was ended by the soak but is ${dbSession.state}`);
    if (!session.ended && dbSession.state === "ENDED") v(`session ${session.id} ended, but nobody ended it`);
  }

  // ---- acknowledged sends: exactly once, where the answer said ----
  let lost = 0;
  let duplicated = 0;
  const checkAcks = (where, logOf) => {
    const byMessage = new Map();
    const byText = new Map();
    for (const session of sessions) {
      for (const row of logOf(session.id) ?? []) {
        if (row[TYPE] !== "message") continue;
        const add = (map, key) => {
          if (key == null) return;
          if (!map.has(key)) map.set(key, []);
          map.get(key).push({ sessionId: session.id, row });
        };
        add(byMessage, row[MESSAGE]);
        add(byText, row[TEXT]);
      }
    }
    let lostHere = 0;
    let duplicatedHere = 0;
    for (const ack of history.acks ?? []) {
      const found = (byMessage.get(ack.messageId) ?? []).filter((m) => m.sessionId === ack.sessionId);
      const elsewhere = (byMessage.get(ack.messageId) ?? []).filter((m) => m.sessionId !== ack.sessionId);
      const sameText = byText.get(ack.id) ?? [];
      if (elsewhere.length) v(`${where}: send ${ack.id} (message ${ack.messageId}) is in another session's log`);
      if (found.length === 0) {
        lostHere++;
        v(`${where}: LOST: acknowledged send ${ack.id} (key ${ack.key}, message ${ack.messageId}, session ${ack.sessionId}) is not in the log`);
        continue;
      }
      if (found.length > 1 || sameText.length > 1) {
        duplicatedHere++;
        v(`${where}: DUPLICATED: send ${ack.id} (key ${ack.key}) is in the log ${Math.max(found.length, sameText.length)} times, at seq ${[...found, ...sameText].map((m) => m.row[SEQ]).filter((s, i, all) => all.indexOf(s) === i).join(", ")}`);
      }
      if (!ack.queued && found[0].row[SEQ] !== ack.seq) {
        v(`${where}: send ${ack.id} was acknowledged at seq ${ack.seq} but its message event is at seq ${found[0].row[SEQ]}`);
      }
      if (ack.queued) {
        const queued = (logOf(ack.sessionId) ?? []).filter((row) => row[SEQ] === ack.seq);
        if (!queued.length || queued[0][TYPE] !== "message.queued" || queued[0][MESSAGE] !== ack.messageId) {
          v(`${where}: queued send ${ack.id} was acknowledged at seq ${ack.seq}, where its message.queued event is not`);
        }
      }
    }
    return { lostHere, duplicatedHere };
  };
  const apiAcks = checkAcks("api", (id) => apiLogs[id]?.events);
  const dbAcks = checkAcks("database", (id) => dbEvents[id]);
  lost = Math.max(apiAcks.lostHere, dbAcks.lostHere);
  duplicated = Math.max(apiAcks.duplicatedHere, dbAcks.duplicatedHere);
  const ackedMessages = new Map();
  for (const ack of history.acks ?? []) {
    const other = ackedMessages.get(ack.messageId);
    if (other && other.key !== ack.key) {
      duplicated++;
      v(`DUPLICATED: message ${ack.messageId} was acknowledged for two sends (${other.id}, ${ack.id})`);
    }
    ackedMessages.set(ack.messageId, ack);
  }
  if (history.db?.keys) {
    const keys = new Map(history.db.keys.map((k) => [`${k.sessionId} ${k.key}`, k]));
    for (const ack of history.acks ?? []) {
      const stored = keys.get(`${ack.sessionId} ${ack.key}`);
      if (!stored) v(`database: the Idempotency-Key of acknowledged send ${ack.id} (${ack.key}) is not kept`);
      else if (stored.messageId !== ack.messageId) v(`database: the Idempotency-Key ${ack.key} answers message ${stored.messageId}, the client was told ${ack.messageId}`);
    }
  }
  for (const send of history.unacked ?? []) {
    v(`send ${send.id} (key ${send.key}, session ${send.sessionId}) was never acknowledged: ${send.reason}`);
  }

  // ---- watchers: 1..head exactly once, in order, the same events as the log ----
  let watcherEvents = 0;
  let gapEvents = 0;
  let filled = 0;
  for (const w of history.watchers ?? []) {
    const name = `watcher ${w.watcher} of session ${w.sessionId}`;
    const dbSession = dbSessions.get(w.sessionId);
    const rows = dbEvents[w.sessionId];
    if (!dbSession || !rows) {
      v(`${name}: its session is not in the database`);
      continue;
    }
    let cursor = 0;
    let digest = DIGEST_START;
    const bySeq = logIndex(rows);
    const problems = [];
    for (const entry of w.log) {
      const [kind, a, b] = entry;
      if (kind === "gap") {
        gapEvents++;
        if (a !== cursor + 1) problems.push(`a gap event from ${a} came when it had ${cursor}`);
        continue;
      }
      if (kind === "dup") {
        problems.push(`got seq ${a} twice (the stream sent it again after it had ${b})`);
        continue;
      }
      if (kind === "skip") {
        problems.push(`the stream skipped seq ${a === b ? a : `${a}..${b}`} without a gap event (filled from the history)`);
        continue;
      }
      if (kind !== "s" && kind !== "h") {
        problems.push(`unknown log entry ${JSON.stringify(entry)}`);
        continue;
      }
      if (kind === "h") filled += b - a + 1;
      for (let seq = a; seq <= b; seq++) {
        watcherEvents++;
        if (seq === cursor + 1) {
          cursor = seq;
          const row = bySeq.get(seq)?.[0];
          digest = digestStep(digest, seq, row ? row[TYPE] : "?", row ? (row[MESSAGE] ?? row[RUN]) : null);
        } else if (seq <= cursor) {
          problems.push(`took seq ${seq} twice (it had ${cursor})`);
        } else {
          problems.push(`skipped seq ${cursor + 1 === seq - 1 ? cursor + 1 : `${cursor + 1}..${seq - 1}`}`);
          cursor = seq;
          const row = bySeq.get(seq)?.[0];
          digest = digestStep(digest, seq, row ? row[TYPE] : "?", row ? (row[MESSAGE] ?? row[RUN]) : null);
        }
      }
    }
    if (cursor !== dbSession.headSeq) problems.push(`ended at seq ${cursor}, the log's head is ${dbSession.headSeq}`);
    if (w.digest !== undefined && problems.length === 0 && (w.digest >>> 0) !== digest) {
      problems.push("saw other events than the log holds at the same seqs (digest differs)");
    }
    if (dbSession.state === "ENDED" && w.end !== "complete") problems.push(`its session ended but the stream did not end with 204 (end: ${w.end ?? "still open"})`);
    if (dbSession.state !== "ENDED" && w.end) problems.push(`its stream ended (${w.end}) though the session is ${dbSession.state}`);
    for (const p of problems.slice(0, 5)) v(`${name}: ${p}`);
    if (problems.length > 5) v(`${name}: … and ${problems.length - 5} more problems`);
  }

  // ---- runs: one start, one end each; nothing RUNNING past its lease ----
  const runs = history.db?.runs ?? [];
  const runsByStatus = {};
  const dbNow = history.db?.now ? Date.parse(history.db.now) : null;
  const starts = new Map();
  const ends = new Map();
  for (const session of sessions) {
    for (const row of dbEvents[session.id] ?? []) {
      if (row[TYPE] === "run.started") starts.set(row[RUN], (starts.get(row[RUN]) ?? 0) + 1);
      if (row[TYPE] === "run.finished") {
        if (!ends.has(row[RUN])) ends.set(row[RUN], []);
        ends.get(row[RUN]).push(row[STATUS]);
      }
    }
  }
  for (const run of runs) {
    const key = run.state === "RUNNING" ? "RUNNING" : run.status;
    runsByStatus[key] = (runsByStatus[key] ?? 0) + 1;
    if ((starts.get(run.id) ?? 0) !== 1) v(`run ${run.id} has ${starts.get(run.id) ?? 0} run.started events`);
    const ended = ends.get(run.id) ?? [];
    if (run.state === "RUNNING") {
      const expired = dbNow !== null && Date.parse(run.leaseExpiresAt) < dbNow;
      v(`run ${run.id} (session ${run.sessionId}) is still RUNNING at the end${expired ? `, past its lease (expired ${run.leaseExpiresAt}, now ${history.db.now})` : ""}`);
    } else if (ended.length !== 1) {
      v(`run ${run.id} is ${run.status} but has ${ended.length} run.finished events`);
    } else if (ended[0] !== run.status) {
      v(`run ${run.id} is ${run.status} in the runs table, ${ended[0]} in its run.finished event`);
    }
  }
  for (const session of history.db?.sessions ?? []) {
    if (session.state === "RUNNING") v(`session ${session.id} is still RUNNING at the end (run ${session.currentRunId})`);
  }
  for (const q of history.db?.queued ?? []) {
    if (q.state === "QUEUED") v(`queued message ${q.id} of session ${q.sessionId} still waits at the end`);
    if (q.state === "CANCELLED" && !sessions.find((s) => s.id === q.sessionId)?.ended) {
      v(`queued message ${q.id} of live session ${q.sessionId} was cancelled (${q.reason})`);
    }
  }
  const leaseMs = history.meta?.leaseMs ?? 30000;
  const excusedUntil = (at) => {
    // A run can only be ended by an instance that reaches the database: after a PostgreSQL
    // fault, or while no instance was up, the reaper gets two leases (and 5 s) of grace.
    const grace = 2 * leaseMs + 5000;
    for (const f of history.faults ?? []) {
      if (f.kind.startsWith("pg-") && f.at <= at && f.at + (f.ms ?? 0) + grace >= at) return true;
    }
    return !someInstanceUpThroughout(history, at - grace, at);
  };
  for (const sample of history.leaseSamples ?? []) {
    for (const run of sample.overdue) {
      if (!excusedUntil(sample.at)) {
        v(`run ${run.runId} (session ${run.sessionId}) was RUNNING ${Math.round(run.overdueMs / 1000)} s past its lease at ${new Date(sample.at).toISOString()} while the database and an instance were up`);
      }
    }
  }

  // ---- lost runs: expected after kill -9, a defect when the agent had finished ----
  const lostRuns = [];
  for (const run of runs.filter((r) => r.status === "lost")) {
    const agent = history.agents?.[run.id];
    const incarnation = agent ? findIncarnation(history, agent.ppid) : null;
    let cause;
    let kind;
    if (!agent) {
      kind = "agent never started";
      cause = "its agent never started";
    }
    else if (incarnation && incarnation.endedBy === "kill9" && agent.startMs <= incarnation.endedAt
        && (agent.doneMs == null || agent.doneMs > incarnation.endedAt - 2000)) {
      // Killed while its agent ran (or within 2 s of its end, before the end was written): the
      // end was never seen. An agent that finished well before the kill should have been recorded.
      kind = "instance killed with -9";
      cause = `its instance ${incarnation.instance} was killed with -9`;
    } else if (agent.doneMs == null && incarnation && (incarnation.endedAt == null || incarnation.endedAt > Date.parse(run.finishedAt))) {
      // Its instance outlived the run and its agent still ran: the lease was not renewed in time.
      const near = (history.faults ?? []).filter((f) => (f.kind.startsWith("pg-")) && f.at <= Date.parse(run.finishedAt) && f.at >= Date.parse(run.finishedAt) - 2 * leaseMs);
      kind = "lease not renewed (defect)";
      cause = `its agent was still running and its instance ${incarnation.instance} up when the run ended lost: the lease was not renewed in time${near.length ? ` (database fault before: ${near.map((f) => f.kind).join(", ")})` : ""}`;
      warnings.push(`run ${run.id} (session ${run.sessionId}): ${cause}`);
    } else if (agent.doneMs == null) {
      kind = "agent did not finish";
      cause = incarnation?.endedBy ? `its agent did not finish (instance ${incarnation.instance} ended by ${incarnation.endedBy})` : "its agent did not finish";
    } else {
      const near = (history.faults ?? []).filter((f) => f.kind.startsWith("pg-") && Math.abs(f.at - agent.doneMs) <= leaseMs + (f.ms ?? 0));
      kind = "agent finished, end not recorded (defect)";
      cause = `its agent finished (exit ${agent.code}) but the run ended lost${near.length ? ` (database fault near its end: ${near.map((f) => f.kind).join(", ")})` : " (no database fault near its end)"}`;
      warnings.push(`run ${run.id} (session ${run.sessionId}): ${cause}`);
    }
    lostRuns.push({ runId: run.id, sessionId: run.sessionId, kind, cause });
  }

  // ---- workspaces: live ones untouched; the sweeper removed only orphans ----
  for (const w of history.workspaces?.live ?? []) {
    const found = w.found ?? {};
    if (!found.exists) v(`workspace of live session ${w.sessionId} is gone`);
    else if (found.marker !== w.marker) v(`workspace of live session ${w.sessionId} was touched: its marker file ${found.marker == null ? "is gone" : "changed"}`);
    else if (found.inode !== w.inode) v(`workspace of live session ${w.sessionId} was replaced (inode ${w.inode} → ${found.inode})`);
  }
  const sweeps = dedupeSweeps(history.sweeps ?? []);
  const removed = sweeps.reduce((sum, s) => sum + (s.removed ?? 0), 0);
  const orphans = (history.workspaces?.planted ?? []).length + sessions.filter((s) => s.ended).length;
  if (removed > orphans) {
    v(`the sweeper's reports remove ${removed} workspaces, but there were only ${orphans} orphans and ended sessions: a live workspace may have been removed`);
  }

  // ---- what the driver saw, and the faults ----
  for (const text of history.driverViolations ?? []) v(text);
  const faultsByKind = {};
  for (const f of history.faults ?? []) faultsByKind[f.kind] = (faultsByKind[f.kind] ?? 0) + 1;
  for (const kind of history.meta?.requiredKinds ?? []) {
    if (!faultsByKind[kind]) v(`fault kind ${kind} was never injected`);
  }

  const latencies = (history.acks ?? []).map((a) => a.postMs).filter((ms) => typeof ms === "number");
  const untilAck = (history.acks ?? []).map((a) => a.ackedAt - a.sentAt);
  return {
    violations,
    warnings,
    figures: {
      faultsByKind,
      sendsAcknowledged: (history.acks ?? []).length,
      sendsNotAcknowledged: (history.unacked ?? []).length,
      lost,
      duplicated,
      gaps,
      eventsChecked: eventsChecked + watcherEvents,
      eventsInLogs: eventsChecked,
      eventsTakenByWatchers: watcherEvents,
      gapEvents,
      filledFromHistory: filled,
      // The answer's own latency (the POST that was answered 202), and the time from the send to
      // its acknowledgement, retries included (busy sessions, faults).
      ackLatencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.length ? Math.max(...latencies) : null },
      timeToAckMs: { p50: percentile(untilAck, 50), p99: percentile(untilAck, 99), max: untilAck.length ? Math.max(...untilAck) : null },
      runsStarted: runs.length,
      runsByStatus,
      lostRuns,
      lostRunsByKind: lostRuns.reduce((byKind, r) => ({ ...byKind, [r.kind]: (byKind[r.kind] ?? 0) + 1 }), {}),
      sweeps: sweeps.length,
      sweeperRemoved: removed,
      orphansPlanted: orphans,
    },
  };
}

/** Sweeps as reported by several instances (or by several polls), each once. */
export function dedupeSweeps(reports) {
  const seen = new Map();
  for (const r of reports) seen.set(`${r.startedAt}|${r.finishedAt}|${r.trigger}`, r);
  return [...seen.values()];
}

function findIncarnation(history, pid) {
  for (const instance of history.instances ?? []) {
    for (const inc of instance.incarnations ?? []) {
      if (inc.pid === pid) return { ...inc, instance: instance.name };
    }
  }
  return null;
}

/** Whether some instance was ready from `from` to `to` (one incarnation covering it all). */
function someInstanceUpThroughout(history, from, to) {
  if (!history.instances) return true;
  return history.instances.some((instance) =>
    (instance.incarnations ?? []).some((inc) => inc.readyAt != null && inc.readyAt <= from && (inc.endedAt == null || inc.endedAt >= to)));
}

/** "3, 5..9" for a sorted list of numbers. */
function ranges(numbers) {
  const parts = [];
  for (let i = 0; i < numbers.length; i++) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j++;
    parts.push(i === j ? `${numbers[i]}` : `${numbers[i]}..${numbers[j]}`);
    i = j;
  }
  return parts.length > 10 ? parts.slice(0, 10).join(", ") + ` … (${numbers.length} in all)` : parts.join(", ");
}

// ---------------------------------------------------------------------------------------------
// Self-test: synthetic histories, each with one known fault (and clean ones that must pass).

/** A clean history: sessions with sends, runs, watchers that took everything; nothing wrong. */
export function syntheticHistory() {
  const now = Date.parse("2026-12-03T10:00:00Z");
  const history = {
    meta: { leaseMs: 10000, requiredKinds: [] },
    instances: [{ name: "1", incarnations: [{ pid: 100, startedAt: now - 600000, readyAt: now - 590000, endedAt: null }] },
      { name: "2", incarnations: [{ pid: 200, startedAt: now - 600000, readyAt: now - 590000, endedAt: now - 300000, endedBy: "kill9" },
        { pid: 201, startedAt: now - 290000, readyAt: now - 280000, endedAt: null }] }],
    faults: [{ at: now - 300000, kind: "kill9", target: "2", ms: 10 }],
    sessions: [],
    acks: [],
    unacked: [],
    watchers: [],
    api: { sessions: {} },
    db: { now: new Date(now).toISOString(), sessions: [], events: {}, runs: [], queued: [], keys: [] },
    leaseSamples: [],
    workspaces: { live: [], planted: [{ sessionId: "s-ended", existsAtEnd: false }] },
    sweeps: [{ startedAt: "a", finishedAt: "b", trigger: "manual", removed: 1 }],
    agents: {},
  };
  const addSession = (id, { policy = "reject", ended = false, messages = 3 } = {}) => {
    const rows = [[1, "session.created", null, null, null, null]];
    const push = (type, messageId, runId, text, status) => rows.push([rows.length + 1, type, messageId, runId, text, status]);
    for (let i = 1; i <= messages; i++) {
      const messageId = `${id}-m${i}`;
      const runId = `${id}-r${i}`;
      const key = `${id}-k${i}`;
      const queued = policy === "queue" && i === 2;
      if (queued) push("message.queued", messageId, null, `${id}-${i}`, null);
      const ackSeq = rows.length + (queued ? 0 : 1);
      push("message", messageId, null, `${id}-${i}`, null);
      push("run.started", messageId, runId, null, null);
      push("output", null, runId, null, null);
      push("output", null, runId, null, null);
      const status = i === 3 ? "lost" : "succeeded";
      push("run.finished", null, runId, null, status);
      history.acks.push({ key, id: `${id}-${i}`, sessionId: id, messageId, seq: ackSeq, queued, runId: queued ? null : runId,
        sentAt: now - 100000 + i * 1000, ackedAt: now - 100000 + i * 1000 + 40, postMs: 30 });
      history.db.keys.push({ sessionId: id, key, messageId });
      history.db.runs.push({ id: runId, sessionId: id, messageId, state: "FINISHED", status, leaseExpiresAt: new Date(now - 50000).toISOString() });
      history.agents[runId] = i === 3 ? { ppid: 200, startMs: now - 301000, doneMs: null, code: null } : { ppid: 100, startMs: now - 99000, doneMs: now - 98000, code: 0 };
    }
    if (ended) push("session.ended", null, null, null, null);
    const head = rows.length;
    history.sessions.push({ id, project: policy, policy, ended });
    history.api.sessions[id] = { state: ended ? "ENDED" : "IDLE", headSeq: head, events: rows.map((r) => [...r]) };
    history.db.sessions.push({ id, state: ended ? "ENDED" : "IDLE", headSeq: head, currentRunId: null });
    history.db.events[id] = rows.map((r) => [...r]);
    if (!ended) history.workspaces.live.push({ sessionId: id, marker: `${id} marker`, inode: 42, found: { exists: true, marker: `${id} marker`, inode: 42 } });
    return rows;
  };
  const watch = (watcher, id, log) => {
    const rows = history.db.events[id];
    let digest = DIGEST_START;
    for (const r of rows) digest = digestStep(digest, r[SEQ], r[TYPE], r[MESSAGE] ?? r[RUN]);
    const ended = history.sessions.find((s) => s.id === id).ended;
    history.watchers.push({ watcher, sessionId: id, end: ended ? "complete" : null, log: log ?? [["s", 1, rows.length]], digest });
  };
  addSession("s1", { policy: "reject" });
  const s2 = addSession("s2", { policy: "queue" });
  addSession("s3", { ended: true, messages: 1 });
  watch(1, "s1");
  // A watcher that met a gap event (replay cap) and filled it from the history, then reconnected.
  watch(2, "s1", [["s", 1, 2], ["gap", 3, 6], ["h", 3, 6], ["s", 7, 10], ["s", 11, history.db.events.s1.length]]);
  watch(3, "s2");
  watch(4, "s3");
  void s2;
  return history;
}

function selfTest() {
  const cases = [];
  const expect = (name, mutate, needle) => cases.push({ name, mutate, needle });
  expect("a clean history passes", () => {}, null);
  expect("a clean history with nothing at all passes", (h) => {
    Object.assign(h, { sessions: [], acks: [], watchers: [], api: { sessions: {} }, db: { now: h.db.now, sessions: [], events: {}, runs: [], queued: [], keys: [] },
      workspaces: { live: [], planted: [] }, sweeps: [], agents: {} });
  }, null);
  expect("a lost ack: an acknowledged send that is in no log", (h) => {
    h.acks.push({ key: "k-lost", id: "s1-99", sessionId: "s1", messageId: "m-lost", seq: 99, queued: false, sentAt: 0, ackedAt: 1 });
    h.db.keys.push({ sessionId: "s1", key: "k-lost", messageId: "m-lost" });
  }, "LOST");
  expect("a lost ack in the database only", (h) => {
    const rows = h.db.events.s1;
    const i = rows.findIndex((r) => r[TYPE] === "message");
    rows[i] = [rows[i][SEQ], "output", null, "x", null, null];
  }, "database: LOST");
  expect("a duplicate: the same send twice in the log (a retry that became a new message)", (h) => {
    for (const where of [h.api.sessions.s1.events, h.db.events.s1]) {
      const head = where.length;
      where.push([head + 1, "message", "s1-m1-again", null, "s1-1", null]);
    }
    h.api.sessions.s1.headSeq++;
    h.db.sessions.find((s) => s.id === "s1").headSeq++;
    for (const w of h.watchers.filter((w) => w.sessionId === "s1")) w.log.push(["s", h.db.events.s1.length, h.db.events.s1.length]);
  }, "DUPLICATED");
  expect("a gap: a seq missing from the stored log", (h) => {
    h.db.events.s1.splice(3, 1);
  }, "gap in its log");
  expect("a gap in the API's log", (h) => {
    h.api.sessions.s2.events.splice(4, 1);
  }, "api: session s2 has a gap");
  expect("a watcher that skipped one", (h) => {
    h.watchers[0].log = [["s", 1, 3], ["s", 5, h.db.events.s1.length]];
  }, "skipped seq 4");
  expect("a watcher whose stream skipped one without a gap event (though it filled it)", (h) => {
    h.watchers[0].log = [["s", 1, 3], ["skip", 4, 4], ["h", 4, 4], ["s", 5, h.db.events.s1.length]];
  }, "without a gap event");
  expect("a watcher that saw one twice", (h) => {
    h.watchers[0].log = [["s", 1, 5], ["s", 5, h.db.events.s1.length]];
  }, "took seq 5 twice");
  expect("a watcher to which the stream sent one again", (h) => {
    h.watchers[2].log.push(["dup", 3, h.db.events.s2.length]);
  }, "got seq 3 twice");
  expect("a watcher that stopped short of the head", (h) => {
    h.watchers[2].log = [["s", 1, h.db.events.s2.length - 1]];
  }, "the log's head is");
  expect("a watcher that saw other events than the log holds", (h) => {
    h.watchers[0].digest ^= 1;
  }, "digest differs");
  expect("a session RUNNING past its lease", (h) => {
    const run = h.db.runs.find((r) => r.sessionId === "s1");
    run.state = "RUNNING";
    run.status = null;
    h.db.sessions.find((s) => s.id === "s1").state = "RUNNING";
    h.api.sessions.s1.state = "RUNNING";
  }, "past its lease");
  expect("a run overdue during the run, with the database and instances up", (h) => {
    h.leaseSamples.push({ at: Date.parse(h.db.now) - 100000, overdue: [{ runId: "s1-r1", sessionId: "s1", overdueMs: 25000 }] });
  }, "past its lease at");
  expect("a run overdue right after a PostgreSQL restart is excused", (h) => {
    const at = Date.parse(h.db.now) - 100000;
    h.faults.push({ at: at - 8000, kind: "pg-restart-fast", ms: 2000 });
    h.leaseSamples.push({ at, overdue: [{ runId: "s1-r1", sessionId: "s1", overdueMs: 12000 }] });
  }, null);
  expect("a touched workspace: its marker file is gone", (h) => {
    h.workspaces.live[0].found.marker = null;
  }, "was touched");
  expect("a removed workspace of a live session", (h) => {
    h.workspaces.live[1].found = { exists: false };
  }, "is gone");
  expect("a replaced workspace (same marker, new directory)", (h) => {
    h.workspaces.live[1].found.inode = 43;
  }, "was replaced");
  expect("sweeper reports removing more than there were orphans", (h) => {
    h.sweeps.push({ startedAt: "c", finishedAt: "d", trigger: "schedule", removed: 5 });
  }, "sweeper's reports remove");
  expect("the same sweep reported by two instances counts once", (h) => {
    h.sweeps.push({ ...h.sweeps[0] });
  }, null);
  expect("a send never acknowledged", (h) => {
    h.unacked.push({ key: "k", id: "s1-7", sessionId: "s1", reason: "gave up" });
  }, "never acknowledged");
  expect("an ack at the wrong seq", (h) => {
    h.acks[0].seq += 1;
  }, "acknowledged at seq");
  expect("an Idempotency-Key that answers another message", (h) => {
    h.db.keys[0].messageId = "other";
  }, "answers message");
  expect("a run with two run.finished events", (h) => {
    for (const where of [h.api.sessions.s1.events, h.db.events.s1]) where.push([where.length + 1, "run.finished", null, "s1-r1", null, "succeeded"]);
    h.api.sessions.s1.headSeq++;
    h.db.sessions.find((s) => s.id === "s1").headSeq++;
    for (const w of h.watchers.filter((w) => w.sessionId === "s1")) w.log.push(["s", h.db.events.s1.length, h.db.events.s1.length]);
  }, "2 run.finished events");
  expect("an ended session whose watcher's stream never ended", (h) => {
    h.watchers[3].end = null;
  }, "did not end with 204");
  expect("a fault kind never injected in a short run", (h) => {
    h.meta.requiredKinds = ["kill9", "storm"];
  }, "fault kind storm was never injected");
  expect("a message cancelled in a live session's queue", (h) => {
    h.db.queued.push({ id: "q1", sessionId: "s2", state: "CANCELLED", reason: "session-ended" });
  }, "was cancelled");

  let failed = 0;
  for (const c of cases) {
    const history = syntheticHistory();
    c.mutate(history);
    const result = check(history);
    const ok = c.needle === null ? result.violations.length === 0 : result.violations.some((line) => line.includes(c.needle));
    if (!ok) failed++;
    console.log(`${ok ? "ok  " : "FAIL"} ${c.name}${ok ? "" : `\n       wanted ${c.needle === null ? "no violation" : `a violation with "${c.needle}"`}, got:\n         ${result.violations.join("\n         ") || "(none)"}`}`);
  }
  // The figures of the clean history, and the lost run it holds: classified, never a violation.
  const clean = check(syntheticHistory());
  const figuresOk = clean.figures.lost === 0 && clean.figures.duplicated === 0 && clean.figures.sendsAcknowledged === 7
    && clean.figures.lostRuns.length === 2 && clean.figures.lostRuns.every((r) => r.cause.includes("killed with -9"))
    && clean.figures.ackLatencyMs.p50 === 30 && clean.figures.timeToAckMs.p50 === 40;
  if (!figuresOk) failed++;
  console.log(`${figuresOk ? "ok  " : "FAIL"} the figures of a clean history (7 acks, 2 lost runs after kill -9, ack p50 30 ms, 40 ms to the ack)${figuresOk ? "" : `: ${JSON.stringify(clean.figures)}`}`);
  const defect = syntheticHistory();
  defect.agents["s1-r3"] = { ppid: 100, startMs: 0, doneMs: Date.parse(defect.db.now) - 60000, code: 0 };
  const defectResult = check(defect);
  const warned = defectResult.violations.length === 0 && defectResult.warnings.some((w) => w.includes("its agent finished"));
  if (!warned) failed++;
  console.log(`${warned ? "ok  " : "FAIL"} a run lost after its agent finished is reported as a defect (a warning)`);
  // An agent whose JVM was killed under it can still finish (its last line was out; "done" goes
  // to a file): expected. One that finished long before the kill should have been recorded.
  const killedUnder = syntheticHistory();
  killedUnder.agents["s1-r3"] = { ppid: 200, startMs: Date.parse(killedUnder.db.now) - 302000, doneMs: Date.parse(killedUnder.db.now) - 299500, code: 0 };
  const finishedBefore = syntheticHistory();
  finishedBefore.agents["s1-r3"] = { ppid: 200, startMs: Date.parse(finishedBefore.db.now) - 320000, doneMs: Date.parse(finishedBefore.db.now) - 310000, code: 0 };
  const stillRunning = syntheticHistory();
  stillRunning.agents["s1-r3"] = { ppid: 100, startMs: Date.parse(stillRunning.db.now) - 60000, doneMs: null, code: null };
  const kills = check(killedUnder).warnings.length === 0 && check(finishedBefore).warnings.some((w) => w.includes("its agent finished"))
    && check(stillRunning).warnings.some((w) => w.includes("lease was not renewed"));
  if (!kills) failed++;
  console.log(`${kills ? "ok  " : "FAIL"} a run lost under a kill -9 is expected even when its agent finished after the kill; not when it finished 10 s before; one whose instance stayed up while its agent ran is a defect`);
  console.log(failed ? `self-test: ${failed} of ${cases.length + 3} FAILED` : `self-test: all ${cases.length + 3} passed`);
  return failed === 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv[2] === "--self-test") {
    process.exit(selfTest() ? 0 : 1);
  } else if (process.argv[2]) {
    const result = check(JSON.parse(readFileSync(process.argv[2], "utf8")));
    console.log(JSON.stringify(result.figures, null, 2));
    for (const w of result.warnings) console.log(`warning: ${w}`);
    for (const line of result.violations) console.log(`VIOLATION: ${line}`);
    process.exit(result.violations.length ? 1 : 0);
  } else {
    console.error("usage: node check.mjs <history.json> | --self-test");
    process.exit(2);
  }
}
