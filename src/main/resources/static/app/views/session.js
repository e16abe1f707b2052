// /p/{key}/s/{id}: one session, live. The stream (stream.js) feeds events in seq order, each
// exactly once (deduplicated by seq across reconnects; gaps filled from the history); they
// are rendered in batches, once per animation frame (timeline.js), and at most MAX_ITEMS
// stay in the page (#load-earlier brings older ones back). Sends go through the outbox
// (outbox.js). The header shows the connection; #run-status never claims more than is known.
import { get, post, del, ApiError } from '../api.js';
import { h, link, seg, duration, field, replace, append } from '../dom.js';
import { follow } from '../stream.js';
import { createRenderer, usageWords } from '../timeline.js';
import { createOutbox } from '../outbox.js';

/** Top-level timeline items kept in the page. */
const MAX_ITEMS = 1500;
/** Items kept while the user reads further up (nothing is trimmed under their eyes before this). */
const HARD_MAX_ITEMS = 4 * MAX_ITEMS;
/** Events kept in memory (for re-rendering after "load earlier" without a request). */
const MAX_EVENTS = 20000;
/** Older events fetched per "load earlier". */
const PAGE = 200;
/** A reconnect gap larger than this is not filled: the view restarts at the head instead. */
const MAX_FILL = 5000;
const GONE = 'This session does not exist or you no longer have access.';

export default async function view(ctx) {
  const { id } = ctx.params;
  const { shell, signal } = ctx;
  const base = '/api/sessions/' + seg(id);

  // Asked at the same time as the session (who approves tool calls): no extra round trip.
  const projectAsked = ctx.params.key ? get('/api/projects/' + seg(ctx.params.key), { signal }) : null;
  projectAsked?.catch(() => {});
  let session;
  try {
    session = await get(base, { signal });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      ctx.title('Not found');
      replace(ctx.root, h('h1', { text: 'Session not found' }), h('p', { text: GONE }),
        h('p', {}, link('/', 'Projects')));
      return;
    }
    throw error;
  }
  const key = session.project;
  let role = shell.roleIn(key);
  if (!role) {
    // The session could be read, so the caller has a role now: `me` may be from before they
    // were added (another tab, an admin): read it again once.
    try {
      await shell.refreshMe();
      role = shell.roleIn(key);
    } catch (error) {
      if (error.name === 'AbortError') throw error;
    }
  }
  let canSend = role === 'member' || role === 'admin';
  const canEnd = role === 'admin';
  // Who may allow or deny the agent's tool calls: the project's `approvers` setting.
  let approvers = 'members';
  // A server with approvals says who approves in the project's JSON (and lists pending ones).
  let approvalsKnown = false;
  try {
    const project = await (projectAsked && ctx.params.key === key ? projectAsked
      : get('/api/projects/' + seg(key), { signal }));
    approvalsKnown = !!project && typeof project.approvers === 'string';
    if (project && project.approvers === 'admins') approvers = 'admins';
  } catch (error) {
    if (error.name === 'AbortError') throw error;
  }
  let canApprove = role === 'admin' || (role === 'member' && approvers === 'members');
  const rendererOptions = {
    canApprove: () => canApprove,
    decide: (approvalId, decision) => post(base + '/approvals/' + seg(approvalId), { decision }, { signal }),
  };
  const title = session.title || 'Untitled session';
  ctx.title(title);

  // ---- state ----
  let events = []; // loaded events, contiguous, ascending
  let lastSeq = 0; // the last seq taken from the stream (or skipped as an earlier gap)
  let renderedFrom = null; // the first seq in the page
  let queue = [];
  let frame = null;
  let live = false;
  let everLive = false;
  // After a (re)connect the stream first replays what this page missed: until the page has
  // the head the server had when the connection opened, its state may be stale (a run that
  // ended while the server was away still looks RUNNING), so the status stays "unknown".
  let catchUpTo = null; // the head seq to reach, null when caught up
  let catchUpAsk = 0; // which connection's question is current
  let stopped = null; // why the stream stopped for good, if it did
  let busyRunId = null;
  /** Runs seen to finish (a 409 naming one of them is stale: the stream was faster). */
  const finishedRuns = new Set();
  let firstRender = false;
  const openedAt = session.headSeq;
  let renderer = createRenderer(rendererOptions);
  /** Token usage of the events seen (seq → usage), summed in the header. */
  const usageBySeq = new Map();
  let firstSeqSeen = Number.MAX_SAFE_INTEGER;
  /** approvalId → approval.requested data: the ones still waiting for a decision. */
  const pending = new Map();
  /** approvalId → a prompt in the pending list (for a request not in the page). */
  const pendingPrompts = new Map();

  // ---- markup ----
  const stateBadge = h('span', { id: 'session-state', class: 'badge' });
  const sessionUsage = h('p', { id: 'session-usage', class: 'session-usage muted', hidden: true });
  const pendingList = h('div', { id: 'pending-approvals', class: 'pending-approvals', hidden: true });
  const pendingAnnounce = h('p', { id: 'approvals-announce', class: 'visually-hidden', role: 'status',
    'aria-live': 'polite' });
  const path = '/p/' + seg(key) + '/s/' + seg(id);
  const runStatus = h('p', { id: 'run-status', class: 'run-status', role: 'status', tabindex: '-1' });
  const interruptButton = h('button', { type: 'button', id: 'interrupt', class: 'danger', text: 'Interrupt' });
  const endButton = h('button', { type: 'button', id: 'end-session', class: 'danger', text: 'End session' });
  const busyNotice = h('div', { id: 'busy-notice', class: 'busy-notice', role: 'alert' });
  const loadEarlier = h('button', { type: 'button', id: 'load-earlier', text: 'Load earlier events' });
  const timeline = h('div', { id: 'timeline', class: 'timeline', role: 'log', 'aria-label': 'Session events',
    tabindex: '-1' });
  const newEvents = h('button', { type: 'button', id: 'new-events', class: 'new-events primary', text: 'New events ↓' });
  const outboxList = h('ul', { id: 'outbox', class: 'outbox', 'aria-label': 'Messages not sent yet', 'aria-live': 'polite' });
  const message = h('textarea', { id: 'message', name: 'message', rows: '3', autocomplete: 'off' });
  const sendButton = h('button', { type: 'submit', id: 'send', class: 'primary', text: 'Send' });
  const composer = h('form', { id: 'composer', class: 'composer' },
    field('Message', message, 'Enter sends, Shift+Enter starts a new line.'), h('p', { class: 'actions' }, sendButton));
  const yes = h('button', { type: 'button', id: 'confirm-end-yes', class: 'danger', text: 'End session' });
  // The safe choice has the focus when the dialog opens.
  const no = h('button', { type: 'button', id: 'confirm-end-no', text: 'Cancel', autofocus: true });
  const dialog = h('dialog', { id: 'confirm-end', 'aria-labelledby': 'confirm-end-title' },
    h('h2', { id: 'confirm-end-title', text: 'End this session?' }),
    h('p', { text: 'The agent is stopped if it is running, the session is read-only from then on and its '
      + 'workspace is removed. This cannot be undone.' }),
    h('p', { class: 'actions' }, yes, no));
  loadEarlier.hidden = true;
  newEvents.hidden = true;
  busyNotice.hidden = true;
  outboxList.hidden = true;

  // append() skips the nulls (Element.append would add the text "null" for a member).
  append(ctx.root, [
    h('p', { class: 'breadcrumbs' }, link('/p/' + seg(key), key), ' / session'),
    h('div', { class: 'session-head' }, h('h1', { text: title }), stateBadge),
    h('nav', { class: 'session-tabs', 'aria-label': 'Session pages' },
      h('a', { href: path, 'data-nav': true, 'aria-current': 'page', text: 'Timeline' }),
      h('a', { href: path + '/changes', 'data-nav': true, id: 'changes-link', text: 'Changes' })),
    sessionUsage,
    runStatus,
    pendingAnnounce,
    pendingList,
    h('div', { class: 'actions session-actions' }, canSend ? interruptButton : null, canEnd ? endButton : null),
    busyNotice,
    // Past a long timeline to the composer in one step (it comes after the timeline).
    canSend ? h('button', { type: 'button', class: 'skip-link link-button', id: 'skip-to-message',
      text: 'Skip to the message box', onclick: () => message.isConnected && message.focus() }) : null,
    loadEarlier,
    timeline,
    newEvents,
    canSend ? outboxList : null,
    canSend ? composer : h('p', { class: 'muted viewer-note', id: 'read-only',
      text: 'You can follow this session; only project members can send messages.' }),
    canEnd ? dialog : null,
  ]);

  // ---- state shown ----
  function currentRun() {
    return session.currentRunId ? renderer.runs.get(session.currentRunId) : null;
  }

  function showState() {
    stateBadge.dataset.state = session.state;
    stateBadge.className = 'badge state-' + session.state;
    stateBadge.textContent = session.state === 'RUNNING' ? 'Running' : session.state === 'ENDED' ? 'Ended' : 'Idle';
    const ended = session.state === 'ENDED';
    interruptButton.hidden = session.state !== 'RUNNING';
    endButton.hidden = ended;
    if (ended && composer.isConnected) {
      composer.remove();
      outboxList.after(h('p', { class: 'muted', id: 'read-only', text: 'This session has ended: it is read-only.' }));
    }
    showRunStatus();
  }

  /**
   * Sets a live region's words, with the ticking number (`seconds`, may be '') in an
   * aria-hidden span: screen readers hear the change of state, not a new number every second.
   */
  function say(element, before, seconds, after = '') {
    let [words, clock, rest] = element.children;
    if (!words || !words.classList.contains('said')) {
      words = h('span', { class: 'said' });
      clock = h('span', { class: 'clock', 'aria-hidden': 'true' });
      rest = h('span', { class: 'said' });
      element.replaceChildren(words, clock, rest);
    }
    if (words.textContent !== before) words.textContent = before;
    if (clock.textContent !== seconds) clock.textContent = seconds;
    if (rest.textContent !== after) rest.textContent = after;
  }

  function showRunStatus() {
    const run = currentRun();
    const since = run ? ' · ' + duration(Date.now() - run.startedAt) : '';
    let state;
    let text;
    let clock = '';
    let after = '';
    if (session.state === 'ENDED') {
      state = 'ended';
      text = 'Session ended';
    } else if (stopped) {
      state = 'unknown';
      text = stopped;
    } else if (live && catchUpTo !== null) {
      state = 'unknown';
      text = 'Catching up with what happened while the connection was lost…';
    } else if (!live) {
      state = 'unknown';
      text = (everLive ? 'Connection lost' : 'Connecting') + ' — state may be out of date (last known: '
        + (session.state === 'RUNNING' ? 'agent running' : 'idle');
      clock = session.state === 'RUNNING' ? since : '';
      after = ')';
    } else if (session.state === 'RUNNING') {
      state = 'running';
      text = 'Agent running';
      clock = since;
      after = run && run.by ? ' · started by ' + run.by : '';
    } else {
      state = 'idle';
      text = 'Idle: the agent is not running';
    }
    runStatus.dataset.state = state;
    say(runStatus, text, clock, after);
  }

  function showBusy() {
    const run = busyRunId ? renderer.runs.get(busyRunId) : null;
    if (!busyRunId || session.state !== 'RUNNING' || finishedRuns.has(busyRunId) || (run && run.status !== 'running')) {
      busyNotice.hidden = true;
      busyNotice.replaceChildren();
      return;
    }
    const who = run && run.by ? ' started by ' + run.by : '';
    const when = run ? ', running for ' + duration(Date.now() - run.startedAt) : '';
    let words = busyNotice.querySelector('.busy-text');
    if (!words) {
      // role=alert: its words are set once per notice; only the aria-hidden clock ticks.
      words = h('span', { class: 'busy-text' });
      busyNotice.replaceChildren(words, ' ',
        h('button', { type: 'button', id: 'busy-interrupt', class: 'danger', text: 'Interrupt the run', onclick: interrupt }));
    }
    say(words, 'Not sent: the agent is busy with a run' + who, when, '. Wait for it or interrupt it, then retry.');
    busyNotice.hidden = false;
  }

  function showUsage() {
    if (!usageBySeq.size) {
      sessionUsage.hidden = true;
      return;
    }
    const totals = { input: 0, output: 0, cost: 0, costKnown: false };
    for (const usage of usageBySeq.values()) {
      totals.input += Number(usage.inputTokens) || 0;
      totals.output += Number(usage.outputTokens) || 0;
      if (typeof usage.costUsd === 'number' && Number.isFinite(usage.costUsd)) {
        totals.cost += usage.costUsd;
        totals.costKnown = true;
      }
    }
    sessionUsage.hidden = false;
    // Only the events this page has seen are summed: say so when it did not see them all.
    sessionUsage.textContent = 'Session usage: ' + usageWords(totals)
      + (firstSeqSeen > 1 ? ' (of the events loaded on this page)' : '');
  }

  function seen(event) {
    firstSeqSeen = Math.min(firstSeqSeen, event.seq);
    if (event.type === 'usage' && !usageBySeq.has(event.seq)) usageBySeq.set(event.seq, event.data || {});
  }

  /**
   * The approvals still waiting, above the timeline: a "Show" button to the prompt in the
   * timeline, or the prompt itself when its request is not in the page (opened later).
   */
  function showPending() {
    const rows = [];
    for (const [approvalId, data] of pending) {
      const inPage = renderer.approvals.get(approvalId);
      const own = pendingPrompts.get(approvalId);
      if (inPage && inPage.element.isConnected && own && !own.contains(document.activeElement)) {
        // The request arrived in the timeline after all: its prompt there is the one.
        pendingPrompts.delete(approvalId);
      }
      if (inPage && inPage.element.isConnected && !pendingPrompts.has(approvalId)) {
        rows.push(h('p', { class: 'pending-approval', dataset: { approvalId } },
          h('strong', { text: 'Waiting for approval: ' }), h('code', { text: String(data.tool ?? 'a tool') }), ' ',
          h('button', { type: 'button', class: 'link-button show-approval', text: 'Show',
            'aria-label': 'Show the approval request for ' + String(data.tool ?? 'a tool'),
            onclick: () => {
              const target = inPage.element.querySelector('button:not([disabled])') || inPage.status;
              inPage.element.scrollIntoView({ block: 'center' });
              target.focus();
            } })));
      } else {
        let prompt = pendingPrompts.get(approvalId);
        if (!prompt) {
          prompt = renderer.approvalPrompt(data, null, 'pending-approval-');
          pendingPrompts.set(approvalId, prompt);
        }
        rows.push(prompt);
      }
    }
    // Prompts decided here stay (with their decision) until the page is left.
    for (const [approvalId, prompt] of pendingPrompts) {
      if (!pending.has(approvalId)) rows.push(prompt);
    }
    const same = rows.length === pendingList.children.length && rows.every((row, i) => pendingList.children[i] === row);
    if (!same) {
      const focused = pendingList.contains(document.activeElement) ? document.activeElement : null;
      pendingList.replaceChildren(...rows);
      if (focused && !focused.isConnected && timeline.isConnected) timeline.focus({ preventScroll: true });
    }
    pendingList.hidden = rows.length === 0;
  }

  function approvalEvent(event) {
    const data = event.data || {};
    const approvalId = String(data.approvalId ?? '');
    if (!approvalId) return;
    if (event.type === 'approval.requested') {
      if (!decidedIds.has(approvalId)) {
        pending.set(approvalId, data);
        if (event.seq > openedAt) pendingAnnounce.textContent = 'Approval needed: the agent asks to use ' + String(data.tool ?? 'a tool')
          + (canApprove ? '.' : '. Waiting for a project member to decide.');
      }
    } else {
      decidedIds.add(approvalId);
      pending.delete(approvalId);
      const prompt = pendingPrompts.get(approvalId);
      if (prompt) renderer.decided(prompt.approval, data);
    }
  }
  const decidedIds = new Set();

  function apply(event) {
    const data = event.data || {};
    seen(event);
    if (event.type === 'approval.requested' || event.type === 'approval.decided') approvalEvent(event);
    if (event.type === 'run.started') {
      session.state = 'RUNNING';
      session.currentRunId = data.runId;
    } else if (event.type === 'run.finished') {
      finishedRuns.add(data.runId);
      // Requests of a finished run wait no more (approval.decided says so; older logs may not).
      for (const [approvalId, request] of pending) {
        if (String(request.runId) === String(data.runId)) {
          pending.delete(approvalId);
          const prompt = pendingPrompts.get(approvalId);
          if (prompt) renderer.decided(prompt.approval, { decision: 'deny', by: null, reason: 'run-ended' });
        }
      }
      if (session.state !== 'ENDED') session.state = 'IDLE';
      if (session.currentRunId === data.runId) session.currentRunId = null;
      if (busyRunId === data.runId) busyRunId = null;
    } else if (event.type === 'session.ended') {
      session.state = 'ENDED';
      session.currentRunId = null;
      busyRunId = null;
    }
  }

  // ---- rendering ----
  function atBottom() {
    return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 80;
  }

  function toBottom() {
    trim(true); // what was kept while the user read further up goes now
    window.scrollTo(0, document.documentElement.scrollHeight);
    newEvents.hidden = true;
  }

  function schedule() {
    if (frame) return;
    // rAF batches DOM work per frame; the timeout keeps a hidden tab from piling up.
    frame = requestAnimationFrame(flush);
    setTimeout(flush, 500);
  }

  function flush() {
    if (frame) cancelAnimationFrame(frame);
    frame = null;
    if (!queue.length || signal.aborted) return;
    const stick = atBottom();
    const fragment = document.createDocumentFragment();
    for (const event of queue) renderer.render(event, fragment);
    queue = [];
    timeline.appendChild(fragment);
    trim(stick);
    renderer.settle();
    showState();
    showBusy();
    showUsage();
    showPending();
    if (stick) toBottom();
    else newEvents.hidden = false;
    if (!firstRender && lastSeq >= openedAt) {
      // When the page showed the latest events as of opening it (the budget: within 1 s).
      firstRender = true;
      performance.mark('collab:session-rendered');
    }
  }

  /**
   * Drops the oldest items beyond MAX_ITEMS, but only while the user is at the bottom: when they
   * have scrolled up (or loaded earlier events) the text they read stays, up to a hard bound
   * (HARD_MAX_ITEMS), and anything removed above them keeps what they see in place.
   */
  function trim(stick) {
    const limit = stick ? MAX_ITEMS : HARD_MAX_ITEMS;
    let dropped = false;
    // Measured only when something above the reader is removed (a layout costs time).
    const height = !stick && timeline.childElementCount > limit ? document.documentElement.scrollHeight : 0;
    while (timeline.childElementCount > limit) {
      const first = timeline.firstElementChild;
      renderer.forget(first);
      first.remove();
      dropped = true;
    }
    if (dropped) {
      renderedFrom = Number(timeline.firstElementChild.dataset.seq);
      if (!stick) window.scrollBy(0, document.documentElement.scrollHeight - height);
    }
    if (events.length > MAX_EVENTS) events = events.slice(events.length - MAX_EVENTS / 2);
    showLoadEarlier();
  }

  function showLoadEarlier() {
    loadEarlier.hidden = !(renderedFrom > 1);
  }

  /** Re-renders the page from `from` (after loading earlier events). */
  function rerender(from) {
    flush();
    renderer = createRenderer(rendererOptions);
    const fragment = document.createDocumentFragment();
    for (const event of events) {
      if (event.seq >= from) renderer.render(event, fragment);
    }
    const fromBottom = document.documentElement.scrollHeight - window.scrollY;
    timeline.replaceChildren(fragment);
    renderer.settle();
    renderedFrom = from;
    showLoadEarlier();
    // The same events stay where they were on the screen.
    window.scrollTo(0, document.documentElement.scrollHeight - fromBottom);
  }

  // ---- events in ----
  function take(event) {
    if (renderedFrom === null) renderedFrom = event.seq;
    events.push(event);
    lastSeq = event.seq;
    apply(event);
    queue.push(event);
    schedule();
    if (catchUpTo !== null && lastSeq >= catchUpTo) {
      catchUpTo = null;
      showRunStatus();
    }
  }

  /** Asks the session's head at this connection's start; caught up once the page has it. */
  async function catchUp() {
    const ask = ++catchUpAsk;
    catchUpTo = Number.MAX_SAFE_INTEGER;
    showRunStatus();
    try {
      const now = await get(base, { signal });
      if (ask !== catchUpAsk) return;
      catchUpTo = lastSeq >= now.headSeq ? null : now.headSeq;
    } catch (error) {
      if (signal.aborted || ask !== catchUpAsk) return;
      // Not known: the events that arrive tell the state, as before the reconnect.
      catchUpTo = null;
    }
    showRunStatus();
  }

  /** Takes the events after lastSeq up to `to` from the history, in order. */
  async function fill(to) {
    while (lastSeq < to) {
      const before = lastSeq;
      const page = await get(base + '/events?after=' + lastSeq + '&limit=' + Math.min(1000, to - lastSeq), { signal });
      for (const event of page.items) {
        if (event.seq === lastSeq + 1 && event.seq <= to) take(event);
      }
      if (lastSeq === before) {
        // Not what the log promises (gapless seqs): reconnect and try again, rather than loop.
        throw new Error('history did not continue after ' + before);
      }
    }
  }

  async function onEvent({ type, data }) {
    if (type === 'gap') {
      const { from, to } = data;
      if (to <= lastSeq) return;
      if (events.length === 0 || to - lastSeq > MAX_FILL || from > lastSeq + 1) {
        // First open (or too far behind): start at the head; older ones via "load earlier".
        if (events.length) {
          events = [];
          queue = [];
          renderer = createRenderer(rendererOptions);
          timeline.replaceChildren();
        }
        lastSeq = to;
        renderedFrom = to + 1;
        showLoadEarlier();
        return;
      }
      await fill(to);
      return;
    }
    if (!data || typeof data.seq !== 'number' || data.seq <= lastSeq) return; // seen already
    if (data.seq > lastSeq + 1 && events.length) await fill(data.seq - 1);
    take(data);
  }

  function onStatus(state, seconds) {
    live = state === 'live';
    if (state === 'live') {
      const wasLive = everLive;
      everLive = true;
      shell.setConnection('live', 'Live');
      if (wasLive) catchUp();
      outbox && outbox.retryPending();
    } else if (state === 'connecting') {
      shell.setConnection('reconnecting', 'Connecting…');
    } else if (state === 'reconnecting') {
      shell.setConnection('reconnecting', seconds ? 'Reconnecting in ' + seconds + ' s' : 'Reconnecting…');
    } else {
      shell.setConnection('offline', seconds ? 'Offline — retrying in ' + seconds + ' s' : 'Offline — retrying…');
    }
    showRunStatus();
  }

  function onEnd(reason) {
    live = false;
    flush();
    if (reason === 'complete') {
      session.state = 'ENDED';
      shell.setConnection('', '');
    } else if (reason === 'not-found') {
      stopped = GONE;
      shell.setConnection('offline', 'Not following');
      shell.notify(GONE, 'error');
      composer.remove();
    } else if (reason === 'unauthenticated') {
      // api.js sends a logged-out user to the login page: ask it with a request.
      get('/api/me').catch(() => {});
    }
    showState();
  }

  // ---- actions ----
  async function interrupt(event) {
    const fromNotice = event && event.currentTarget && event.currentTarget.id === 'busy-interrupt';
    try {
      await post(base + '/interrupt');
      if (fromNotice) {
        // The notice goes (the run is stopping or stopped); the focus must not fall to <body>.
        busyRunId = null;
        showBusy();
        shell.notify('Interrupt requested: retry your message when the run has stopped.', 'info');
        if (message.isConnected) message.focus();
      }
    } catch (error) {
      shell.notify('Could not interrupt: ' + shell.describe(error), 'error');
    }
  }

  loadEarlier.addEventListener('click', async () => {
    const from = Math.max(1, renderedFrom - PAGE);
    const loadedFrom = events.length ? events[0].seq : renderedFrom;
    loadEarlier.disabled = true;
    try {
      // Seqs are gapless: after = from - 1 gives the events from `from` on (no before= needed).
      let earlier = [];
      let after = from - 1;
      while (after + 1 < loadedFrom) {
        const page = await get(base + '/events?after=' + after + '&limit=' + Math.min(1000, loadedFrom - 1 - after),
          { signal });
        const items = page.items.filter((e) => e.seq > after && e.seq < loadedFrom);
        if (!items.length) break;
        earlier = earlier.concat(items);
        after = items[items.length - 1].seq;
      }
      for (const event of earlier) seen(event);
      showUsage();
      events = earlier.concat(events);
      rerender(from);
      showPending();
      if (loadEarlier.hidden && timeline.firstElementChild) {
        // The button is gone (all loaded): the focus goes to the first event, not to <body>.
        timeline.firstElementChild.tabIndex = -1;
        timeline.firstElementChild.focus();
      }
    } catch (error) {
      shell.notify('Could not load earlier events: ' + shell.describe(error), 'error');
    } finally {
      loadEarlier.disabled = false;
    }
  });

  newEvents.addEventListener('click', () => {
    toBottom();
    timeline.focus({ preventScroll: true });
  });
  const onScroll = () => {
    if (!newEvents.hidden && atBottom()) newEvents.hidden = true;
  };
  window.addEventListener('scroll', onScroll, { passive: true });
  ctx.onLeave(() => window.removeEventListener('scroll', onScroll));

  interruptButton.addEventListener('click', interrupt);
  endButton.addEventListener('click', () => dialog.showModal());
  no.addEventListener('click', () => dialog.close());
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    try {
      await del(base);
      dialog.close();
      session.state = 'ENDED';
      showState();
      // #end-session is hidden now: the focus goes to the state, not to <body>.
      runStatus.focus();
      shell.notify('The session has ended.', 'info');
    } catch (error) {
      dialog.close();
      shell.notify('Could not end the session: ' + shell.describe(error), 'error');
    } finally {
      yes.disabled = false;
    }
  });

  // ---- sending ----
  let outbox = null;
  if (canSend) {
    const owner = shell.me.id || shell.me.login;
    outbox = createOutbox({
      sessionId: id,
      owner,
      // Checked before every delivery: the browser's login may have changed since the view began.
      isOwner: () => !!shell.me && (shell.me.id || shell.me.login) === owner,
      signal,
      onChange: showOutbox,
      onBusy: (item, error) => {
        const runId = (error.problem && error.problem.runId) || session.currentRunId;
        if (runId && finishedRuns.has(runId)) {
          // The stream already said that run finished (the 409 was slower): not busy any more.
          outbox.update(item, { state: 'failed', status: 'The run has just finished — retry now.' });
          return;
        }
        busyRunId = runId;
        if (session.state !== 'ENDED' && !stopped) session.state = 'RUNNING';
        showState();
        showBusy();
      },
      onForbidden: () => {
        // The role changed under us: no more composer.
        canSend = false;
        composer.remove();
        interruptButton.remove();
      },
    });
    message.addEventListener('keydown', (event) => {
      // Enter sends; Shift+Enter is a newline; an IME composition's Enter only confirms it.
      if (event.key !== 'Enter' || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey
        || event.isComposing || event.keyCode === 229) {
        return;
      }
      event.preventDefault();
      composer.requestSubmit();
    });
    composer.addEventListener('submit', (event) => {
      event.preventDefault();
      const text = message.value;
      if (!text.trim()) {
        message.focus();
        return;
      }
      message.value = '';
      outbox.send(text);
      message.focus();
    });
    const online = () => outbox.retryPending();
    window.addEventListener('online', online);
    ctx.onLeave(() => window.removeEventListener('online', online));
    // The outbox lives with this view: say so when leaving it with messages not sent yet (after
    // the router has cleared the notice for the next page; not after a logout, which drops them).
    ctx.onLeave(() => {
      const waiting = outbox.items.filter((i) => i.state !== 'expired');
      if (!waiting.length) return;
      // Only what is sent by itself is promised; held, busy and failed items wait for a click.
      const auto = waiting.filter((i) => i.auto).length;
      const manual = waiting.length - auto;
      const parts = [];
      if (auto) parts.push((auto === 1 ? 'it is' : auto + ' are') + ' sent when you open that session again');
      if (manual) parts.push((manual === 1 ? '1 needs' : manual + ' need') + ' your action there (Retry or Discard)');
      if (auto && manual && auto === 1) parts[0] = '1 is sent when you open that session again';
      setTimeout(() => {
        if (!shell.me) return;
        shell.notify((waiting.length === 1 ? '1 message' : waiting.length + ' messages') + ' to “' + title
          + '” not sent yet: ' + parts.join('; ') + '.', 'error');
      }, 0);
    });
  }

  /**
   * Shows the outbox. Rows are kept by key and updated in place, so a focused Retry or Discard
   * stays focused and a screen reader hears only what changed (the status line of one item).
   */
  function showOutbox(items) {
    outboxList.hidden = items.length === 0;
    const rows = new Map([...outboxList.children].map((li) => [li.dataset.key, li]));
    let previous = null;
    for (const item of items) {
      let row = rows.get(item.key);
      rows.delete(item.key);
      if (!row) row = outboxRow(item);
      row.dataset.state = item.state;
      const status = row.querySelector('.status');
      if (status.textContent !== (item.status || '')) status.textContent = item.status || '';
      const retry = row.querySelector('button.retry');
      const discard = row.querySelector('button.discard');
      const label = item.state === 'held' ? 'Send now' : 'Retry';
      if (retry.textContent !== label) retry.textContent = label;
      // While a send is in flight, neither retrying nor discarding can take it back.
      const keep = document.activeElement === retry || document.activeElement === discard;
      retry.hidden = item.state === 'sending' || item.state === 'expired';
      discard.hidden = item.state === 'sending';
      if (keep && (retry.hidden || discard.hidden)) row.focus();
      const at = previous ? previous.nextElementSibling : outboxList.firstElementChild;
      if (at !== row) outboxList.insertBefore(row, at);
      previous = row;
    }
    for (const row of rows.values()) {
      const hadFocus = row.contains(document.activeElement);
      row.remove();
      if (hadFocus && message.isConnected) message.focus();
    }
    if (!items.some((i) => i.state === 'busy')) {
      busyRunId = null;
      showBusy();
    }
  }

  function outboxRow(item) {
    // The item is looked up by key when clicked: the row outlives the object it was made for.
    const find = () => outbox.items.find((i) => i.key === item.key);
    return h('li', { class: 'outbox-item', tabindex: '-1', dataset: { state: item.state, key: item.key } },
      h('p', { class: 'text', text: item.text }),
      h('p', { class: 'outbox-status' }, h('span', { class: 'status', text: item.status || '' }), ' ',
        h('button', { type: 'button', class: 'retry', text: 'Retry', onclick: () => {
          const current = find();
          if (current) outbox.retry(current);
        } }),
        ' ', h('button', { type: 'button', class: 'discard link-button', text: 'Discard', onclick: () => {
          const current = find();
          if (current) outbox.discard(current);
        } })));
  }

  // ---- go ----
  showState();
  const ticker = setInterval(() => {
    showRunStatus();
    showBusy();
    for (const run of renderer.runs.values()) {
      if (run.status === 'running') renderer.banner(run);
    }
  }, 1000);
  ctx.onLeave(() => clearInterval(ticker));
  if (outbox) outbox.resume();
  let streaming = null;
  startStream();
  // Requests still waiting that happened before the events the page opens on.
  if (approvalsKnown) get(base + '/approvals?state=pending', { signal }).then((answer) => {
    const items = Array.isArray(answer) ? answer : (answer && Array.isArray(answer.items) ? answer.items : []);
    for (const item of items) {
      const approvalId = String(item.approvalId ?? '');
      if (approvalId && !decidedIds.has(approvalId) && !pending.has(approvalId)) pending.set(approvalId, item);
    }
    showPending();
  }).catch(() => {
    // Not known (an older server, the network): the events replayed still show the prompts.
  });

  // A page kept in the back/forward cache keeps its connections: without this, every page left
  // with its stream open holds one of the browser's six connections to the server, and after a
  // few of them the app's own requests wait. The stream resumes (Last-Event-ID) on return.
  function startStream() {
    streaming = new AbortController();
    follow({ url: base + '/events/stream', cursor: () => lastSeq, onEvent, onStatus, onEnd,
      signal: AbortSignal.any([signal, streaming.signal]) });
  }
  const hide = () => streaming && streaming.abort();
  const show = (event) => {
    if (event.persisted && !signal.aborted && !stopped && session.state !== 'ENDED') startStream();
  };
  window.addEventListener('pagehide', hide);
  window.addEventListener('pageshow', show);
  ctx.onLeave(() => {
    window.removeEventListener('pagehide', hide);
    window.removeEventListener('pageshow', show);
  });
}
