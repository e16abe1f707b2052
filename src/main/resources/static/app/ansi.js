// Agent output is untrusted terminal text. This module turns it into plain text segments with
// CSS classes for the ANSI SGR colours it understands, and strips every other escape: OSC
// (hyperlinks, window titles), CSI cursor moves, DCS/APC/PM strings, other C0 controls but \n
// and \t. Nothing in it ever becomes markup or a link: the caller makes text nodes of it.

const ESC = '\u001b';

/** A per-stream decoder state: SGR attributes and an escape cut off at the end of a chunk. */
export function ansiState() {
  return { fg: null, bg: null, bold: false, inverse: false, pending: '' };
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
          break;
        }
        // No terminator within the bound: a stray introducer (binary output). Drop only the
        // ESC and the byte after it, and go on with the rest as text.
        i += 2;
        continue;
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
      state.inverse = false;
    } else if (p === 7) {
      state.inverse = true;
    } else if (p === 27) {
      state.inverse = false;
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

// The palettes of app.css (.ansi-fg-N, .ansi-bg-N), to keep text readable on a background.
const FG = ['#8b949e', '#ff7b72', '#7ee787', '#e3b341', '#79c0ff', '#d2a8ff', '#76e3ea', '#e6e6e6',
  '#a5adb7', '#ffa198', '#aff5b4', '#f8e3a1', '#a5d6ff', '#e2c5ff', '#b3f0ff', '#ffffff'];
const BG = ['#000000', '#8e1519', '#0f5323', '#6c4a00', '#0c2d6b', '#5a1e7a', '#0b4f57', '#484f58',
  '#30363d', '#a40e26', '#196c2e', '#7d5300', '#1158c7', '#6e40c9', '#116a74', '#6e7681'];
/** The output's own text colour, the darker of stdout's and stderr's (--mono-fg, --stderr). */
const DEFAULT_FG = '#ffb4a8';

function luminance(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a, b) {
  const [x, y] = [luminance(a), luminance(b)].sort((m, n) => n - m);
  return (x + 0.05) / (y + 0.05);
}

function classes(state) {
  let fg = state.fg;
  let bg = state.bg;
  if (state.inverse) {
    // SGR 7: the text's colour becomes the background (the default text colour: bg 7).
    [fg, bg] = [bg === null ? 0 : bg, fg === null ? 7 : fg];
  }
  let cls = '';
  if (bg !== null && contrast(fg === null ? DEFAULT_FG : FG[fg], BG[bg]) < 4.5) {
    // Unreadable on this background ("black" on yellow, grey on blue): black or white instead.
    cls = contrast('#000000', BG[bg]) > contrast('#ffffff', BG[bg]) ? 'ansi-fg-black' : 'ansi-fg-white';
  } else if (fg !== null) {
    cls = 'ansi-fg-' + fg;
  }
  if (bg !== null) cls += (cls ? ' ' : '') + 'ansi-bg-' + bg;
  if (state.bold) cls += (cls ? ' ' : '') + 'ansi-bold';
  return cls;
}
