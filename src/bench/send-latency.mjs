// Benchmark: send → run.started seen on a live stream, and sequential runs per second.
// For each of N messages: POST /messages (with an Idempotency-Key), then wait on an open SSE
// stream for that run's run.started and run.finished before the next send.
//   node src/bench/send-latency.mjs http://localhost:18585 [runs=300]
import http from "node:http";
import { randomUUID } from "node:crypto";

const base = new URL(process.argv[2] ?? "http://localhost:8080");
const runs = Number(process.argv[3] ?? 300);
const agent = new http.Agent({ keepAlive: true });

function request(method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ host: base.hostname, port: base.port, method, path, agent,
      headers: { ...(data ? { "content-type": "application/json", "content-length": Buffer.byteLength(data) } : {}), ...headers } },
      (res) => { let text = ""; res.on("data", (c) => (text += c)); res.on("end", () => resolve({ status: res.statusCode, text })); });
    req.on("error", reject);
    if (data) req.write(data);
    req.end();
  });
}

const key = "bench-" + Date.now().toString(36);
await request("PUT", `/api/projects/${key}`, { name: "bench" });
const session = JSON.parse((await request("POST", `/api/projects/${key}/sessions`, {})).text).id;

const waiters = new Map();   // "type:runId" -> resolve
const arrived = new Map();   // "type:runId" -> time it was read from the stream
http.get({ host: base.hostname, port: base.port, path: `/api/sessions/${session}/events/stream`,
  headers: { accept: "text/event-stream" } }, (res) => {
  let buffer = "";
  res.setEncoding("utf8");
  res.on("data", (chunk) => {
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
      if (!data) continue;
      const event = JSON.parse(data);
      const id = event.data?.runId;
      const at = performance.now();
      const waiter = waiters.get(`${event.type}:${id}`);
      if (waiter) { waiters.delete(`${event.type}:${id}`); waiter(at); } else { arrived.set(`${event.type}:${id}`, at); }
    }
  });
});
await new Promise((r) => setTimeout(r, 500));

const fromAccepted = [], fromSent = [];
const wait = (type, runId) => new Promise((resolve) => {
  const at = arrived.get(`${type}:${runId}`);
  if (at !== undefined) { arrived.delete(`${type}:${runId}`); resolve(at); } else { waiters.set(`${type}:${runId}`, resolve); }
});
const started = performance.now();
for (let i = 0; i < runs; i++) {
  const sent = performance.now();
  // run.started may be read from the stream before the 202 is: then the latency from 202 is 0.
  const res = await request("POST", `/api/sessions/${session}/messages`, { text: `run ${i}`, author: "bench" },
    { "idempotency-key": randomUUID() });
  const accepted = performance.now();
  if (res.status !== 202) throw new Error(`send ${i}: ${res.status} ${res.text}`);
  const { runId } = JSON.parse(res.text);
  const seenAt = await wait("run.started", runId);
  fromAccepted.push(Math.max(0, seenAt - accepted));
  fromSent.push(seenAt - sent);
  await wait("run.finished", runId);
}
const elapsed = (performance.now() - started) / 1000;
const pct = (values, p) => { const s = [...values].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))]; };
console.log(JSON.stringify({
  runs, seconds: +elapsed.toFixed(2), runsPerSecond: +(runs / elapsed).toFixed(1),
  acceptedToRunStartedMs: { p50: +pct(fromAccepted, 50).toFixed(2), p99: +pct(fromAccepted, 99).toFixed(2), max: +Math.max(...fromAccepted).toFixed(2) },
  sentToRunStartedMs: { p50: +pct(fromSent, 50).toFixed(2), p99: +pct(fromSent, 99).toFixed(2), max: +Math.max(...fromSent).toFixed(2) },
}));
process.exit(0);
