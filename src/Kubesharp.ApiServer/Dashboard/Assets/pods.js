import { informer, followLog } from './api.js';
import { esc, age, eventTime, errorBox } from './format.js';

const verdictAnnotation = 'scheduler.kubesharp.io/verdict';
const restarts = p => (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
const podLink = p => `#/pod/${encodeURIComponent(p.metadata.namespace)}/${encodeURIComponent(p.metadata.name)}`;

export function pods(view, signal) {
  view.innerHTML = '<h1>Pods</h1><section class="card" id="pod-list"><span class="muted">Loading…</span></section>';
  informer('/api/v1/pods', objects => {
    const items = [...objects.values()].sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
    const at = view.querySelector('#pod-list');
    if (!at) return;
    at.innerHTML = `<table><thead><tr><th>Namespace</th><th>Name</th><th>Phase</th><th>Node</th><th class="num">Restarts</th><th>Age</th></tr></thead><tbody>${items.slice(0, 500).map(p => `
      <tr data-pod="${esc(p.metadata.namespace)}/${esc(p.metadata.name)}"><td>${esc(p.metadata.namespace)}</td><td><a href="${podLink(p)}">${esc(p.metadata.name)}</a></td>
      <td><span class="badge ${esc(p.status?.phase)}">${esc(p.metadata.deletionTimestamp ? 'Terminating' : p.status?.phase)}</span></td><td>${esc(p.spec?.nodeName ?? '')}</td>
      <td class="num">${restarts(p)}</td><td>${age(p.metadata.creationTimestamp)}</td></tr>`).join('')}</tbody></table>${items.length > 500 ? `<p class="muted">${items.length - 500} more not shown.</p>` : ''}`;
  }, error => { view.querySelector('#pod-list').innerHTML = errorBox(error); }, signal);
}

// The scheduler's last verdict for a pod it could not place: nodes grouped by the filters that refused them.
function verdictTable(pod) {
  const text = pod.metadata.annotations?.[verdictAnnotation];
  if (!text) return pod.status?.phase === 'Pending' && !pod.spec?.nodeName ? '<p class="muted">The scheduler has not reported on this pod yet.</p>' : '';
  let v;
  try { v = JSON.parse(text); } catch { return `<pre>${esc(text)}</pre>`; }
  return `<p id="verdict-summary"><span class="badge ${v.result === 'Scheduled' ? 'Ready' : 'Pending'}">${esc(v.result)}</span>
      attempt ${esc(v.attempt)} at ${esc(v.time)}: ${esc(v.feasible)} of ${esc(v.nodes)} nodes feasible (${esc(v.evaluated)} evaluated)</p>
    ${v.message ? `<p>${esc(v.message)}</p>` : ''}
    <table id="verdict-table"><thead><tr><th class="num">Nodes</th><th>Why not</th><th>Which</th></tr></thead><tbody>
    ${(v.filtered ?? []).map(g => `<tr><td class="num">${esc(g.count)}</td><td>${g.reasons.map(r => `<div>${esc(r)}</div>`).join('')}</td><td class="muted">${esc(g.nodes.join(', '))}${g.count > g.nodes.length ? ', …' : ''}</td></tr>`).join('')}
    </tbody></table>
    ${(v.scored ?? []).length ? `<h2>Best-scored nodes</h2><table><thead><tr><th>Node</th><th class="num">Total</th><th>Scores</th></tr></thead><tbody>${v.scored.map(s => `<tr><td>${esc(s.node)}</td><td class="num">${esc(s.total)}</td><td class="muted">${Object.entries(s.scores).map(([p, n]) => `${esc(p)} ${esc(n)}`).join(', ')}</td></tr>`).join('')}</tbody></table>` : ''}`;
}

export function pod(view, signal, namespace, name) {
  const base = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
  view.innerHTML = `
    <h1>Pod ${esc(namespace)}/${esc(name)}</h1>
    <div class="toolbar"><a href="#/object${base}/${encodeURIComponent(name)}">YAML</a></div>
    <div class="grid2">
      <section class="card"><h2>Status</h2><div id="pod-status"><span class="muted">Loading…</span></div></section>
      <section class="card"><h2>Scheduling</h2><div id="pod-verdict"><span class="muted">Loading…</span></div></section>
    </div>
    <section class="card"><h2>Logs</h2>
      <div class="toolbar"><label>Container <select id="log-container"></select></label><button type="button" id="log-follow" class="primary">Follow</button><button type="button" id="log-stop">Stop</button><span id="log-state" class="muted"></span></div>
      <pre id="log"></pre></section>
    <section class="card"><h2>Events</h2><div id="pod-events"><span class="muted">Loading…</span></div></section>`;
  const $ = id => view.querySelector('#' + id);
  let containers = [];

  informer(`${base}?fieldSelector=metadata.name%3D${encodeURIComponent(name)}`, objects => {
    const p = objects.get(`${namespace}/${name}`);
    if (!$('pod-status')) return;
    if (!p) { $('pod-status').innerHTML = '<p class="muted">This pod does not exist (any more).</p>'; $('pod-verdict').innerHTML = ''; return; }
    const statuses = new Map((p.status?.containerStatuses ?? []).map(c => [c.name, c]));
    $('pod-status').innerHTML = `<table>
      <tr><th>Phase</th><td><span class="badge ${esc(p.status?.phase)}" id="pod-phase">${esc(p.status?.phase)}</span>${p.status?.reason ? ' ' + esc(p.status.reason) : ''}</td></tr>
      <tr><th>Node</th><td>${esc(p.spec?.nodeName ?? '—')}</td></tr>
      <tr><th>Pod IP</th><td>${esc(p.status?.podIP ?? '—')}</td></tr>
      <tr><th>Conditions</th><td>${(p.status?.conditions ?? []).map(c => `<span class="badge ${c.status === 'True' ? 'Ready' : 'Pending'}" title="${esc(c.message ?? '')}">${esc(c.type)}</span>`).join(' ')}</td></tr>
      ${(p.spec?.containers ?? []).map(c => {
        const s = statuses.get(c.name);
        const state = s?.state ? Object.keys(s.state)[0] : 'waiting';
        return `<tr><th>${esc(c.name)}</th><td>${esc(c.image)} — ${esc(state)}${s?.state?.[state]?.reason ? ' (' + esc(s.state[state].reason) + ')' : ''}, restarts ${s?.restartCount ?? 0}</td></tr>`;
      }).join('')}</table>`;
    $('pod-verdict').innerHTML = verdictTable(p) || `<p>Bound to <b>${esc(p.spec?.nodeName)}</b>.</p>`;
    const names = (p.spec?.containers ?? []).map(c => c.name);
    if (names.join() !== containers.join()) {
      containers = names;
      $('log-container').innerHTML = names.map(n => `<option>${esc(n)}</option>`).join('');
    }
  }, error => { if ($('pod-status')) $('pod-status').innerHTML = errorBox(error); }, signal);

  informer(`/api/v1/namespaces/${encodeURIComponent(namespace)}/events?fieldSelector=involvedObject.name%3D${encodeURIComponent(name)}`, objects => {
    const events = [...objects.values()].filter(e => (e.involvedObject?.kind ?? 'Pod') === 'Pod').sort((a, b) => String(eventTime(b)).localeCompare(String(eventTime(a))));
    if (!$('pod-events')) return;
    $('pod-events').innerHTML = events.length === 0 ? '<p class="muted">No events.</p>' : `<table id="event-table"><thead><tr><th>Age</th><th>Type</th><th>Reason</th><th>From</th><th>Message</th></tr></thead><tbody>${events.map(e => `
      <tr><td>${age(eventTime(e))}</td><td><span class="badge ${esc(e.type)}">${esc(e.type)}</span></td><td>${esc(e.reason)}${e.count > 1 ? ` <span class="muted">×${e.count}</span>` : ''}</td><td class="muted">${esc(e.source?.component ?? e.reportingComponent ?? '')}</td><td>${esc(e.message)}</td></tr>`).join('')}</tbody></table>`;
  }, error => { if ($('pod-events')) $('pod-events').innerHTML = errorBox(error); }, signal);

  let following = null;
  const stop = () => { following?.abort(); following = null; };
  signal.addEventListener('abort', stop);
  $('log-stop').addEventListener('click', () => { stop(); $('log-state').textContent = 'stopped'; });
  $('log-follow').addEventListener('click', async () => {
    stop();
    following = new AbortController();
    const mine = following;
    const log = $('log');
    log.textContent = '';
    $('log-state').textContent = 'following…';
    const container = $('log-container').value;
    try {
      await followLog(`${base}/${encodeURIComponent(name)}/log?follow=true&tailLines=1000${container ? '&container=' + encodeURIComponent(container) : ''}`, text => {
        const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
        log.append(text);
        // Keep at most the last ~200 KB in the page.
        if (log.textContent.length > 200000) log.textContent = log.textContent.slice(-150000);
        if (atBottom) log.scrollTop = log.scrollHeight;
      }, mine.signal, state => { if (!mine.signal.aborted) $('log-state').textContent = state === 'reconnecting' ? 'reconnecting…' : 'following…'; });
      if (!mine.signal.aborted) $('log-state').textContent = 'the log ended';
    } catch (error) {
      if (!mine.signal.aborted) { $('log-state').innerHTML = errorBox(error); }
    }
  });
}
