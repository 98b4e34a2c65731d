import { informer } from './api.js';
import { esc, age, errorBox, progress } from './format.js';

const kinds = [
  { kind: 'Deployment', path: '/apis/apps/v1/deployments', resource: 'deployments' },
  { kind: 'StatefulSet', path: '/apis/apps/v1/statefulsets', resource: 'statefulsets' },
  { kind: 'DaemonSet', path: '/apis/apps/v1/daemonsets', resource: 'daemonsets' },
];

// Desired, updated, ready and available replicas as each controller reports them, and where the rollout stands.
function counts(kind, o) {
  const s = o.status ?? {};
  if (kind === 'DaemonSet') return { desired: s.desiredNumberScheduled ?? 0, updated: s.updatedNumberScheduled ?? 0, ready: s.numberReady ?? 0, available: s.numberAvailable ?? 0 };
  return { desired: o.spec?.replicas ?? 1, updated: s.updatedReplicas ?? 0, ready: s.readyReplicas ?? 0, available: s.availableReplicas ?? 0 };
}

function rollout(kind, o, c) {
  const observed = (o.status?.observedGeneration ?? 0) >= (o.metadata.generation ?? 0);
  const progressing = o.status?.conditions?.find(x => x.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return ['Failed', 'deadline exceeded'];
  if (observed && c.updated >= c.desired && c.ready >= c.desired && c.available >= c.desired && (o.status?.replicas ?? c.desired) <= c.desired) return ['Complete', 'complete'];
  return ['Progressing', `${c.updated}/${c.desired} updated`];
}

export function workloads(view, signal) {
  view.innerHTML = `<h1>Workloads</h1>${kinds.map(k => `<section class="card"><h2>${k.kind}s</h2><div id="w-${k.resource}"><span class="muted">Loading…</span></div></section>`).join('')}`;
  for (const k of kinds) {
    const at = () => view.querySelector('#w-' + k.resource);
    informer(k.path, objects => {
      const items = [...objects.values()].sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
      if (!at()) return;
      at().innerHTML = items.length === 0 ? `<p class="muted">No ${k.kind}s.</p>` : `<table><thead><tr><th>Namespace</th><th>Name</th><th class="num">Ready</th><th class="num">Up-to-date</th><th class="num">Available</th><th>Rollout</th><th></th><th>Age</th></tr></thead><tbody>${items.map(o => {
        const c = counts(k.kind, o);
        const [state, text] = rollout(k.kind, o, c);
        const link = `#/object/apis/apps/v1/namespaces/${encodeURIComponent(o.metadata.namespace)}/${k.resource}/${encodeURIComponent(o.metadata.name)}`;
        return `<tr data-workload="${esc(k.kind)}/${esc(o.metadata.namespace)}/${esc(o.metadata.name)}">
          <td>${esc(o.metadata.namespace)}</td><td><a href="${link}">${esc(o.metadata.name)}</a></td>
          <td class="num ready">${c.ready}/${c.desired}</td><td class="num">${c.updated}</td><td class="num">${c.available}</td>
          <td>${progress(c.updated < c.desired ? c.updated : c.ready, c.desired)}</td><td><span class="badge ${state}">${esc(text)}</span></td>
          <td>${age(o.metadata.creationTimestamp)}</td></tr>`;
      }).join('')}</tbody></table>`;
    }, error => { if (at()) at().innerHTML = errorBox(error); }, signal);
  }
}
