// Agent text is Markdown from an untrusted source. This renderer BUILDS DOM NODES from it
// (createElement, text nodes, a checked href): it never makes an HTML string, so raw HTML in
// the text (<script>, <img onerror>) is shown as the text it is. Links are kept only for
// http:, https: and mailto: (anything else stays text). Linear time: every block level and
// every inline level scans its text once, levels are capped (MAX_DEPTH, MAX_INLINE_DEPTH), a
// failed search for a closing delimiter is remembered, and input and elements are capped.
// A bare URL is looked for up to MAX_URL characters ahead: after MAX_URL_FAILURES candidates
// that were not URLs (e.g. "(http://[" over and over), bare URLs are no longer looked for in
// that text, or each "http" would cost a 2 KB scan and a URL parse (seconds for 64 KB).

/** Characters rendered; the rest is cut (with a note). */
export const MAX_CHARS = 100000;
/** Nested blockquotes and lists; deeper markers are shown as text. */
const MAX_DEPTH = 8;
/** Nested emphasis, strong, strikethrough and link text. */
const MAX_INLINE_DEPTH = 4;
/** Elements made per call; past it the rest of the text is plain text. */
const MAX_ELEMENTS = 4000;
const MAX_URL = 2048;
/** Bare "http…" candidates that were not URLs, per call; past it bare URLs stay text. */
const MAX_URL_FAILURES = 100;
const SAFE_SCHEMES = new Set(['http:', 'https:', 'mailto:']);

const FENCE = /^ {0,3}(`{3,}|~{3,})[ \t]*([^`\s]*)/;
const HEADING = /^ {0,3}(#{1,6})(?=[ \t]|$)/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}> ?/;
const ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])([ \t]+|$)/;
const TABLE_DELIMITER = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;

/**
 * renderMarkdown(text) → a DocumentFragment. Headings start at <h3> (# is h3): the page has
 * its own h1 and h2.
 */
export function renderMarkdown(text) {
  let source = String(text ?? '');
  const fragment = document.createDocumentFragment();
  const state = { elements: 0, urlFailures: 0 };
  let cut = 0;
  if (source.length > MAX_CHARS) {
    cut = source.length - MAX_CHARS;
    source = source.slice(0, MAX_CHARS);
  }
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  blocks(lines, fragment, 0, state);
  if (cut) {
    fragment.appendChild(el(state, 'p', 'md-cut', cut.toLocaleString('en') + ' more characters not shown.'));
  }
  return fragment;
}

function el(state, tag, cls, text) {
  state.elements++;
  const element = document.createElement(tag);
  if (cls) element.className = cls;
  if (text !== undefined) element.textContent = text;
  return element;
}

function over(state) {
  return state.elements >= MAX_ELEMENTS;
}

function blank(line) {
  return /^[ \t]*$/.test(line);
}

/** Whether a line starts a block other than a paragraph (it ends a paragraph). */
function startsBlock(line, depth) {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line)
    || (depth < MAX_DEPTH && (QUOTE.test(line) || ITEM.test(line)));
}

function blocks(lines, parent, depth, state) {
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (over(state)) {
      parent.appendChild(document.createTextNode(lines.slice(i).join('\n')));
      return;
    }
    if (blank(line)) {
      i++;
      continue;
    }
    let m = FENCE.exec(line);
    if (m) {
      const fence = m[1];
      const body = [];
      i++;
      while (i < lines.length) {
        const close = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(lines[i]);
        if (close && close[1][0] === fence[0] && close[1].length >= fence.length) {
          i++;
          break;
        }
        body.push(lines[i]);
        i++;
      }
      const pre = el(state, 'pre', 'md-code');
      const code = el(state, 'code', null, body.join('\n'));
      const language = m[2].replace(/[^A-Za-z0-9_+#-]/g, '').slice(0, 30);
      if (language) code.className = 'language-' + language;
      pre.appendChild(code);
      parent.appendChild(pre);
      continue;
    }
    m = HEADING.exec(line);
    if (m) {
      const heading = el(state, 'h' + Math.min(6, m[1].length + 2), 'md-heading');
      inline(headingText(line.slice(m[0].length)), heading, 0, state);
      parent.appendChild(heading);
      i++;
      continue;
    }
    if (RULE.test(line)) {
      parent.appendChild(el(state, 'hr'));
      i++;
      continue;
    }
    if (depth < MAX_DEPTH && QUOTE.test(line)) {
      const inner = [];
      while (i < lines.length && QUOTE.test(lines[i])) {
        inner.push(lines[i].replace(QUOTE, ''));
        i++;
      }
      const quote = el(state, 'blockquote');
      blocks(inner, quote, depth + 1, state);
      parent.appendChild(quote);
      continue;
    }
    if (depth < MAX_DEPTH && ITEM.test(line)) {
      i = list(lines, i, parent, depth, state);
      continue;
    }
    if (line.includes('|') && i + 1 < lines.length && TABLE_DELIMITER.test(lines[i + 1])
      && lines[i + 1].includes('-')) {
      i = table(lines, i, parent, state);
      continue;
    }
    // A paragraph: up to a blank line or the start of another block.
    const paragraph = [line];
    i++;
    while (i < lines.length && !blank(lines[i]) && !startsBlock(lines[i], depth)) {
      paragraph.push(lines[i]);
      i++;
    }
    const p = el(state, 'p');
    paragraphLines(paragraph, p, state);
    parent.appendChild(p);
  }
}

/** A heading's text without its closing #s (by hand: a regex for it backtracks quadratically). */
function headingText(rest) {
  let text = rest.trim();
  let end = text.length;
  while (end > 0 && text[end - 1] === '#') end--;
  if (end === 0) return '';
  if (end < text.length && (text[end - 1] === ' ' || text[end - 1] === '\t')) text = text.slice(0, end).trim();
  return text;
}

/** `line` without the spaces at its end, and how many there were. */
function trailingSpaces(line) {
  let end = line.length;
  while (end > 0 && line[end - 1] === ' ') end--;
  return { text: line.slice(0, end), spaces: line.length - end };
}

/** Lines of a paragraph: a line ending in two spaces or a backslash is a hard break. */
function paragraphLines(lines, p, state) {
  lines.forEach((raw, index) => {
    let line = raw.replace(/^[ \t]+/, '');
    let hard = false;
    if (index < lines.length - 1) {
      const trimmed = trailingSpaces(line);
      if (trimmed.spaces >= 2) {
        hard = true;
        line = trimmed.text;
      } else if (line.endsWith('\\')) {
        hard = true;
        line = line.slice(0, -1);
      }
    }
    inline(line, p, 0, state);
    if (index < lines.length - 1) {
      p.appendChild(hard ? el(state, 'br') : document.createTextNode('\n'));
    }
  });
}

/** A list from lines[start]: items of the same kind; an item's lines are indented past its marker. */
function list(lines, start, parent, depth, state) {
  const first = ITEM.exec(lines[start]);
  const ordered = /\d/.test(first[2]);
  const listElement = el(state, ordered ? 'ol' : 'ul');
  if (ordered) {
    const number = parseInt(first[2], 10);
    if (number !== 1) listElement.setAttribute('start', String(number));
  }
  const kind = ordered ? first[2].slice(-1) : first[2];
  let i = start;
  while (i < lines.length) {
    const m = ITEM.exec(lines[i]);
    if (!m) break;
    const sameKind = ordered ? /\d/.test(m[2]) && m[2].slice(-1) === kind : m[2] === kind;
    if (!sameKind) break;
    const width = m[1].length + m[2].length + Math.min(m[3].length || 1, 4);
    const body = [lines[i].slice(Math.min(lines[i].length, m[0].length))];
    i++;
    let pendingBlank = 0;
    while (i < lines.length) {
      const line = lines[i];
      if (blank(line)) {
        pendingBlank++;
        i++;
        continue;
      }
      const indent = /^[ \t]*/.exec(line)[0].replace(/\t/g, '    ').length;
      if (indent >= width) {
        for (; pendingBlank > 0; pendingBlank--) body.push('');
        body.push(line.replace(/^[ \t]*/, ' '.repeat(Math.max(0, indent - width))));
        i++;
        continue;
      }
      // A lazy continuation of the item's paragraph (no blank line, not a new block).
      if (!pendingBlank && !startsBlock(line, depth)) {
        body.push(line);
        i++;
        continue;
      }
      break;
    }
    const item = el(state, 'li');
    if (body.some((l) => !blank(l)) && !over(state)) {
      // A one-paragraph item is its text, not a <p> (tight lists).
      const single = body.filter((l) => !blank(l));
      if (single.length === body.length && !single.slice(1).some((l) => startsBlock(l.trimStart(), depth + 1))
        && !startsBlock(single[0], depth + 1)) {
        paragraphLines(single, item, state);
      } else {
        blocks(body, item, depth + 1, state);
      }
    }
    listElement.appendChild(item);
    if (pendingBlank && !(i < lines.length && ITEM.test(lines[i]))) break;
  }
  parent.appendChild(listElement);
  return i;
}

function cells(line) {
  let row = line.trim();
  if (row.startsWith('|')) row = row.slice(1);
  if (row.endsWith('|') && !row.endsWith('\\|')) row = row.slice(0, -1);
  return row.split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

function table(lines, start, parent, state) {
  const head = cells(lines[start]);
  const aligns = cells(lines[start + 1]).map((c) => (c.startsWith(':') && c.endsWith(':') ? 'center'
    : c.endsWith(':') ? 'right' : c.startsWith(':') ? 'left' : ''));
  const wrap = el(state, 'div', 'md-table');
  // Scrolls sideways inside its box on a narrow screen; focusable so the keyboard can scroll it.
  wrap.tabIndex = 0;
  const tableElement = el(state, 'table');
  const thead = el(state, 'thead');
  const tr = el(state, 'tr');
  head.forEach((text, column) => {
    const th = el(state, 'th');
    th.setAttribute('scope', 'col');
    if (aligns[column]) th.className = 'align-' + aligns[column];
    inline(text, th, 0, state);
    tr.appendChild(th);
  });
  thead.appendChild(tr);
  tableElement.appendChild(thead);
  const tbody = el(state, 'tbody');
  let i = start + 2;
  while (i < lines.length && !blank(lines[i]) && lines[i].includes('|') && !over(state)) {
    const row = el(state, 'tr');
    const values = cells(lines[i]);
    for (let column = 0; column < head.length; column++) {
      const td = el(state, 'td');
      if (aligns[column]) td.className = 'align-' + aligns[column];
      inline(values[column] || '', td, 0, state);
      row.appendChild(td);
    }
    tbody.appendChild(row);
    i++;
  }
  tableElement.appendChild(tbody);
  wrap.appendChild(tableElement);
  parent.appendChild(wrap);
  return i;
}

// ---- inline ----

const PUNCTUATION = /[!-\/:-@\[-`{-~]/;
const AUTOLINK = /<((?:https?:\/\/|mailto:)[^\s<>]{1,2048})>/y;
const BARE_URL = /https?:\/\/[^\s<>"'`]{1,2048}/y;

/** A URL that may become a link (http, https, mailto), or null. */
export function safeHref(raw) {
  const text = String(raw).trim();
  if (!text || text.length > MAX_URL) return null;
  // Control characters and spaces inside a scheme are a classic way around checks.
  if (/[\u0000-\u0020\u007f]/.test(text)) return null;
  let url;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  return SAFE_SCHEMES.has(url.protocol) ? url.href : null;
}

function anchor(state, href) {
  const a = el(state, 'a', 'md-link');
  a.setAttribute('href', href);
  a.setAttribute('rel', 'noopener noreferrer nofollow');
  a.setAttribute('target', '_blank');
  return a;
}

/**
 * Appends `text`'s inline Markdown to `parent`: code spans, **strong**, *em* or _em_,
 * ~~strikethrough~~, [links](url), <autolinks>, bare http(s) URLs, backslash escapes.
 */
function inline(text, parent, depth, state, inLink = false) {
  let plain = '';
  const flush = () => {
    if (plain) {
      parent.appendChild(document.createTextNode(plain));
      plain = '';
    }
  };
  // Delimiters with no closer after some position: none after a later one either.
  const noCloser = new Map();
  // The last search's answer per delimiter: a later search from between its start and its
  // answer has the same answer (so "[[[[…]" does not scan to its end once per bracket).
  const found = new Map();
  const find = (delimiter, from) => {
    const failedAt = noCloser.get(delimiter);
    if (failedAt !== undefined && failedAt <= from) return -1;
    const last = found.get(delimiter);
    if (last && last.from <= from && from <= last.at) return last.at;
    const at = text.indexOf(delimiter, from);
    if (at < 0) noCloser.set(delimiter, from);
    else found.set(delimiter, { from, at });
    return at;
  };
  // The next closer of `delimiter` from `from`: it follows a non-space, a single `*` is not
  // half of a `**`, a `_` does not end inside a word. Whether a closer is one does not depend
  // on the opener, so the answers are remembered as find()'s are.
  const closers = new Map();
  const closer = (delimiter, from) => {
    const known = closers.get(delimiter);
    if (known && known.from <= from && (known.at < 0 || from <= known.at)) return known.at;
    const c = delimiter[0];
    const double = delimiter.length === 2;
    let at = find(delimiter, from);
    while (at >= 0 && (/\s/.test(text[at - 1]) || (!double && text[at + 1] === c)
      || (c === '_' && /[\p{L}\p{N}]/u.test(text[at + delimiter.length] || '')))) {
      at = find(delimiter, at + (double ? 2 : (text[at + 1] === c ? 2 : 1)));
    }
    closers.set(delimiter, { from, at });
    return at;
  };
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (over(state)) {
      plain += text.slice(i);
      break;
    }
    const c = text[i];
    if (c === '\\' && i + 1 < n && PUNCTUATION.test(text[i + 1])) {
      plain += text[i + 1];
      i += 2;
      continue;
    }
    if (c === '`') {
      let run = 1;
      while (i + run < n && text[i + run] === '`') run++;
      const close = closingBackticks(text, i + run, run, noCloser);
      if (close < 0) {
        plain += text.slice(i, i + run);
        i += run;
        continue;
      }
      flush();
      let content = text.slice(i + run, close);
      if (content.length > 2 && content.startsWith(' ') && content.endsWith(' ') && content.trim()) {
        content = content.slice(1, -1);
      }
      parent.appendChild(el(state, 'code', null, content));
      i = close + run;
      continue;
    }
    if ((c === '*' || c === '_' || c === '~') && depth < MAX_INLINE_DEPTH) {
      const double = text[i + 1] === c;
      if (c === '~' && !double) {
        plain += c;
        i++;
        continue;
      }
      const delimiter = double ? c + c : c;
      const size = delimiter.length;
      const before = i > 0 ? text[i - 1] : ' ';
      const after = text[i + size];
      // `_` inside a word (snake_case) is not emphasis; an opener is followed by a non-space.
      const opens = after !== undefined && !/\s/.test(after) && after !== c
        && !(c === '_' && /[\p{L}\p{N}]/u.test(before));
      if (opens) {
        const close = closer(delimiter, i + size);
        if (close > i + size) {
          flush();
          const tag = c === '~' ? 'del' : double ? 'strong' : 'em';
          const element = el(state, tag);
          inline(text.slice(i + size, close), element, depth + 1, state, inLink);
          parent.appendChild(element);
          i = close + size;
          continue;
        }
      }
      plain += delimiter;
      i += size;
      continue;
    }
    if (c === '[' && !inLink && depth < MAX_INLINE_DEPTH) {
      const end = find(']', i + 1);
      const nested = find('[', i + 1);
      if (end > i && (nested < 0 || nested > end) && text[end + 1] === '(') {
        const target = /\(([^\s()<>]{0,2048})(?:[ \t]+"[^"]{0,300}")?\)/y;
        target.lastIndex = end + 1;
        const m = target.exec(text);
        if (m) {
          const href = safeHref(m[1]);
          if (href) {
            flush();
            const a = anchor(state, href);
            inline(text.slice(i + 1, end), a, depth + 1, state, true);
            if (!a.textContent) a.textContent = href;
            parent.appendChild(a);
          } else {
            // Not a link we make (javascript:, data:, relative): the whole source as text.
            plain += text.slice(i, target.lastIndex);
          }
          i = target.lastIndex;
          continue;
        }
      }
      plain += c;
      i++;
      continue;
    }
    if (c === '<' && !inLink) {
      AUTOLINK.lastIndex = i;
      const m = AUTOLINK.exec(text);
      const href = m && safeHref(m[1]);
      if (href) {
        flush();
        const a = anchor(state, href);
        a.textContent = m[1];
        parent.appendChild(a);
        i = AUTOLINK.lastIndex;
        continue;
      }
      plain += c;
      i++;
      continue;
    }
    if (c === 'h' && !inLink && state.urlFailures < MAX_URL_FAILURES && text.startsWith('http', i)
      && (i === 0 || !/[\p{L}\p{N}]/u.test(text[i - 1]))) {
      BARE_URL.lastIndex = i;
      const m = BARE_URL.exec(text);
      if (m) {
        // Trailing punctuation ends the sentence, not the URL (a ")" only when unbalanced).
        let url = m[0];
        let opened = 0;
        let closed = 0;
        for (const ch of url) {
          if (ch === '(') opened++;
          else if (ch === ')') closed++;
        }
        for (;;) {
          const last = url[url.length - 1];
          if ('.,;:!?*_~'.includes(last)) {
            url = url.slice(0, -1);
          } else if (last === ')' && closed > opened) {
            url = url.slice(0, -1);
            closed--;
          } else {
            break;
          }
        }
        const href = safeHref(url);
        if (href && url.length > 'https://'.length) {
          flush();
          const a = anchor(state, href);
          a.textContent = url;
          parent.appendChild(a);
          i += url.length;
          continue;
        }
        state.urlFailures++;
      }
    }
    plain += c;
    i++;
  }
  flush();
}

/** The index of the next run of exactly `run` backticks at or after `from`, or -1. */
function closingBackticks(text, from, run, noCloser) {
  const key = '`' + run;
  const failedAt = noCloser.get(key);
  if (failedAt !== undefined && failedAt <= from) return -1;
  let at = from;
  for (;;) {
    const next = text.indexOf('`', at);
    if (next < 0) {
      noCloser.set(key, from);
      return -1;
    }
    let length = 1;
    while (text[next + length] === '`') length++;
    if (length === run) return next;
    at = next + length;
  }
}
