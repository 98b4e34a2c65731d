import { informer } from './api.js';
import { esc, quantity, cores, bytes, age, eventTime, errorBox, progress } from './format.js';

const phases = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'];

export function overview(view, signal) {
  view.innerHTML = `
    <h1>Cluster overview</h1>
    <section class="card"><h2>Pods by phase</h2><div id="phases" class="phases"><span class="muted">Loading…</span></div></section>
    <section class="card"><h2>Nodes</h2><div id="nodes"><span class="muted">Loading…</span></div></section>
    <section class="card"><h2>Recent warnings</h2><div id="warnings"><span class="muted">Loading…</span></div></section>`;
  const state = { nodes: null, pods: null, events: null };
  const show = (id, html) => { const at = view.querySelector('#' + id); if (at) at.innerHTML = html; };

  const render = () => {
    if (state.pods) {
      const counts = Object.fromEntries(phases.map(p => [p, 0]));
      for (const pod of state.pods.values()) counts[pod.status?.phase ?? 'Pending'] = (counts[pod.status?.phase ?? 'Pending'] ?? 0) + 1;
      show('phases', Object.entries(counts).map(([phase, n]) => `<div class="phase" data-phase="${esc(phase)}"><span class="badge ${esc(phase)}">${esc(phase)}</span><b>${n}</b></div>`).join('')
        + `<div class="phase"><span class="badge">Total</span><b id="pod-total">${state.pods.size}</b></div>`);
    }
    if (state.nodes && state.pods) {
      // What the scheduler counts against allocatable: requests of the pods bound to the node that have not finished.
      const usage = new Map();
      for (const pod of state.pods.values()) {
        const node = pod.spec?.nodeName;
        if (!node || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
        const u = usage.get(node) ?? { pods: 0, cpu: 0, memory: 0 };
        u.pods++;
        for (const c of pod.spec.containers ?? []) {
          u.cpu += quantity(c.resources?.requests?.cpu);
          u.memory += quantity(c.resources?.requests?.memory);
        }
        usage.set(node, u);
      }
      const rows = [...state.nodes.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)).map(node => {
        const ready = node.status?.conditions?.find(c => c.type === 'Ready')?.status === 'True';
        const cap = node.status?.capacity ?? {}, alloc = node.status?.allocatable ?? {};
        const u = usage.get(node.metadata.name) ?? { pods: 0, cpu: 0, memory: 0 };
        return `<tr data-node="${esc(node.metadata.name)}">
          <td><a href="#/object/api/v1/nodes/${encodeURIComponent(node.metadata.name)}">${esc(node.metadata.name)}</a>${node.spec?.unschedulable ? ' <span class="badge">cordoned</span>' : ''}</td>
          <td><span class="badge ${ready ? 'Ready' : 'NotReady'}">${ready ? 'Ready' : 'NotReady'}</span></td>
          <td class="num">${cores(u.cpu)} / ${cores(quantity(alloc.cpu))} <span class="muted">(cap ${cores(quantity(cap.cpu))})</span></td>
          <td class="num">${bytes(u.memory)} / ${bytes(quantity(alloc.memory))} <span class="muted">(cap ${bytes(quantity(cap.memory))})</span></td>
          <td class="num pods">${u.pods} / ${quantity(alloc.pods)}</td>
          <td>${progress(u.pods, quantity(alloc.pods))}</td></tr>`;
      });
      show('nodes', rows.length ? `<table id="node-table"><thead><tr><th>Node</th><th>Status</th><th class="num">CPU requested / allocatable</th><th class="num">Memory requested / allocatable</th><th class="num">Pods</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>`
        : '<p class="muted">No nodes.</p>');
    }
    if (state.events) {
      const recent = [...state.events.values()].sort((a, b) => String(eventTime(b)).localeCompare(String(eventTime(a)))).slice(0, 25);
      show('warnings', recent.length ? `<table id="warning-table"><thead><tr><th>Age</th><th>Object</th><th>Reason</th><th>Message</th></tr></thead><tbody>${recent.map(e => `
        <tr><td>${age(eventTime(e))}</td><td>${objectLink(e)}</td><td><span class="badge Warning">${esc(e.reason)}</span>${e.count > 1 ? ` <span class="muted">×${e.count}</span>` : ''}</td><td>${esc(e.message)}</td></tr>`).join('')}</tbody></table>`
        : '<p class="muted">No warnings.</p>');
    }
    if (state.nodes && state.pods && state.events && !view.dataset.rendered) {
      // The moment everything first shows, for benchmarks and tests.
      view.dataset.rendered = 'overview';
      window.dashboardFirstRender ??= performance.now();
    }
  };

  const failed = id => error => show(id, errorBox(error));
  informer('/api/v1/nodes', m => { state.nodes = m; render(); }, failed('nodes'), signal);
  informer('/api/v1/pods', m => { state.pods = m; render(); }, failed('phases'), signal);
  informer('/api/v1/events?fieldSelector=type%3DWarning', m => { state.events = m; render(); }, failed('warnings'), signal);
  const tick = setInterval(() => state.events && render(), 30000);
  signal.addEventListener('abort', () => clearInterval(tick));
}

export function objectLink(event) {
  const o = event.involvedObject ?? event.regarding ?? {};
  const label = `${o.kind ?? ''}/${o.name ?? ''}`;
  if (o.kind === 'Pod' && o.namespace) return `<a href="#/pod/${encodeURIComponent(o.namespace)}/${encodeURIComponent(o.name)}">${esc(o.namespace)}/${esc(label)}</a>`;
  return `${o.namespace ? esc(o.namespace) + '/' : ''}${esc(label)}`;
}
