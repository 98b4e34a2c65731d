// Every request goes to the API with the signed-in user's bearer token: what the page shows is what RBAC lets that user see.
const tokenKey = 'kubesharp.dashboard.token';

export const session = {
  get token() { return sessionStorage.getItem(tokenKey); },
  signIn(token) { sessionStorage.setItem(tokenKey, token.trim()); },
  signOut() { sessionStorage.removeItem(tokenKey); },
};

export class ApiError extends Error {
  constructor(status, status_) {
    super(status_?.message || `the server answered ${status}`);
    this.code = status;
    this.status = status_;
  }
}

function headers(extra) {
  return { Accept: 'application/json', Authorization: `Bearer ${session.token}`, ...extra };
}

export async function request(path, { method = 'GET', body, contentType, signal } = {}) {
  const response = await fetch(path, { method, body, signal, headers: headers(contentType ? { 'Content-Type': contentType } : {}) });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  if (!response.ok) {
    if (response.status === 401) window.dispatchEvent(new Event('dashboard-unauthorized'));
    throw new ApiError(response.status, data);
  }
  return data;
}

function withQuery(path, query) {
  return path + (path.includes('?') ? '&' : '?') + query;
}

const keyOf = o => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

// Reads a chunked HTTP body line by line as it arrives (watch events, followed logs).
async function* lines(response, signal) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const abort = () => reader.cancel().catch(() => {});
  signal.addEventListener('abort', abort, { once: true });
  let pending = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += value;
      let at;
      while ((at = pending.indexOf('\n')) >= 0) {
        yield pending.slice(0, at);
        pending = pending.slice(at + 1);
      }
    }
    if (pending) yield pending;
  } finally {
    signal.removeEventListener('abort', abort);
  }
}

// List, then watch from the list's resourceVersion; a 410 Gone or a lost stream lists again. onChange gets the
// current objects (a Map keyed namespace/name) at most once per animation frame.
export function informer(path, onChange, onError, signal) {
  const objects = new Map();
  let scheduled = false;
  const changed = () => {
    if (scheduled || signal.aborted) return;
    scheduled = true;
    requestAnimationFrame(() => { scheduled = false; if (!signal.aborted) onChange(objects); });
  };

  (async () => {
    let failures = 0;
    while (!signal.aborted) {
      try {
        const list = await request(path, { signal });
        objects.clear();
        // List items carry no kind (watch events do): give them the list's, as kubectl does.
        const kind = list.kind?.replace(/List$/, '');
        for (const item of list.items) objects.set(keyOf(item), { apiVersion: list.apiVersion, kind, ...item });
        changed();
        let resourceVersion = list.metadata.resourceVersion;
        for (;;) {
          const response = await fetch(withQuery(path, `watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(resourceVersion)}`), { signal, headers: headers() });
          if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
          failures = 0;
          let gone = false;
          for await (const line of lines(response, signal)) {
            if (!line.trim()) continue;
            const event = JSON.parse(line);
            if (event.type === 'ERROR') { gone = event.object?.code === 410; if (!gone) throw new ApiError(event.object?.code ?? 500, event.object); break; }
            resourceVersion = event.object.metadata.resourceVersion;
            if (event.type === 'BOOKMARK') continue;
            if (event.type === 'DELETED') objects.delete(keyOf(event.object)); else objects.set(keyOf(event.object), event.object);
            changed();
          }
          if (gone || signal.aborted) break;
        }
      } catch (error) {
        if (signal.aborted) return;
        failures++;
        // One dropped stream (a network change) is simply listed and watched again; repeated failures are shown.
        if (failures > 1 || !(error instanceof TypeError)) onError?.(error);
        if (error instanceof ApiError && (error.code === 401 || error.code === 403 || error.code === 404)) return;
        // Bounded back-off before listing again: the server restarted or the connection dropped.
        await new Promise(resolve => setTimeout(resolve, Math.min(30000, 500 * 2 ** Math.min(failures, 6))));
      }
    }
  })();
}

// A CRI log timestamp (RFC 3339 with up to nine fraction digits, any zone) as nanoseconds since the epoch.
function logTime(text) {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!match) return null;
  const seconds = Date.parse(match[1] + match[3]) / 1000;
  return Number.isNaN(seconds) ? null : BigInt(seconds) * 1000000000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}

// Follows a container's log: calls onText with each line as the kubelet sends it, until aborted or the log ends.
// Browsers drop every open stream when the machine's network changes (on a node, each pod's interface is such a
// change), so a stream that breaks is resumed: lines carry the kubelet's timestamps, the next request asks from
// the last one, and lines already shown are skipped. onState('reconnecting') and onState('following') tell the page.
export async function followLog(path, onText, signal, onState = () => {}) {
  let since = null;
  let last = null;
  let shownAtLast = 0;
  let failures = 0;
  for (;;) {
    const query = since ? `timestamps=true&sinceTime=${encodeURIComponent(since)}` : 'timestamps=true';
    let skipAtLast = shownAtLast;
    try {
      const response = await fetch(withQuery(path, query), { signal, headers: headers({ Accept: 'text/plain, */*' }) });
      if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
      if (failures > 0) onState('following');
      for await (const line of lines(response, signal)) {
        const space = line.indexOf(' ');
        const stamp = space > 0 ? line.slice(0, space) : '';
        const time = logTime(stamp);
        if (time === null) { onText(line + '\n'); continue; }
        if (last !== null && time < last) continue;
        if (time === last && skipAtLast > 0) { skipAtLast--; continue; }
        if (time === last) shownAtLast++; else { last = time; shownAtLast = 1; since = stamp; }
        failures = 0;
        onText(line.slice(space + 1) + '\n');
      }
      return;
    } catch (error) {
      // Only a dropped connection is retried (fetch reports it as a TypeError); answers and aborts end the follow.
      if (signal.aborted || error instanceof ApiError || !(error instanceof TypeError) || ++failures > 6) throw error;
      onState('reconnecting');
      await new Promise(resolve => setTimeout(resolve, 250 * 2 ** failures));
      if (signal.aborted) return;
    }
  }
}
