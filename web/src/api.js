// The dashboard talks to vigil serve only through its REST API and its live event feed, so it works on
// any node of a fleet. The API key is entered once per browser session (sessionStorage) and sent in a
// header on every request, never in a URL: the live feed is read with fetch streaming, not EventSource,
// and images are fetched as blobs.

const KEY = 'vigil.apiKey';
const OPERATOR = 'vigil.operator';

export const session = {
  get key() { return sessionStorage.getItem(KEY) ?? ''; },
  set key(value) { value ? sessionStorage.setItem(KEY, value) : sessionStorage.removeItem(KEY); },
  get operator() { return sessionStorage.getItem(OPERATOR) ?? ''; },
  set operator(value) { value ? sessionStorage.setItem(OPERATOR, value) : sessionStorage.removeItem(OPERATOR); },
};

/** The request headers that carry the key. */
export function authHeaders(extra = {}) {
  const headers = { ...extra };
  if (session.key) headers['X-Api-Key'] = session.key;
  return headers;
}

/** An API error: the HTTP status and the problem's title and detail (RFC 9457). */
export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.title = title;
  }
}

/** Calls the API; returns the parsed JSON (or text, or null for 204). */
export async function api(path, { method = 'GET', body, signal } = {}) {
  const headers = authHeaders({ Accept: 'application/json' });
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, cache: 'no-store' });
  if (!res.ok) {
    let problem = {};
    try { problem = await res.json(); } catch { /* not JSON */ }
    throw new ApiError(res.status, problem.title, problem.detail);
  }
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') ?? '';
  return type.includes('json') ? res.json() : res.text();
}

/** What the current key may do: { access: 'admin' | 'read' | 'none', key_rejected, open_reads }. */
export const access = () => api('/api/access');

/**
 * The live feed (Server-Sent Events over fetch, so the key goes in a header): calls onEvent(type, data)
 * for each event, resumes after the last id it saw whenever the connection drops, and stops when
 * `signal` aborts. onState('open' | 'retrying') tells the page whether it is live.
 */
export function liveEvents({ after, onEvent, onState, signal }) {
  let last = after ?? null;
  const run = async () => {
    let delay = 500;
    while (!signal.aborted) {
      try {
        const headers = authHeaders({ Accept: 'text/event-stream' });
        if (last !== null) headers['Last-Event-ID'] = String(last);
        const res = await fetch('/api/events/live', { headers, signal, cache: 'no-store' });
        if (!res.ok || !res.body) throw new ApiError(res.status);
        onState?.('open');
        delay = 500;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const message = parseFrame(frame);
            if (message.id !== undefined) last = message.id;
            if (message.data !== undefined) onEvent(message.event ?? 'message', JSON.parse(message.data));
          }
        }
      } catch (e) {
        if (signal.aborted) return;
        if (e instanceof ApiError && (e.status === 401 || e.status === 403)) { onState?.('refused'); return; }
      }
      if (signal.aborted) return;
      onState?.('retrying');
      await new Promise(resolve => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  };
  run();
}

function parseFrame(frame) {
  const message = {};
  for (const line of frame.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') message.data = message.data === undefined ? value : `${message.data}\n${value}`;
    else if (field === 'id') message.id = Number(value);
    else if (field === 'event') message.event = value;
  }
  return message;
}
