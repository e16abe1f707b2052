// Renders a session's events into the timeline (#timeline, role=log): one element per item
// with data-seq. Output is merged into its run's card (one pre.output per run, a span per
// block of lines) instead of an element per event, so a burst of output stays cheap. All
// text from the server becomes text nodes (h(), textContent, createTextNode), never markup.
import { h, time, duration } from './dom.js';
import { ansiState, parseAnsi } from './ansi.js';
import { renderMarkdown } from './markdown.js';

/** Lines shown of a long output until the user asks for all of it. */
export const COLLAPSED_LINES = 30;
/** Lines merged into one span (fewer elements; data-seq/data-last-seq say which events). */
const LINES_PER_SPAN = 25;
/** Output without newlines (progress bars, one-line JSON) also starts a new span after this. */
const CHARS_PER_SPAN = 4096;
/** Long lines count toward collapsing too: this many characters count as one more line
 * (generous, so that ordinary output is not counted twice). */
const CHARS_PER_LINE = 800;
/** Spans kept per run in the page (about 1,500 lines); older ones are dropped (the history keeps them). */
const MAX_SPANS_PER_RUN = 60;

const FINISHED_TEXT = { succeeded: 'Succeeded', failed: 'Failed', interrupted: 'Interrupted', lost: 'Lost' };
/** Structured items (agent text, tool cards, approvals, workspace lines) kept per run card. */
const MAX_ITEMS_PER_RUN = 300;
/**
 * Characters of structured items kept per run card: 300 tool results of 64 KB would be 20 MB of
 * text in one card (the run's plain output keeps about 250 KB); the oldest items go first.
 */
const MAX_ITEM_CHARS_PER_RUN = 2000000;
/** Characters of a tool's input or output shown (the server caps them too). */
const MAX_JSON_CHARS = 20000;
const MAX_OUTPUT_CHARS = 65536;

/**
 * createRenderer({canApprove, decide}): {render(event, into) → top-level element added (or
 * null), runs, banner(run), approvals, settle(), forget(card)}. `into` is the element (or
 * fragment) new top-level items are appended to. `canApprove()` says whether this user may
 * decide approvals; `decide(approvalId, decision)` sends a decision (a promise of the answer).
 */
export function createRenderer({ canApprove = () => false, decide = null } = {}) {
  /** runId → run: {id, card, banner, pre, expand, status, startedAt, finishedAt, by, error, lines, spans, ansi} */
  const runs = new Map();
  /** approvalId → {element, data, decided}: the prompts in the page. */
  const approvals = new Map();

  function runFor(runId, event, into) {
    let run = runs.get(runId);
    if (!run) {
      run = newRun(runId, event);
      runs.set(runId, run);
      into.appendChild(run.card);
    }
    return run;
  }

  function newRun(runId, event) {
    const run = {
      id: runId, status: 'running', startedAt: Date.parse(event.at), finishedAt: null, by: null, error: null,
      exitCode: null, lines: 0, trimmedLines: 0, expanded: false, last: null,
      ansi: { stdout: ansiState(), stderr: ansiState() },
    };
    const label = 'run-' + event.seq;
    run.state = h('strong', { class: 'run-state' });
    run.detail = h('span', { class: 'run-detail' });
    run.banner = h('p', { class: 'run-banner', id: label }, run.state, ' ', run.detail);
    // Focusable (for scrolling with the keyboard) only while collapsed, i.e. scrollable: not one
    // Tab stop per run.
    run.pre = h('pre', { class: 'output', 'aria-labelledby': label });
    run.pre.hidden = true;
    run.expand = h('button', { type: 'button', class: 'expand-output link-button', hidden: true });
    run.usage = h('p', { class: 'run-usage muted', hidden: true });
    run.items = h('div', { class: 'run-items' });
    run.calls = new Map();
    run.trimmedItems = 0;
    run.expand.addEventListener('click', () => {
      run.expanded = !run.expanded;
      layout(run);
      if (!run.expanded) run.pre.scrollTop = run.pre.scrollHeight;
    });
    // An article, not a section: a named section is a landmark, and 200 runs are not 200 landmarks.
    run.card = h('article', { class: 'run', 'aria-labelledby': label,
      dataset: { runId, status: 'running', seq: String(event.seq) } },
    run.banner, run.usage, run.items, run.expand, run.pre);
    return run;
  }

  /** The banner's words for a run (status, elapsed or duration, who interrupted, the error). */
  function banner(run, now = Date.now()) {
    run.card.dataset.status = run.status;
    if (run.status === 'running') {
      run.state.textContent = 'Running';
      // Inside role=log: the ticking time is aria-hidden, so the log is not re-read every second.
      if (!run.clock || !run.detail.contains(run.clock) || run.clockBy !== run.by) {
        run.clock = h('span', { 'aria-hidden': 'true' });
        run.clockBy = run.by;
        run.detail.replaceChildren('· ', run.clock, run.by ? ' · started by ' + run.by : '');
      }
      run.clock.textContent = duration(now - run.startedAt);
      return;
    }
    run.state.textContent = FINISHED_TEXT[run.status] || run.status;
    const parts = [];
    if (run.status === 'interrupted') parts.push(run.interruptedBy ? 'by ' + run.interruptedBy : 'by the server');
    if (run.finishedAt && run.startedAt) parts.push('after ' + duration(run.finishedAt - run.startedAt));
    if (run.exitCode !== null && run.exitCode !== undefined && run.status === 'failed') parts.push('exit code ' + run.exitCode);
    if (run.error && (run.status === 'failed' || run.status === 'lost' || run.status === 'interrupted')) parts.push(run.error);
    run.detail.textContent = parts.length ? '· ' + parts.join(' · ') : '';
  }

  function layout(run) {
    const long = run.lines + Math.floor((run.chars || 0) / CHARS_PER_LINE) > COLLAPSED_LINES;
    run.pre.classList.toggle('collapsed', long && !run.expanded);
    if (long && !run.expanded) run.pre.tabIndex = 0;
    else run.pre.removeAttribute('tabindex');
    run.expand.hidden = !long;
    run.expand.setAttribute('aria-expanded', String(run.expanded));
    run.expand.textContent = run.expanded ? 'Show the last ' + COLLAPSED_LINES + ' lines'
      : 'Show all ' + (run.lines + run.trimmedLines) + ' lines';
  }

  function output(event, into) {
    const run = runFor(event.data.runId, event, into);
    const stream = event.data.stream === 'stderr' ? 'stderr' : 'stdout';
    const { text, restart } = carriageReturns(run, stream, String(event.data.text ?? ''));
    // Before a span is chosen: the line being restarted may reach back over several spans.
    if (restart) clearTail(run);
    const newLines = (text.match(/\n/g) || []).length;
    let span = run.last;
    if (!span || span.stream !== stream || span.lines >= LINES_PER_SPAN || span.chars >= CHARS_PER_SPAN) {
      const element = h('span', { class: stream, dataset: { seq: String(event.seq) } });
      if (stream === 'stderr') {
        // Set apart for screen readers too, not only by colour.
        element.appendChild(h('span', { class: 'visually-hidden', text: '[stderr] ' }));
      }
      span = { stream, element, lines: 0, chars: 0 };
      run.last = span;
      run.pre.appendChild(element);
      trim(run);
    }
    span.element.dataset.lastSeq = String(event.seq);
    span.lines += newLines;
    span.chars += text.length;
    for (const segment of parseAnsi(text, run.ansi[stream])) {
      const last = span.element.lastChild;
      if (!segment.cls && last && last.nodeType === Node.TEXT_NODE) {
        last.appendData(segment.text); // one text node for plain lines, not one per event
      } else {
        span.element.appendChild(segment.cls ? h('span', { class: segment.cls, text: segment.text })
          : document.createTextNode(segment.text));
      }
    }
    run.lines += newLines;
    run.chars = (run.chars || 0) + text.length;
    run.dirty = true;
  }

  /**
   * A carriage return (not one of \r\n) starts the line again, as on a terminal: a progress
   * bar shows its last state, not every state run together. Returns the text to add and whether
   * it restarts the line already on the page (a \r in its first line, or at the end of the last
   * chunk).
   */
  function carriageReturns(run, stream, raw) {
    run.cr = run.cr || { stdout: false, stderr: false };
    const pending = run.cr[stream];
    run.cr[stream] = raw.endsWith('\r');
    if (!pending && !raw.includes('\r')) return { text: raw, restart: false };
    const parts = raw.split('\n');
    let restart = pending && printable(parts[0].split('\r')[0]);
    const text = parts.map((part, i) => {
      // The line is what follows its last \r that is followed by something visible (a \r
      // followed only by controls, as in "end\r\b", overwrites nothing); the controls and
      // escapes after it are kept (they may change colours).
      const pieces = part.split('\r');
      let keep = pieces.length - 1;
      while (keep > 0 && !printable(pieces[keep])) keep--;
      if (keep > 0 && i === 0) restart = true;
      return pieces.slice(keep).join('');
    }).join('\n');
    return { text, restart };
  }

  /** Whether some text is left once escape sequences and control characters are taken out. */
  function printable(text) {
    return text.replace(/\u001b\[[0-?]*[ -\/]*[@-~]/g, '').replace(/[\u0000-\u001f\u007f]/g, '') !== '';
  }

  /** Removes the span's text after its last newline (the line a \r starts again). */
  /** Removes the element's text after its last newline; true if it had one (the line starts there). */
  function clearLine(element) {
    for (let node = element.lastChild; node;) {
      const before = node.previousSibling;
      if (node.nodeType === Node.ELEMENT_NODE && node.classList.contains('visually-hidden')) return false;
      const content = node.textContent;
      const at = content.lastIndexOf('\n');
      if (at >= 0) {
        if (node.nodeType === Node.TEXT_NODE) node.deleteData(at + 1, content.length - at - 1);
        else node.textContent = content.slice(0, at + 1);
        return true;
      }
      node.remove();
      node = before;
    }
    return false;
  }

  /**
   * Clears the run's unterminated last line across spans: a long progress bar fills more than
   * one span, and a terminal line is shared by stdout and stderr. Spans left without text are
   * removed, and the character counts follow what is left, so overwritten text neither stays
   * on the page nor counts towards a new span or the collapsed size.
   */
  function clearTail(run) {
    for (let element = run.pre.lastElementChild; element;) {
      const before = element.previousElementSibling;
      const was = element.textContent.length;
      const ended = clearLine(element);
      const removed = was - element.textContent.length;
      run.chars = Math.max(0, (run.chars || 0) - removed);
      const span = run.last && run.last.element === element ? run.last : null;
      if (span) span.chars = Math.max(0, span.chars - removed);
      if (ended) return;
      const empty = [...element.childNodes].every((node) => node.nodeType === Node.ELEMENT_NODE
        && node.classList.contains('visually-hidden'));
      if (empty) {
        element.remove();
        if (span) run.last = null;
      }
      element = before;
    }
  }

  function trim(run) {
    while (run.pre.childElementCount > MAX_SPANS_PER_RUN) {
      const first = run.pre.firstElementChild;
      const content = first.textContent;
      const dropped = (content.match(/\n/g) || []).length;
      run.trimmedLines += dropped;
      run.lines -= dropped;
      run.chars = Math.max(0, (run.chars || 0) - content.length);
      first.remove();
    }
    if (run.trimmedLines && !run.trimNote) {
      run.trimNote = h('p', { class: 'muted output-trimmed' });
      run.card.insertBefore(run.trimNote, run.pre);
    }
    if (run.trimNote) {
      run.trimNote.textContent = run.trimmedLines + ' earlier lines of this run are not kept on this page.';
    }
  }

  // ---- structured agent events (agent.text, tool.call/result, usage, approvals, workspace) ----

  /**
   * Adds a structured item to its run card, dropping the oldest beyond MAX_ITEMS_PER_RUN or
   * MAX_ITEM_CHARS_PER_RUN.
   */
  function addItem(run, element) {
    run.items.appendChild(element);
    grown(run, element, element.textContent.length);
  }

  /** An item of the run got `chars` more characters (a tool's result): drops the oldest beyond the caps. */
  function grown(run, element, chars) {
    element.itemChars = (element.itemChars || 0) + chars;
    run.itemChars = (run.itemChars || 0) + chars;
    while (run.items.childElementCount > MAX_ITEMS_PER_RUN
      || (run.itemChars > MAX_ITEM_CHARS_PER_RUN && run.items.childElementCount > 1)) {
      const first = run.items.firstElementChild;
      if (first.dataset.callId) run.calls.delete(first.dataset.callId);
      run.itemChars -= first.itemChars || 0;
      first.remove();
      run.trimmedItems++;
    }
    if (run.trimmedItems) {
      if (!run.itemsNote) {
        run.itemsNote = h('p', { class: 'muted output-trimmed' });
        run.card.insertBefore(run.itemsNote, run.items);
      }
      run.itemsNote.textContent = run.trimmedItems + ' earlier items of this run are not kept on this page.';
    }
  }

  /** Whatever came in, as text for a <pre>: JSON pretty-printed, capped. */
  function pretty(value, cap = MAX_JSON_CHARS) {
    let text;
    if (typeof value === 'string') {
      text = value;
    } else {
      try {
        text = JSON.stringify(value ?? null, null, 2);
      } catch {
        text = String(value);
      }
    }
    if (text.length > cap) text = text.slice(0, cap) + '\n… (' + (text.length - cap).toLocaleString('en') + ' more characters)';
    return text;
  }

  /** The obvious one-line gist of a tool's input: its command, file, pattern, URL… or ''. */
  function gist(input) {
    if (!input || typeof input !== 'object') return typeof input === 'string' ? input : '';
    for (const key of ['command', 'cmd', 'file_path', 'filePath', 'path', 'notebook_path', 'pattern', 'url', 'query',
      'description', 'prompt']) {
      const value = input[key];
      if (typeof value === 'string' && value.trim()) {
        const line = value.trim().split('\n')[0];
        return line.length > 120 ? line.slice(0, 119) + '…' : line;
      }
      if (Array.isArray(value) && value.every((v) => typeof v === 'string') && value.length) {
        const line = value.join(' ');
        return line.length > 120 ? line.slice(0, 119) + '…' : line;
      }
    }
    return '';
  }

  function toolCard(run, callId, name, input, seq) {
    const state = h('span', { class: 'tool-state' });
    const summary = h('summary', {},
      h('span', { class: 'tool-name', text: name || 'tool' }), ' ',
      h('span', { class: 'tool-gist', text: gist(input) }), ' ', state);
    const body = h('div', { class: 'tool-body' });
    if (input !== undefined) {
      body.append(h('p', { class: 'tool-label', text: 'Input' }), h('pre', { class: 'tool-input', tabindex: '0',
        'aria-label': 'Input of ' + (name || 'tool'), text: pretty(input) }));
    }
    const card = h('details', { class: 'tool', dataset: { callId, state: 'running', seq: String(seq) } }, summary, body);
    const tool = { card, state, body, name: name || 'tool', done: false };
    setToolState(tool, 'running', 'running…');
    run.calls.set(callId, tool);
    addItem(run, card);
    return tool;
  }

  function setToolState(tool, state, words) {
    tool.card.dataset.state = state;
    if (state === 'error') tool.state.replaceChildren(h('span', { 'aria-hidden': 'true', text: '⚠ ' }), words);
    else tool.state.replaceChildren(words);
  }

  function toolCall(run, event) {
    const data = event.data || {};
    const callId = String(data.callId ?? event.seq);
    if (run.calls.has(callId)) return;
    const tool = toolCard(run, callId, String(data.name ?? 'tool'), data.input, event.seq);
    if (data.truncated) {
      const total = Number(data.inputChars);
      tool.body.insertBefore(h('p', { class: 'tool-truncated muted', text: 'Input shortened: long values were cut'
        + (Number.isFinite(total) ? ' (' + total.toLocaleString('en') + ' characters in all).' : '.') }),
      tool.body.querySelector('pre.tool-input'));
    }
  }

  function toolResult(run, event) {
    const data = event.data || {};
    const callId = String(data.callId ?? '');
    let tool = run.calls.get(callId);
    if (!tool) {
      // Its call is not in the page (earlier than what is loaded, or trimmed): a card of its own.
      tool = toolCard(run, callId, 'Result of an earlier tool call', undefined, event.seq);
    }
    if (tool.done) return;
    tool.done = true;
    const error = data.isError === true;
    const output = String(data.output ?? '');
    const result = h('div', { class: 'tool-result' + (error ? ' tool-error' : '') },
      h('p', { class: 'tool-label', text: error ? 'Error output' : 'Output' }));
    if (data.truncated) {
      const total = Number(data.outputChars);
      result.append(h('p', { class: 'tool-truncated muted', text: 'Output truncated: '
        + (Number.isFinite(total) ? 'the first ' + output.length.toLocaleString('en') + ' of '
          + total.toLocaleString('en') + ' characters are shown.' : 'only its beginning is shown.') }));
    }
    result.append(output ? h('pre', { class: 'tool-output', tabindex: '0', 'aria-label': (error ? 'Error output of ' : 'Output of ')
      + tool.name, text: pretty(output, MAX_OUTPUT_CHARS) }) : h('p', { class: 'muted', text: '(no output)' }));
    tool.body.appendChild(result);
    if (tool.card.parentNode === run.items) grown(run, tool.card, result.textContent.length);
    tool.card.classList.toggle('tool-failed', error);
    setToolState(tool, error ? 'error' : 'done', error ? 'error' : 'done');
  }

  function system(run, event, text) {
    addItem(run, h('p', { class: 'system-line muted', dataset: { seq: String(event.seq) }, text }));
  }

  function usage(run, data) {
    const totals = run.usageTotals || (run.usageTotals = { input: 0, output: 0, cost: 0, costKnown: false });
    totals.input += Number(data.inputTokens) || 0;
    totals.output += Number(data.outputTokens) || 0;
    if (typeof data.costUsd === 'number' && Number.isFinite(data.costUsd)) {
      totals.cost += data.costUsd;
      totals.costKnown = true;
    }
    run.usage.hidden = false;
    run.usage.textContent = 'Usage: ' + usageWords(totals);
  }

  function approvalWords(decided) {
    const verb = decided.decision === 'allow' ? 'Allowed' : 'Denied';
    if (decided.reason === 'timeout') return verb + ': nobody decided in time.';
    if (decided.reason === 'run-ended') return verb + ': the run ended before a decision.';
    return verb + (decided.by ? ' by ' + decided.by : '') + '.';
  }

  function approvalRequested(run, event) {
    const data = event.data || {};
    const approvalId = String(data.approvalId ?? '');
    if (!approvalId || approvals.has(approvalId)) return;
    const element = approvalPrompt(data, event.seq);
    approvals.set(approvalId, element.approval);
    addItem(run, element);
  }

  /**
   * A prompt for an approval: the tool and its input, and Allow / Deny for those who may
   * decide ("Waiting for approval" for others). Also used by the session view for a pending
   * approval whose request is not in the page.
   */
  function approvalPrompt(data, seq, idPrefix = 'approval-') {
    const approvalId = String(data.approvalId);
    const titleId = idPrefix + approvalId;
    const status = h('p', { class: 'approval-status', tabindex: '-1' });
    const actions = h('p', { class: 'actions approval-actions' });
    const element = h('div', { class: 'approval', role: 'group', 'aria-labelledby': titleId,
      dataset: { approvalId, state: 'pending', seq: String(seq ?? '') } },
    h('p', { class: 'approval-title', id: titleId }, h('strong', { text: 'Approval needed: ' }),
      'the agent asks to use ', h('code', { class: 'approval-tool', text: String(data.tool ?? 'a tool') })),
    h('pre', { class: 'approval-input', tabindex: '0', 'aria-label': 'Input of ' + String(data.tool ?? 'the tool'),
      text: pretty(data.input) }),
    actions, status);
    const approval = { element, data, decided: null, actions, status };
    element.approval = approval;
    if (canApprove() && decide) {
      const send = async (decision) => {
        for (const button of actions.querySelectorAll('button')) button.disabled = true;
        status.textContent = decision === 'allow' ? 'Allowing…' : 'Denying…';
        try {
          const answer = await decide(approvalId, decision);
          decided(approval, { decision: answer && answer.decision || decision, by: answer && answer.by, reason: null });
        } catch (error) {
          if (approval.decided) return;
          if (error && error.code === 'approval-decided') {
            actions.replaceChildren();
            status.textContent = 'Already decided by someone else: the decision shows here in a moment.';
          } else if (error && error.status === 403) {
            actions.replaceChildren();
            status.textContent = 'You may not decide this approval (the project lets only its admins approve).';
          } else {
            status.textContent = 'Your decision was not sent: ' + (error && error.message ? error.message : String(error));
            for (const button of actions.querySelectorAll('button')) button.disabled = false;
          }
        }
        if (!element.contains(document.activeElement) || document.activeElement.disabled) status.focus();
      };
      actions.append(
        h('button', { type: 'button', class: 'primary approve', text: 'Allow', 'aria-describedby': titleId,
          onclick: () => send('allow') }), ' ',
        h('button', { type: 'button', class: 'danger deny', text: 'Deny', 'aria-describedby': titleId,
          onclick: () => send('deny') }));
    } else {
      actions.append(h('span', { class: 'approval-waiting muted', text: 'Waiting for approval by a project '
        + 'member who may approve.' }));
    }
    return element;
  }

  /** Shows a decision on a prompt (from approval.decided, or the answer to one's own click). */
  function decided(approval, decision) {
    if (approval.decided) return;
    approval.decided = decision;
    const { element, actions, status } = approval;
    const hadFocus = element.contains(document.activeElement);
    element.dataset.state = decision.decision === 'allow' ? 'allowed' : 'denied';
    actions.replaceChildren();
    status.textContent = approvalWords(decision);
    if (hadFocus) status.focus();
  }

  function approvalDecided(event) {
    const data = event.data || {};
    const approval = approvals.get(String(data.approvalId ?? ''));
    if (approval) decided(approval, data);
  }

  /** The run ended: calls without a result will not get one; prompts left open are closed. */
  function runEnded(run) {
    for (const tool of run.calls.values()) {
      if (!tool.done) {
        tool.done = true;
        setToolState(tool, 'no-result', 'no result (the run ended)');
      }
    }
    for (const approval of approvals.values()) {
      if (!approval.decided && String(approval.data.runId) === run.id) {
        decided(approval, { decision: 'deny', by: null, reason: 'run-ended' });
      }
    }
  }

  /** Calls fn(run) on the event's run card; the card if it is new. */
  function inRun(event, into, fn) {
    const runId = event.data && event.data.runId;
    if (!runId) return null;
    const had = runs.has(runId);
    const run = runFor(runId, event, into);
    fn(run);
    return had ? null : run.card;
  }

  function render(event, into) {
    const data = event.data || {};
    const seq = String(event.seq);
    switch (event.type) {
      case 'message': {
        const item = h('article', { class: 'event-message', dataset: { seq } },
          h('p', { class: 'meta' }, h('span', { class: 'author', text: data.author || 'unknown' }), ' ', time(event.at, { relative: false })),
          h('div', { class: 'text', text: data.text ?? '' }));
        into.appendChild(item);
        return item;
      }
      case 'run.started': {
        const existing = runs.get(data.runId);
        const run = existing || runFor(data.runId, event, into);
        run.by = data.by || null;
        run.startedAt = Date.parse(event.at);
        run.card.dataset.startedSeq = seq;
        banner(run);
        return existing ? null : run.card;
      }
      case 'output': {
        const had = runs.has(data.runId);
        output(event, into);
        return had ? null : runs.get(data.runId).card;
      }
      case 'run.finished': {
        const had = runs.has(data.runId);
        const run = runFor(data.runId, event, into);
        run.status = data.status || 'lost';
        run.finishedAt = Date.parse(event.at);
        run.exitCode = data.exitCode ?? null;
        run.interruptedBy = data.by || null;
        run.card.dataset.finishedSeq = seq;
        runEnded(run);
        banner(run);
        return had ? null : run.card;
      }
      case 'error': {
        const item = h('p', { class: 'event-error', role: 'note', dataset: { seq } });
        item.appendChild(h('span', { class: 'visually-hidden', text: 'Error: ' }));
        item.appendChild(document.createTextNode(String(data.message ?? data.code ?? 'error')));
        const run = data.runId ? runs.get(data.runId) : null;
        if (run) {
          run.error = String(data.message ?? data.code ?? 'error');
          run.card.appendChild(item);
          banner(run);
          return null;
        }
        into.appendChild(item);
        return item;
      }
      case 'session.ended': {
        const item = h('p', { class: 'event-ended', dataset: { seq } },
          'Session ended' + (data.by ? ' by ' + data.by : '') + ' · ', time(event.at, { relative: false }));
        into.appendChild(item);
        return item;
      }
      // The queue (issue 16): a message waiting for the run in progress, taken back, moved up.
      case 'message.queued': {
        const text = String(data.text ?? '');
        const item = h('article', { class: 'event-queued', dataset: { seq, messageId: String(data.messageId ?? '') } },
          h('p', { class: 'meta' }, h('span', { class: 'author', text: data.author || 'unknown' }),
            ' queued a message' + (data.position ? ' (position ' + data.position + ')' : '') + ' · ',
            time(event.at, { relative: false })),
          h('div', { class: 'text', text: text.length > 500 ? text.slice(0, 500) + '…' : text }));
        into.appendChild(item);
        return item;
      }
      case 'message.cancelled': {
        const item = h('p', { class: 'event-queue-change muted', dataset: { seq } },
          data.reason === 'session-ended' ? 'A queued message was cancelled: the session ended'
            : 'A queued message was cancelled' + (data.by ? ' by ' + data.by : ''), ' · ', time(event.at, { relative: false }));
        into.appendChild(item);
        return item;
      }
      case 'message.moved': {
        const item = h('p', { class: 'event-queue-change muted', dataset: { seq } },
          'A queued message was moved to the front' + (data.by ? ' by ' + data.by : ''), ' · ', time(event.at, { relative: false }));
        into.appendChild(item);
        return item;
      }
      case 'session.created': {
        const item = h('p', { class: 'event-created muted', dataset: { seq } }, 'Session created · ',
          time(event.at, { relative: false }));
        into.appendChild(item);
        return item;
      }
      case 'agent.text':
        return inRun(event, into, (run) => {
          const item = h('div', { class: 'agent-text markdown', dataset: { seq } });
          item.appendChild(renderMarkdown(data.text));
          if (data.truncated) {
            const total = Number(data.textChars);
            item.appendChild(h('p', { class: 'md-cut', text: 'The server kept only the beginning of this text'
              + (Number.isFinite(total) ? ' (' + total.toLocaleString('en') + ' characters in all).' : '.') }));
          }
          addItem(run, item);
        });
      case 'tool.call':
        return inRun(event, into, (run) => toolCall(run, event));
      case 'tool.result':
        return inRun(event, into, (run) => toolResult(run, event));
      case 'usage':
        return inRun(event, into, (run) => usage(run, data));
      case 'workspace.preparing':
        return inRun(event, into, (run) => system(run, event, 'Preparing the workspace: cloning '
          + String(data.repoUrl ?? 'the repository') + (data.branch ? ' (' + data.branch + ')' : '') + '…'));
      case 'workspace.ready':
        return inRun(event, into, (run) => system(run, event, 'Workspace ready on branch ' + String(data.branch ?? '?')
          + (data.baseCommit ? ' at ' + String(data.baseCommit).slice(0, 7) : '') + '.'));
      case 'approval.requested':
        return inRun(event, into, (run) => approvalRequested(run, event));
      case 'approval.decided':
        approvalDecided(event);
        return null;
      default: {
        const item = h('p', { class: 'event-other muted', dataset: { seq }, text: event.type });
        into.appendChild(item);
        return item;
      }
    }
  }

  /** Keeps the end of collapsed outputs in view (after a batch was rendered). */
  function settle() {
    for (const run of runs.values()) {
      if (run.dirty) {
        run.dirty = false;
        run.pre.hidden = false;
        layout(run);
        if (!run.expanded) run.pre.scrollTop = run.pre.scrollHeight;
      }
    }
  }

  /** Forgets the runs whose cards are no longer in the page. */
  function forget(card) {
    const id = card.dataset && card.dataset.runId;
    if (id && runs.get(id) && runs.get(id).card === card) runs.delete(id);
  }

  return { render, runs, banner, settle, forget, approvals, approvalPrompt, decided };
}

/** "1,234 tokens in · 567 tokens out · $0.0123" for totals {input, output, cost, costKnown}. */
export function usageWords(totals) {
  const words = (Number(totals.input) || 0).toLocaleString('en') + ' tokens in · '
    + (Number(totals.output) || 0).toLocaleString('en') + ' tokens out';
  if (!totals.costKnown) return words;
  return words + ' · $' + (totals.cost >= 1 ? totals.cost.toFixed(2) : totals.cost.toFixed(4));
}
