// The one way the app talks to the server: JSON over fetch, the session cookie, the CSRF
// header on writes, problem+json answers turned into ApiError (docs/api.md).

/** A 4xx/5xx answer: `status`, `code` (the problem's slug), `detail`, the whole `problem`. */
export class ApiError extends Error {
  constructor(status, problem, headers) {
    super(problem.detail || problem.title || 'HTTP ' + status);
    this.status = status;
    this.code = problem.code || 'http-' + status;
    this.problem = problem;
    this.headers = headers;
  }
}

/** No answer at all: the network, or a server that is down or restarting. */
export class NetworkError extends Error {}

const SAFE = new Set(['GET', 'HEAD']);

export function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) {
      return decodeURIComponent(rest.join('='));
    }
  }
  return null;
}

let onUnauthenticated = () => {};

/** Called when any request (but the login itself) answers 401: the session is gone. */
export function whenUnauthenticated(callback) {
  onUnauthenticated = callback;
}

/**
 * request('POST', '/api/…', {body, headers, signal}) → the parsed JSON (null for 204),
 * with `response` for headers and status when `raw: true`.
 */
export async function request(method, path, { body, headers = {}, signal, raw = false } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, credentials: 'same-origin', signal };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (!SAFE.has(method)) {
    const token = cookie('XSRF-TOKEN');
    if (token) {
      init.headers['X-XSRF-TOKEN'] = token;
    }
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === 'AbortError') {
      throw error;
    }
    throw new NetworkError('The server cannot be reached.');
  }
  const text = await response.text().catch(() => '');
  let json = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!response.ok) {
    const problem = json && typeof json === 'object' ? json : { title: response.statusText, status: response.status };
    if (response.status === 401 && path !== '/api/auth/login') {
      onUnauthenticated();
    }
    throw new ApiError(response.status, problem, response.headers);
  }
  return raw ? { json, response } : json;
}

export const get = (path, options) => request('GET', path, options);
export const post = (path, body, options) => request('POST', path, { ...options, body });
export const put = (path, body, options) => request('PUT', path, { ...options, body });
export const patch = (path, body, options) => request('PATCH', path, { ...options, body });
export const del = (path, options) => request('DELETE', path, options);

/** The problem's text for a person: detail, and the first field errors. */
export function describe(error) {
  if (error instanceof ApiError) {
    const fields = (error.problem.errors || []).map((e) => e.field + ': ' + e.message);
    return [error.message, ...fields].join(' — ');
  }
  if (error instanceof NetworkError) {
    return error.message;
  }
  return 'Something went wrong: ' + (error && error.message ? error.message : String(error));
}
