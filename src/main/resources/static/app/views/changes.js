// /p/{key}/s/{id}/changes: what the agent changed in the session's workspace, from
// GET /api/sessions/{id}/diff (docs/api.md): a summary, then one collapsible section per file
// with its hunks, line numbers and +/− lines. Everything from the diff is text (file names
// and lines are untrusted); long lines scroll inside their hunk, never the page.
import { get, ApiError } from '../api.js';
import { h, link, seg, replace } from '../dom.js';

/** Diff lines rendered in the page; the rest is summed up in words. */
const MAX_LINES = 10000;
/** Files opened at first (more start closed, so a large diff is a list to choose from). */
const OPEN_FILES = 10;

const STATUS_WORDS = {
  added: 'added', modified: 'modified', deleted: 'deleted', renamed: 'renamed', copied: 'copied',
  'type-changed': 'type changed',
};

export default async function changes(ctx) {
  const { id, key } = ctx.params;
  const { signal } = ctx;
  const base = '/api/sessions/' + seg(id);
  const session = await get(base, { signal }); // 404: the router's "Not found"
  const title = session.title || 'Untitled session';
  ctx.title('Changes · ' + title);
  const project = session.project || key;
  const sessionPath = '/p/' + seg(project) + '/s/' + seg(id);

  const refresh = h('button', { type: 'button', id: 'refresh-diff', text: 'Refresh' });
  // For screen readers (what the page now shows); the same words are in the page itself.
  const status = h('p', { id: 'diff-status', class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  const body = h('div', { id: 'diff', class: 'diff', 'aria-busy': 'false' });
  ctx.root.append(
    h('p', { class: 'breadcrumbs' }, link('/p/' + seg(project), project), ' / ', link(sessionPath, title), ' / changes'),
    h('div', { class: 'session-head' }, h('h1', { text: 'Changes · ' + title })),
    h('nav', { class: 'session-tabs', 'aria-label': 'Session pages' },
      h('a', { href: sessionPath, 'data-nav': true, text: 'Timeline' }),
      h('a', { href: sessionPath + '/changes', 'data-nav': true, 'aria-current': 'page', text: 'Changes' })),
    h('p', { class: 'actions' }, refresh),
    status,
    body,
  );

  let loading = false;
  async function load() {
    if (loading) return;
    loading = true;
    refresh.disabled = true;
    body.setAttribute('aria-busy', 'true');
    status.textContent = 'Loading the changes…';
    try {
      const diff = await get(base + '/diff', { signal });
      if (signal.aborted) return;
      show(diff);
    } catch (error) {
      if (error.name === 'AbortError' || signal.aborted) return;
      showError(error);
    } finally {
      loading = false;
      refresh.disabled = false;
      body.setAttribute('aria-busy', 'false');
    }
  }
  refresh.addEventListener('click', load);

  function showError(error) {
    if (error instanceof ApiError && error.code === 'diff-timeout') {
      const after = Number(error.headers && error.headers.get('Retry-After'));
      const retry = h('button', { type: 'button', id: 'retry-diff', class: 'primary', text: 'Try again',
        onclick: () => load().then(() => {
          if (!retry.isConnected) refresh.focus();
        }) });
      status.textContent = 'The changes took too long to compute.';
      replace(body, h('div', { class: 'diff-problem', id: 'diff-timeout' },
        h('p', { text: 'The changes took too long to compute (a large or busy workspace). '
          + (after > 0 ? 'Try again in ' + after + ' s.' : 'Try again in a moment.') }), h('p', {}, retry)));
      return;
    }
    if (error instanceof ApiError && error.status === 404) {
      status.textContent = '';
      replace(body, h('p', { class: 'diff-problem', text: 'This session does not exist or you no longer have access.' }));
      return;
    }
    status.textContent = 'Could not load the changes: ' + ctx.shell.describe(error);
    replace(body, h('p', { class: 'diff-problem form-error', text: status.textContent }));
  }

  function show(diff) {
    const state = diff.status;
    if (state !== 'ready') {
      const words = {
        'no-repository': 'No repository: this session\'s project has no repository URL, or its workspace has not been '
          + 'cloned yet (the first message of the session clones it).',
        preparing: 'The workspace is being prepared (the repository is being cloned). Refresh in a moment.',
        gone: 'The session has ended and its workspace was removed: its changes can no longer be shown.',
      }[state] || 'The changes are not available (' + String(state) + ').';
      status.textContent = words;
      replace(body, h('p', { class: 'diff-empty', id: 'diff-state', dataset: { state: String(state) }, text: words }));
      return;
    }
    const files = Array.isArray(diff.files) ? diff.files : [];
    const totals = diff.totals || {};
    const fileCount = Number(totals.files ?? files.length) || 0;
    const summaryText = fileCount === 0 ? 'No changes yet.'
      : fileCount + (fileCount === 1 ? ' file' : ' files') + ' changed, ' + (Number(totals.additions) || 0)
        + ' lines added, ' + (Number(totals.deletions) || 0) + ' lines removed.';
    status.textContent = summaryText;
    const summary = h('div', { class: 'diff-summary', id: 'diff-summary' },
      h('p', {}, h('strong', { text: summaryText })),
      h('p', { class: 'muted' }, 'On branch ', h('code', { text: String(diff.branch ?? '?') }),
        diff.baseCommit ? ', against ' : '', diff.baseCommit ? h('code', { title: String(diff.baseCommit),
          text: String(diff.baseCommit).slice(0, 12) }) : null, diff.baseCommit ? ' (where the session started)' : '', '.'));
    if (diff.truncated) {
      summary.append(h('p', { class: 'diff-truncated', id: 'diff-truncated', text: 'The diff is too large to show '
        + 'in full: only part of it is shown here.' }));
    }
    const budget = { lines: MAX_LINES, skipped: 0 };
    const sections = files.map((file, index) => fileSection(file, index, budget));
    const items = [summary, ...sections];
    if (budget.skipped) {
      items.push(h('p', { class: 'diff-truncated', text: budget.skipped.toLocaleString('en')
        + ' more diff lines are not shown in this page.' }));
    }
    replace(body, ...items);
  }

  await load();
}

function fileSection(file, index, budget) {
  const path = String(file.path ?? '');
  const status = String(file.status ?? 'modified');
  const headingId = 'file-' + index;
  const name = status === 'renamed' || status === 'copied'
    ? [h('span', { class: 'diff-path', text: String(file.oldPath ?? '?') }), ' → ', h('span', { class: 'diff-path', text: path })]
    : h('span', { class: 'diff-path', text: path });
  const counts = file.binary ? h('span', { class: 'diff-counts', text: 'binary' })
    : h('span', { class: 'diff-counts' },
      h('span', { class: 'count-add', text: '+' + (Number(file.additions) || 0) }), ' ',
      h('span', { class: 'count-del', text: '−' + (Number(file.deletions) || 0) }),
      h('span', { class: 'visually-hidden', text: ' (' + (Number(file.additions) || 0) + ' added, '
        + (Number(file.deletions) || 0) + ' removed)' }));
  const details = h('details', { class: 'diff-file', dataset: { path, status }, open: index < OPEN_FILES },
    h('summary', { id: headingId },
      h('span', { class: 'badge diff-badge', dataset: { status }, text: STATUS_WORDS[status] || status }), ' ', name, ' ',
      counts));
  if (file.binary) {
    details.append(h('p', { class: 'muted diff-note', text: 'Binary file: its contents are not shown.' }));
  }
  const hunks = Array.isArray(file.hunks) ? file.hunks : [];
  if (!file.binary && !hunks.length) {
    details.append(h('p', { class: 'muted diff-note', text: status === 'renamed' ? 'Renamed without changes.'
      : 'No line changes (a mode change or an empty file).' }));
  }
  for (const hunk of hunks) {
    const lines = Array.isArray(hunk.lines) ? hunk.lines : [];
    if (budget.lines <= 0) {
      budget.skipped += lines.length;
      continue;
    }
    details.append(hunkBlock(hunk, lines, path, budget));
  }
  if (file.truncated) {
    details.append(h('p', { class: 'diff-truncated', text: 'This file\'s diff is cut short: it is too large to show in full.' }));
  }
  return details;
}

function hunkBlock(hunk, lines, path, budget) {
  let oldLine = Number(hunk.oldStart) || 0;
  let newLine = Number(hunk.newStart) || 0;
  const header = String(hunk.header ?? '');
  const rows = [];
  const shown = lines.slice(0, budget.lines);
  budget.skipped += lines.length - shown.length;
  budget.lines -= shown.length;
  for (const raw of shown) {
    const line = String(raw);
    const sign = line[0];
    let kind;
    let oldNumber = '';
    let newNumber = '';
    if (sign === '+') {
      kind = 'add';
      newNumber = newLine++;
    } else if (sign === '-') {
      kind = 'del';
      oldNumber = oldLine++;
    } else if (sign === '\\') {
      kind = 'note';
    } else {
      kind = 'context';
      oldNumber = oldLine++;
      newNumber = newLine++;
    }
    rows.push(h('div', { class: 'diff-line ' + kind },
      h('span', { class: 'ln', 'aria-hidden': 'true', text: String(oldNumber) }),
      h('span', { class: 'ln', 'aria-hidden': 'true', text: String(newNumber) }),
      h('span', { class: 'sign', 'aria-hidden': 'true', text: kind === 'note' ? '' : (sign || ' ') }),
      h('span', { class: 'code' },
        kind === 'add' ? h('span', { class: 'visually-hidden', text: 'added: ' })
          : kind === 'del' ? h('span', { class: 'visually-hidden', text: 'removed: ' }) : null,
        kind === 'note' ? line : line.slice(1))));
  }
  // Focusable: its long lines scroll sideways inside it, also with the keyboard.
  return h('div', { class: 'diff-hunk', tabindex: '0', role: 'group', 'aria-label': path + ' ' + header },
    h('p', { class: 'hunk-header', text: header }),
    h('div', { class: 'hunk-lines' }, rows));
}
