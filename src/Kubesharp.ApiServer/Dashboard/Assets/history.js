import { request } from './api.js';
import { esc, errorBox, toYaml } from './format.js';

// Fields every write changes or that only the server reads: left out of a revision's changes.
const noise = new Set(['metadata.resourceVersion', 'metadata.managedFields', 'metadata.generation']);

// An object as path → JSON text of each leaf (empty objects and arrays are leaves too).
function leaves(value, path = '', into = new Map()) {
  if (noise.has(path)) return into;
  if (value !== null && typeof value === 'object' && Object.keys(value).length > 0) {
    for (const [key, child] of Object.entries(value)) leaves(child, Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key, into);
  } else {
    into.set(path, JSON.stringify(value));
  }
  return into;
}

// What one revision changed from the one before it, field by field, as `kubectl history` prints it.
export function changes(before, after) {
  const old = before ? leaves(before) : new Map();
  const now = after ? leaves(after) : new Map();
  const lines = [];
  for (const [path, value] of now) {
    if (!old.has(path)) lines.push({ kind: 'add', text: `+ ${path}: ${value}` });
    else if (old.get(path) !== value) lines.push({ kind: 'change', text: `~ ${path}: ${old.get(path)} -> ${value}` });
  }
  for (const [path, value] of old) if (!now.has(path)) lines.push({ kind: 'remove', text: `- ${path}: ${value}` });
  return lines.sort((a, b) => a.text.slice(2).localeCompare(b.text.slice(2)));
}

// The object's revisions (newest first) with who wrote each and what it changed; "View" shows the object as it was.
export async function history(at, path, show) {
  at.innerHTML = '<p class="muted">Loading history…</p>';
  let list;
  try {
    list = await request(`${path}/history`);
  } catch (error) {
    at.innerHTML = errorBox(error);
    return;
  }
  const items = list.items ?? [];
  const rows = items.map((record, i) => {
    const previous = i > 0 ? items[i - 1] : null;
    const deleted = record.type === 'DELETED';
    const lines = record.type === 'ADDED' ? [{ kind: 'add', text: 'created' }] : deleted ? [{ kind: 'remove', text: 'deleted' }] : changes(previous?.object, record.object);
    const view = deleted ? '' : `<button type="button" class="view-revision" data-revision="${esc(record.revision)}">View</button>`;
    return `<tr data-revision="${esc(record.revision)}"><td>${esc(record.revision)}</td><td>${esc(record.time)}</td><td>${esc(record.type)}</td>
      <td>${esc(record.manager ?? record.user ?? '')}</td><td><ul class="diff">${lines.map(l => `<li class="${l.kind}">${esc(l.text)}</li>`).join('') || '<li class="muted">no field changed</li>'}</ul></td><td>${view}</td></tr>`;
  }).reverse();
  at.innerHTML = items.length === 0 ? '<p class="muted">No history.</p>'
    : `<table id="history-table"><thead><tr><th>Revision</th><th>Time</th><th>Change</th><th>By</th><th>What changed</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
  for (const button of at.querySelectorAll('.view-revision')) {
    const record = items.find(r => String(r.revision) === button.dataset.revision);
    button.addEventListener('click', () => show(record.revision, toYaml(record.object)));
  }
}
