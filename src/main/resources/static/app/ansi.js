// Agent output is untrusted terminal text. This module turns it into plain text segments with
// CSS classes for the ANSI SGR colours it understands, and strips every other escape: OSC
// (hyperlinks, window titles), CSI cursor moves, DCS/APC/PM strings, other C0 controls but \n
// and \t. Nothing in it ever becomes markup or a link: the caller makes text nodes of it.

const ESC = '\u001b';

/** A per-stream decoder state: SGR attributes and an escape cut off at the end of a chunk. */
export function ansiState() {
  return { fg: null, bg: null, bold: false, pending: '' };
}

/**
 * Splits `text` into [{text, cls}] (cls: space-separated classes or ''), updating `state`, so an
 * escape sequence or a colour that spans two output events still works.
 */
export function parseAnsi(text, state) {
  const input = state.pending + text;
  state.pending = '';
  const segments = [];
  let plain = '';
  const flush = () => {
    if (plain) {
      segments.push({ text: plain, cls: classes(state) });
      plain = '';
    }
  };
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    const code = c.charCodeAt(0);
    if (c === ESC) {
      const end = escapeEnd(input, i);
      if (end < 0) {
        // Incomplete at the end of the chunk: keep it for the next one (bounded, so a lone
        // ESC cannot swallow the rest of the output).
        if (input.length - i < 256) {
          state.pending = input.slice(i);
        }
        break;
      }
      if (input[i + 1] === '[' && input[end - 1] === 'm') {
        flush();
        applySgr(state, input.slice(i + 2, end - 1));
      }
      i = end;
      continue;
    }
    if (code === 0x9b) {
      // 8-bit CSI: drop like its 7-bit form (without applying it).
      i = csiEnd(input, i + 1);
      if (i < 0) break;
      continue;
    }
    if ((code < 0x20 && c !== '\n' && c !== '\t') || code === 0x7f || (code >= 0x80 && code < 0xa0)) {
      i += 1; // other C0/C1 controls, \r included: not rendered
      continue;
    }
    plain += c;
    i += 1;
  }
  flush();
  return segments;
}

/** Index just past the escape sequence starting at `start` (an ESC), or -1 if incomplete. */
function escapeEnd(s, start) {
  const kind = s[start + 1];
  if (kind === undefined) return -1;
  if (kind === '[') return csiEnd(s, start + 2);
  if (kind === ']' || kind === 'P' || kind === '_' || kind === '^' || kind === 'X') {
    // A string terminated by BEL or ESC \ (ST).
    for (let j = start + 2; j < s.length; j++) {
      if (s[j] === '\u0007') return j + 1;
      if (s[j] === ESC) {
        if (j + 1 >= s.length) return -1;
        if (s[j + 1] === '\\') return j + 2;
      }
    }
    return -1;
  }
  // ESC plus intermediates (0x20-0x2f) plus one final byte: charset selection, keypad modes…
  let j = start + 1;
  while (j < s.length && s.charCodeAt(j) >= 0x20 && s.charCodeAt(j) <= 0x2f) j++;
  return j < s.length ? j + 1 : -1;
}

/** Past a CSI's parameters and intermediates to its final byte (0x40-0x7e), or -1. */
function csiEnd(s, from) {
  for (let j = from; j < s.length; j++) {
    const code = s.charCodeAt(j);
    if (code >= 0x40 && code <= 0x7e) return j + 1;
    if (code < 0x20 || code > 0x7e) return j; // malformed: drop what was read, keep the rest
  }
  return -1;
}

function applySgr(state, params) {
  const parts = params === '' ? [0] : params.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
  for (let k = 0; k < parts.length; k++) {
    const p = parts[k];
    if (p === 0) {
      state.fg = null;
      state.bg = null;
      state.bold = false;
    } else if (p === 1) {
      state.bold = true;
    } else if (p === 22) {
      state.bold = false;
    } else if (p >= 30 && p <= 37) {
      state.fg = p - 30;
    } else if (p >= 90 && p <= 97) {
      state.fg = p - 90 + 8;
    } else if (p === 39) {
      state.fg = null;
    } else if (p >= 40 && p <= 47) {
      state.bg = p - 40;
    } else if (p >= 100 && p <= 107) {
      state.bg = p - 100 + 8;
    } else if (p === 49) {
      state.bg = null;
    } else if (p === 38 || p === 48) {
      // 256 colours: the first 16 map to ours, the rest are dropped; truecolour is dropped.
      const mode = parts[k + 1];
      let colour = null;
      if (mode === 5) {
        colour = parts[k + 2] < 16 ? parts[k + 2] : null;
        k += 2;
      } else if (mode === 2) {
        k += 4;
      }
      if (p === 38) state.fg = colour;
      else state.bg = colour;
    }
  }
}

function classes(state) {
  let cls = '';
  if (state.fg !== null) cls += 'ansi-fg-' + state.fg;
  if (state.bg !== null) cls += (cls ? ' ' : '') + 'ansi-bg-' + state.bg;
  if (state.bold) cls += (cls ? ' ' : '') + 'ansi-bold';
  return cls;
}
