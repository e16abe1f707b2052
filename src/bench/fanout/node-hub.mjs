// A minimal in-memory SSE hub, the kind of server the original incident ran (issue 4): one Node.js
// process, subscribers kept in a Map, every event written to every subscriber's response; no log,
// no replay, no durability. Used by run.sh as the baseline for collab-server's fan-out.
//
//   node node-hub.mjs [port]          (or PORT=… node node-hub.mjs; default 8090)
//
//   GET  /sessions/:id/stream   text/event-stream: "retry: 3000", then each event as
//                               id: <seq> / event: <type> / data: {"seq","sessionId","type","at","data"}
//   POST /sessions/:id/events   body {"type"?, "data"?} (optional) → {"seq": n}, published to every subscriber
//   GET  /stats                 {"subscribers","rss","heapUsed","cpuUser","cpuSystem"}
import http from 'node:http';

const port = Number(process.argv[2] ?? process.env.PORT ?? 8090);
const PING_MS = 15_000;

const sessions = new Map(); // id → {seq, subscribers: Set<ServerResponse>}
let subscriberCount = 0;

function session(id) {
  let s = sessions.get(id);
  if (!s) {
    s = { seq: 0, subscribers: new Set() };
    sessions.set(id, s);
  }
  return s;
}

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function subscribe(req, res, id) {
  const s = session(id);
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  res.write('retry: 3000\n\n');
  s.subscribers.add(res);
  subscriberCount++;
  res.on('close', () => {
    if (s.subscribers.delete(res)) subscriberCount--;
    if (s.subscribers.size === 0 && s.seq === 0) sessions.delete(id);
  });
}

function publish(id, type, data) {
  const s = session(id);
  const seq = ++s.seq;
  const event = { seq, sessionId: id, type, at: new Date().toISOString(), data };
  const frame = `id: ${seq}\nevent: ${type}\ndata: ${JSON.stringify(event)}\n\n`;
  for (const res of s.subscribers) res.write(frame);
  return seq;
}

function readBody(req, limit, done) {
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  });
  req.on('end', () => done(size > limit ? null : Buffer.concat(chunks).toString('utf8')));
}

const STREAM = /^\/sessions\/([^/]+)\/stream$/;
const EVENTS = /^\/sessions\/([^/]+)\/events$/;

const server = http.createServer((req, res) => {
  const path = req.url.split('?', 1)[0];
  let m;
  if (req.method === 'GET' && (m = STREAM.exec(path))) {
    subscribe(req, res, m[1]);
  } else if (req.method === 'POST' && (m = EVENTS.exec(path))) {
    readBody(req, 1 << 20, (text) => {
      if (text === null) return sendJson(res, 413, { error: 'payload too large' });
      let body = {};
      try {
        if (text.trim() !== '') body = JSON.parse(text);
      } catch {
        return sendJson(res, 400, { error: 'malformed JSON' });
      }
      const type = typeof body.type === 'string' ? body.type : 'output';
      const data = body.data ?? { runId: m[1], stream: 'stdout', text: 'x'.repeat(16) };
      sendJson(res, 200, { seq: publish(m[1], type, data) });
    });
  } else if (req.method === 'GET' && path === '/stats') {
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    sendJson(res, 200, {
      subscribers: subscriberCount,
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      cpuUser: cpu.user,
      cpuSystem: cpu.system,
    });
  } else {
    sendJson(res, 404, { error: 'not found' });
  }
});

// Streams stay open indefinitely: no request timeout (Node's default is 5 minutes).
server.requestTimeout = 0;

setInterval(() => {
  for (const s of sessions.values()) for (const res of s.subscribers) res.write(': ping\n\n');
}, PING_MS).unref();

// The same listen backlog as collab-server (its AcceptQueueConfiguration): with Node's default of 511,
// thousands of streams connecting at once (the reconnect-storm cases) had their SYNs dropped and
// retried after 1 s and 3 s, which measured the kernel, not the hub.
server.listen({ port, backlog: 4096 }, () => console.log(`node-hub listening on ${server.address().port} (pid ${process.pid})`));

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const s of sessions.values()) for (const res of s.subscribers) res.end();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
