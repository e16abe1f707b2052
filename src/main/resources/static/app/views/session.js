// /p/{key}/s/{id}: one session, live. The stream (stream.js) feeds events in seq order, each
// exactly once (deduplicated by seq across reconnects; gaps filled from the history); they
// are rendered in batches, once per animation frame (timeline.js), and at most MAX_ITEMS
// stay in the page (#load-earlier brings older ones back). Sends go through the outbox
// (outbox.js). The header shows the connection; #run-status never claims more than is known.
// Issue 16: who is here (presence bar, `presence` stream messages; this tab says when it is
// idle), the queue of messages waiting for the run in progress, the read position (sent while
// the user is at the end of the timeline in a visible tab) and desktop notifications.
import { get, post, put, del, ApiError } from '../api.js';
import { h, link, seg, duration, field, replace, append } from '../dom.js';
import { follow } from '../stream.js';
import { createRenderer, usageWords } from '../timeline.js';
import { createOutbox } from '../outbox.js';
import * as notifications from '../notify.js';

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
/** Without input for this long, the tab tells the server its user is idle here. */
const IDLE_AFTER = 2 * 60 * 1000;

/**
 * IDLE_AFTER, unless the page's <html data-idle-after="ms"> says otherwise: a browser test
 * sets it (the next input starts the shorter wait) rather than waiting two minutes.
 */
function idleAfter() {
  const ms = Number(document.documentElement.dataset.idleAfter);
  return Number.isFinite(ms) && ms > 0 ? ms : IDLE_AFTER;
}
/** The read position is sent at most this often. */
const READ_DEBOUNCE = 1000;

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
  // What a send to a busy session does: 'queue' (it waits for the run) or 'reject' (409).
  let busyPolicy = 'reject';
  try {
    const project = await (projectAsked && ctx.params.key === key ? projectAsked
      : get('/api/projects/' + seg(key), { signal }));
    approvalsKnown = !!project && typeof project.approvers === 'string';
    if (project && project.approvers === 'admins') approvers = 'admins';
    if (project && project.busyPolicy === 'queue') busyPolicy = 'queue';
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
  const presenceBar = h('div', { id: 'presence', class: 'presence-bar', hidden: true });
  const notifyButton = h('button', { type: 'button', id: 'notify-toggle', 'aria-pressed': 'false', text: 'Notify me',
    title: 'Desktop notifications while this tab is hidden: your runs ending, approvals you can decide' });
  const queueList = h('ol', { id: 'queue', class: 'queue-list', 'aria-labelledby': 'queue-heading' });
  const queueStatus = h('p', { id: 'queue-status', class: 'status-line', role: 'status', 'aria-live': 'polite' });
  const queuePanel = h('section', { id: 'queue-panel', class: 'queue-panel', 'aria-labelledby': 'queue-heading', hidden: true },
    h('h2', { id: 'queue-heading', tabindex: '-1', text: 'Queued messages' }),
    h('p', { class: 'muted hint', text: 'They are sent to the agent one after another when the run in progress ends.' }),
    queueList, queueStatus);
  const sendStatus = h('p', { id: 'send-status', class: 'status-line', role: 'status', 'aria-live': 'polite' });
  const queueNote = h('p', { id: 'queue-note', class: 'muted queue-note', hidden: true,
    text: 'The agent is working: what you send now is queued and runs when it is done.' });
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
    field('Message', message, 'Enter sends, Shift+Enter starts a new line.'), queueNote,
    h('p', { class: 'actions' }, sendButton), sendStatus);
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
    presenceBar,
    runStatus,
    pendingAnnounce,
    pendingList,
    h('div', { class: 'actions session-actions' }, canSend ? interruptButton : null, canEnd ? endButton : null,
      notifications.supported() ? notifyButton : null),
    queuePanel,
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
    queueNote.hidden = !(busyPolicy === 'queue' && session.state === 'RUNNING');
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
    queueEvent(event);
    notifyOf(event);
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


  /** Sets a status line's text (the same text is left alone: a screen reader would hear it again). */
  function tell(line, text) {
    if (line.textContent !== text) line.textContent = text;
  }

  // ---- who is here (presence) ----
  /** Shows {count, watchers: [{login, displayName, since, state}]} (newest first). */
  function showPresence(presence) {
    const count = Number(presence && presence.count) || 0;
    const watchers = presence && Array.isArray(presence.watchers) ? presence.watchers : [];
    presenceBar.hidden = count === 0;
    presenceBar.dataset.count = String(count);
    if (!count) {
      presenceBar.replaceChildren();
      return;
    }
    const more = count - watchers.length;
    presenceBar.replaceChildren(h('span', { class: 'presence-label', id: 'presence-label', text: 'Here now:' }), ' ',
      h('ul', { class: 'watchers', 'aria-labelledby': 'presence-label' },
        watchers.map((w) => h('li', { class: 'watcher', dataset: { login: String(w.login), state: String(w.state) },
          title: String(w.login) + (w.since ? ' · here since ' + new Date(w.since).toLocaleTimeString() : '') },
          h('span', { class: 'watcher-name', text: String(w.displayName || w.login) }),
          h('span', { class: 'watcher-state', text: w.state === 'idle' ? ' (idle)' : ' (active)' }))),
        more > 0 ? h('li', { class: 'watcher more', text: 'and ' + more + ' more' }) : null));
  }

  /** A `presence` message came on the stream (newer than the GET asked at the start). */
  let presencePushed = false;
  /** This tab's state as the server last heard it ('active' | 'idle'), and the 2-minute timer. */
  let presenceState = 'active';
  let idleTimer = null;
  function tellPresence(state) {
    if (presenceState === state || signal.aborted || session.state === 'ENDED') return;
    presenceState = state;
    put(base + '/presence', { state }, { signal }).catch(() => {
      // The network, an older server: the server keeps the tab active (its default); the next
      // change of state tries again.
      presenceState = state === 'idle' ? 'active' : 'idle';
    });
  }
  function activity() {
    clearTimeout(idleTimer);
    if (document.visibilityState !== 'visible') return;
    tellPresence('active');
    idleTimer = setTimeout(() => tellPresence('idle'), idleAfter());
  }
  const onVisibility = () => {
    if (document.visibilityState === 'visible') {
      activity();
      markRead();
    } else {
      clearTimeout(idleTimer);
      tellPresence('idle');
    }
  };
  let lastMove = 0;
  const onInput = (event) => {
    // Pointer moves come by the hundred: one look per second is enough.
    if (event.type === 'pointermove') {
      const now = Date.now();
      if (now - lastMove < 1000) return;
      lastMove = now;
    }
    activity();
  };
  const inputs = ['keydown', 'pointerdown', 'pointermove', 'wheel', 'touchstart'];
  for (const type of inputs) window.addEventListener(type, onInput, { passive: true });
  document.addEventListener('visibilitychange', onVisibility);
  ctx.onLeave(() => {
    clearTimeout(idleTimer);
    for (const type of inputs) window.removeEventListener(type, onInput);
    document.removeEventListener('visibilitychange', onVisibility);
  });

  // ---- the queue (messages waiting for the run in progress) ----
  /** The queued messages in order: {messageId, text, author, queuedAt}. */
  let queued = [];
  /** Started or cancelled: never shown again, whatever an older answer says. */
  const leftQueue = new Set();
  let queueKnown = false;
  const myLogin = () => (shell.me ? shell.me.login : null);

  async function loadQueue() {
    try {
      const answer = await get(base + '/queue', { signal });
      queueKnown = true;
      takeQueue(answer && Array.isArray(answer.items) ? answer.items : []);
    } catch (error) {
      // An older server (no queue) or the network: the events still keep the panel.
      if (error.name === 'AbortError') return;
    }
  }

  /** The server's list (GET, move-to-front), with what this page learnt since kept. */
  function takeQueue(items) {
    const ids = new Set(items.map((i) => String(i.messageId)));
    const later = queued.filter((i) => !ids.has(i.messageId));
    queued = items.map((i) => ({ messageId: String(i.messageId), text: String(i.text ?? ''), author: i.author || null,
      queuedAt: i.queuedAt || null })).filter((i) => !leftQueue.has(i.messageId)).concat(later);
    showQueue();
  }

  function queueEvent(event) {
    const data = event.data || {};
    const messageId = data.messageId == null ? '' : String(data.messageId);
    if (!messageId) return;
    if (event.type === 'message.queued') {
      if (leftQueue.has(messageId) || queued.some((i) => i.messageId === messageId)) return;
      queued.push({ messageId, text: String(data.text ?? ''), author: data.author || null, queuedAt: event.at });
    } else if (event.type === 'message.cancelled' || event.type === 'message') {
      leftQueue.add(messageId);
      if (!queued.some((i) => i.messageId === messageId)) return;
      queued = queued.filter((i) => i.messageId !== messageId);
    } else if (event.type === 'message.moved') {
      const item = queued.find((i) => i.messageId === messageId);
      if (!item) return;
      queued = [item].concat(queued.filter((i) => i !== item));
    } else {
      return;
    }
    queueDirty = true;
  }
  let queueDirty = false;

  /** Rows are kept by message id and moved, so a focused button stays focused. */
  function showQueue() {
    queueDirty = false;
    queuePanel.hidden = queued.length === 0;
    const rows = new Map([...queueList.children].map((li) => [li.dataset.messageId, li]));
    const focused = queueList.contains(document.activeElement) ? document.activeElement : null;
    let previous = null;
    queued.forEach((item, index) => {
      let row = rows.get(item.messageId);
      rows.delete(item.messageId);
      if (!row) row = queueRow(item);
      row.dataset.position = String(index + 1);
      const move = row.querySelector('button.move-to-front');
      if (move) move.hidden = index === 0;
      const at = previous ? previous.nextElementSibling : queueList.firstElementChild;
      if (at !== row) queueList.insertBefore(row, at);
      previous = row;
    });
    let lostFocus = false;
    for (const row of rows.values()) {
      lostFocus = lostFocus || row.contains(document.activeElement);
      row.remove();
    }
    if (focused && (lostFocus || !focused.isConnected || focused.hidden)) {
      // Its row went (started, cancelled): the focus goes to the panel, or the message box.
      const next = queueList.querySelector('button:not([hidden])');
      if (next) next.focus();
      else if (message.isConnected) message.focus();
      else timeline.focus({ preventScroll: true });
    }
  }

  function queueRow(item) {
    const mine = item.author && item.author === myLogin();
    const admin = role === 'admin';
    const words = item.text.length > 200 ? item.text.slice(0, 200) + '…' : item.text;
    const cancel = (mine || admin) && canSend ? h('button', { type: 'button', class: 'cancel-queued danger', text: 'Cancel',
      'aria-label': 'Cancel the queued message “' + words.slice(0, 60) + '”',
      onclick: () => cancelQueued(item.messageId) }) : null;
    const move = admin ? h('button', { type: 'button', class: 'move-to-front', text: 'Move to front',
      'aria-label': 'Move to front: “' + words.slice(0, 60) + '”', onclick: () => moveToFront(item.messageId) }) : null;
    return h('li', { class: 'queued-message', dataset: { messageId: item.messageId } },
      h('p', { class: 'meta' }, h('span', { class: 'author', text: item.author || 'unknown' }),
        mine ? h('span', { class: 'muted', text: ' (you)' }) : null),
      h('p', { class: 'text', text: words }),
      cancel || move ? h('p', { class: 'row-actions' }, move, cancel) : null);
  }

  async function cancelQueued(messageId) {
    try {
      await del(base + '/queue/' + seg(messageId), { signal });
      leftQueue.add(messageId);
      queued = queued.filter((i) => i.messageId !== messageId);
      showQueue();
      tell(queueStatus, 'Queued message cancelled.');
    } catch (error) {
      if (error.name === 'AbortError') return;
      if (error instanceof ApiError && error.code === 'message-not-queued') {
        tell(queueStatus, 'Not cancelled: that message has already started or was cancelled.');
        loadQueue();
      } else {
        tell(queueStatus, 'Could not cancel: ' + shell.describe(error));
      }
    }
  }

  async function moveToFront(messageId) {
    try {
      const answer = await post(base + '/queue/' + seg(messageId) + '/move-to-front', undefined, { signal });
      if (answer && Array.isArray(answer.items)) {
        // The server's order; ids it no longer lists have left the queue.
        for (const item of queued) {
          if (!answer.items.some((i) => String(i.messageId) === item.messageId)) leftQueue.add(item.messageId);
        }
        queued = [];
        takeQueue(answer.items);
      }
      tell(queueStatus, 'Moved to the front of the queue.');
      const row = queueList.querySelector('[data-message-id="' + CSS.escape(messageId) + '"] button');
      if (row) row.focus();
      else queuePanel.querySelector('h2').focus();
    } catch (error) {
      if (error.name === 'AbortError') return;
      tell(queueStatus, 'Could not move it: ' + shell.describe(error));
      if (error instanceof ApiError && error.code === 'message-not-queued') loadQueue();
    }
  }

  // ---- the read position ----
  let readSent = Number(session.readSeq) || 0;
  let readTimer = null;
  let readWorks = true;
  /** Sends the read position (debounced) while the tab is visible and at the end of the timeline. */
  function markRead() {
    if (!readWorks || readTimer || lastSeq <= readSent || !live || catchUpTo !== null) return;
    if (document.visibilityState !== 'visible' || !atBottom()) return;
    readTimer = setTimeout(async () => {
      readTimer = null;
      if (signal.aborted || document.visibilityState !== 'visible' || !atBottom()) return;
      const seq = lastSeq;
      if (seq <= readSent) return;
      try {
        const answer = await put(base + '/read', { seq }, { signal });
        readSent = Math.max(readSent, Number(answer && answer.readSeq) || seq);
        document.documentElement.dataset.readSeq = String(readSent);
      } catch (error) {
        // An older server has no read positions: stop asking. Else the next change retries.
        if (error instanceof ApiError && (error.status === 404 || error.status === 405) && error.code !== 'not-found') {
          readWorks = false;
        }
      }
      markRead();
    }, READ_DEBOUNCE);
  }
  ctx.onLeave(() => clearTimeout(readTimer));

  // ---- desktop notifications ----
  /** Runs this user started (run.started `by`, or the answer to their send). */
  const myRuns = new Set();
  function showNotifyButton() {
    const on = notifications.enabled();
    notifyButton.setAttribute('aria-pressed', on ? 'true' : 'false');
    notifyButton.textContent = on ? 'Notifications on' : 'Notify me';
  }
  notifyButton.addEventListener('click', async () => {
    const outcome = await notifications.toggle();
    showNotifyButton();
    if (outcome === 'denied') {
      shell.notify('Notifications are blocked for this site: allow them in the browser\'s site settings.', 'error');
    } else if (outcome === 'on') {
      shell.notify('You will be notified while this tab is hidden when your runs end or an approval waits for you.', 'info');
    }
  });
  showNotifyButton();

  function notifyOf(event) {
    const data = event.data || {};
    if (event.type === 'run.started' && data.by && data.by === myLogin()) myRuns.add(String(data.runId));
    // Only what happens while the page is open; a replay of older events is no news.
    if (event.seq <= openedAt) return;
    const focus = () => {
      if (location.pathname !== path) shell.navigate(path);
    };
    if (event.type === 'run.finished' && myRuns.has(String(data.runId))) {
      const ok = data.status === 'succeeded';
      notifications.show(ok ? 'Run finished: ' + title : 'Run ' + String(data.status || 'failed') + ': ' + title,
        ok ? 'The agent finished the run you started.' : 'The run you started did not succeed (' + String(data.status) + ').',
        { tag: 'run-' + data.runId, onClick: focus });
    } else if (event.type === 'approval.requested' && canApprove && !decidedIds.has(String(data.approvalId))) {
      notifications.show('Approval needed: ' + title, 'The agent asks to use ' + String(data.tool ?? 'a tool') + '.',
        { tag: 'approval-' + data.approvalId, onClick: focus });
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
    if (queueDirty) showQueue();
    if (stick) toBottom();
    else newEvents.hidden = false;
    markRead();
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
    if (type === 'presence') {
      // No id: it never moves the stream's position (it is no event of the log).
      if (data && (!data.sessionId || String(data.sessionId) === id)) {
        presencePushed = true;
        showPresence(data);
      }
      return;
    }
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
        markRead();
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
      if (wasLive) {
        catchUp();
        // What happened to the queue while away.
        loadQueue();
      }
      // A new connection starts active on the server, and a tab opened in the background
      // said 'idle' before its stream was there (the server marks open streams only): again.
      if (presenceState === 'idle') {
        presenceState = 'active';
        tellPresence('idle');
      }
      outbox && outbox.retryPending();
      markRead();
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
    markRead();
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
      onSent: (item, answer) => {
        if (answer.runId) myRuns.add(String(answer.runId));
        if (answer.queued) {
          tell(sendStatus, 'Queued — position ' + (Number(answer.position) || '?')
            + ': it is sent to the agent when the run in progress ends.');
          sendStatus.dataset.kind = 'queued';
        } else {
          tell(sendStatus, '');
        }
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
  showPresence(session.presence);
  // The stream pushes who is here right after its replay: an answer slower than that is older.
  get(base + '/presence', { signal }).then((presence) => presencePushed || showPresence(presence)).catch(() => {
    // An older server, the network: the stream's presence messages will tell.
  });
  loadQueue();
  activity();
  if (document.visibilityState !== 'visible') tellPresence('idle');
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
