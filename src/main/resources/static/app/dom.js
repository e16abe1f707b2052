// Building DOM without HTML strings. Everything the server sends (titles, names, messages,
// agent output) is untrusted: it only ever becomes text nodes and attribute values, never
// markup: no module of the app parses HTML from a string (AppPagesTest checks).

/**
 * h('button', {class: 'primary', type: 'button', onclick: fn, 'aria-label': 'x'}, 'Text', child…)
 * Props: `class`, `text` (textContent), `on<event>` (listeners), `dataset` (object),
 * `hidden`/`disabled`/… (booleans as properties), anything else as an attribute.
 * Children: nodes, strings (text nodes), numbers, arrays; null, undefined and false are skipped.
 */
export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  if (props) {
    for (const [name, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) {
        continue;
      }
      if (name === 'class') {
        element.className = value;
      } else if (name === 'text') {
        element.textContent = String(value);
      } else if (name === 'dataset') {
        Object.assign(element.dataset, value);
      } else if (name.startsWith('on') && typeof value === 'function') {
        element.addEventListener(name.slice(2).toLowerCase(), value);
      } else if (value === true) {
        element.setAttribute(name, '');
      } else if (name === 'value') {
        element.value = value;
      } else {
        if (name === 'href' || name === 'src' || name === 'action') {
          assertSafeUrl(value);
        }
        element.setAttribute(name, String(value));
      }
    }
  }
  append(element, children);
  return element;
}

/** Appends children as h() takes them. */
export function append(parent, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) {
      continue;
    }
    if (Array.isArray(child)) {
      append(parent, child);
    } else if (child instanceof Node) {
      parent.appendChild(child);
    } else {
      parent.appendChild(document.createTextNode(String(child)));
    }
  }
  return parent;
}

/** Replaces all children of `parent`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/** Only the app's own paths (and the API's): never a javascript: or foreign URL from data. */
function assertSafeUrl(value) {
  const url = String(value);
  if (!url.startsWith('/') || url.startsWith('//') || url.startsWith('/\\')) {
    throw new Error('refusing a link that is not a path of this app: ' + url);
  }
}

/** A link inside the app (the router handles it without a page load). */
export function link(path, ...children) {
  return h('a', { href: path, 'data-nav': true }, ...children);
}

/** Path segment encoding for links built from data (project keys, ids). */
export function seg(value) {
  return encodeURIComponent(String(value));
}

/** "3 min ago" style relative time, with the exact time in a <time> element. */
export function time(iso, { relative = true } = {}) {
  const date = new Date(iso);
  const element = h('time', { datetime: iso, title: date.toLocaleString() });
  element.textContent = relative ? ago(date) : date.toLocaleTimeString();
  return element;
}

export function ago(date, now = Date.now()) {
  const seconds = Math.round((now - date.getTime()) / 1000);
  if (seconds < 5) return 'just now';
  if (seconds < 60) return seconds + ' s ago';
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return minutes + ' min ago';
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return hours + ' h ago';
  return date.toLocaleDateString();
}

/** "1 h 2 min", "12 s" */
export function duration(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return seconds + ' s';
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return minutes + ' min ' + (seconds % 60) + ' s';
  return Math.floor(minutes / 60) + ' h ' + (minutes % 60) + ' min';
}

/** A labelled form field: <label for> + control (+ hint). */
export function field(label, control, hint) {
  const id = control.id || (control.id = 'f-' + Math.random().toString(36).slice(2, 9));
  let hintElement = null;
  if (hint) {
    hintElement = h('span', { class: 'hint', id: id + '-hint', text: hint });
    control.setAttribute('aria-describedby', hintElement.id);
  }
  return h('p', { class: 'field' }, h('label', { for: id, text: label }), control, hintElement);
}
