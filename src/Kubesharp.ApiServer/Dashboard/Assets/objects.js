import { informer, request } from './api.js';
import { esc, age, errorBox, toYaml } from './format.js';
import { history } from './history.js';

// A collection path (/api/v1/configmaps, /apis/apps/v1/deployments) listed across namespaces, live.
export function list(view, signal, path) {
  const parts = path.split('/');
  const resource = parts.pop();
  const prefix = parts.join('/');
  view.innerHTML = `<h1>${esc(resource)}</h1><section class="card" id="object-list"><span class="muted">Loading…</span></section>`;
  informer(path, objects => {
    const items = [...objects.values()].sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
    const at = view.querySelector('#object-list');
    if (!at) return;
    at.innerHTML = items.length === 0 ? '<p class="muted">None.</p>' : `<table><thead><tr><th>Namespace</th><th>Name</th><th>Age</th></tr></thead><tbody>${items.slice(0, 1000).map(o => {
      const target = `#/object${prefix}${o.metadata.namespace ? '/namespaces/' + encodeURIComponent(o.metadata.namespace) : ''}/${resource}/${encodeURIComponent(o.metadata.name)}`;
      return `<tr><td>${esc(o.metadata.namespace ?? '')}</td><td><a href="${target}">${esc(o.metadata.name)}</a></td><td>${age(o.metadata.creationTimestamp)}</td></tr>`;
    }).join('')}</tbody></table>`;
  }, error => { view.querySelector('#object-list').innerHTML = errorBox(error); }, signal);
}

// What an apply body leaves out: fields the server owns (managedFields must be absent from an apply) and status.
function applyable(o) {
  const copy = structuredClone(o);
  for (const field of ['managedFields', 'resourceVersion', 'uid', 'creationTimestamp', 'generation', 'selfLink']) delete copy.metadata?.[field];
  delete copy.status;
  return copy;
}

// One object: YAML or JSON, live while only viewed; edited and saved by server-side apply as field manager "dashboard".
export function object(view, signal, path) {
  const parts = path.split('/');
  const name = decodeURIComponent(parts.pop());
  const collection = parts.join('/');
  const namespace = parts.at(-2) && parts.at(-3) === 'namespaces' ? decodeURIComponent(parts.at(-2)) : '';
  view.innerHTML = `
    <h1 id="object-title">${esc(parts.at(-1))} ${esc(namespace ? namespace + '/' : '')}${esc(name)}</h1>
    <div class="toolbar">
      <button type="button" id="show-yaml" class="primary">YAML</button><button type="button" id="show-json">JSON</button>
      <button type="button" id="edit">Edit</button><button type="button" id="show-history">History</button>
      ${parts.at(-1) === 'pods' ? `<a href="#/pod/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}">Pod details</a>` : ''}
      <span id="object-state" class="muted"></span>
    </div>
    <div id="object-message"></div>
    <div id="object-body"><span class="muted">Loading…</span></div>
    <section class="card" id="object-history" hidden></section>`;
  const $ = id => view.querySelector('#' + id);
  let format = 'yaml';
  let editing = false;
  let latest = null;

  let revision = null;
  const render = () => {
    if (editing || revision !== null || !$('object-body')) return;
    if (!latest) { $('object-body').innerHTML = '<p class="muted">This object does not exist (any more).</p>'; return; }
    $('object-body').innerHTML = `<pre id="object-text">${esc(format === 'yaml' ? toYaml(latest) : JSON.stringify(latest, null, 2))}</pre>`;
    $('object-state').textContent = `resourceVersion ${latest.metadata.resourceVersion}`;
  };
  const choose = f => { format = f; revision = null; $('show-yaml').classList.toggle('primary', f === 'yaml'); $('show-json').classList.toggle('primary', f === 'json'); render(); };
  $('show-yaml').addEventListener('click', () => choose('yaml'));
  $('show-json').addEventListener('click', () => choose('json'));

  const apply = async force => {
    const text = $('object-editor').value;
    $('object-message').innerHTML = '<p class="muted">Applying…</p>';
    try {
      // JSON is YAML, so either editor's text goes as an apply patch in YAML.
      const result = await request(`${path}?fieldManager=dashboard${force ? '&force=true' : ''}`, { method: 'PATCH', contentType: 'application/apply-patch+yaml', body: text });
      editing = false;
      latest = result;
      $('object-message').innerHTML = `<p class="notice" id="applied">Applied as field manager "dashboard": resourceVersion ${esc(result.metadata.resourceVersion)}.</p>`;
      render();
    } catch (error) {
      const conflicts = error.code === 409 && error.status?.reason === 'Conflict' && error.status?.details?.causes?.length;
      $('object-message').innerHTML = errorBox(error) + (conflicts ? `<div class="toolbar"><span>Other field managers own these fields.</span><button type="button" id="force-apply">Force apply (take ownership)</button></div>` : '');
      $('force-apply')?.addEventListener('click', () => apply(true));
    }
  };

  // Time travel: the object as a revision left it, read-only, until YAML or JSON brings back the live object.
  const showRevision = (number, yaml) => {
    revision = number;
    $('object-body').innerHTML = `<p class="notice" id="revision-notice">Revision ${esc(number)} (read-only); YAML or JSON shows the object as it is now.</p><pre id="object-text">${esc(yaml)}</pre>`;
  };
  $('show-history').addEventListener('click', () => {
    const at = $('object-history');
    at.hidden = !at.hidden;
    if (!at.hidden) history(at, path, showRevision);
  });

  $('edit').addEventListener('click', () => {
    if (!latest || editing) return;
    editing = true;
    revision = null;
    const copy = applyable(latest);
    $('object-body').innerHTML = `<textarea id="object-editor" spellcheck="false">${esc(format === 'yaml' ? toYaml(copy) : JSON.stringify(copy, null, 2))}</textarea>
      <div class="toolbar"><button type="button" class="primary" id="apply">Apply</button><button type="button" id="cancel">Cancel</button>
      <span class="muted">Saved with server-side apply; fields you remove are released by the "dashboard" field manager.</span></div>`;
    $('apply').addEventListener('click', () => apply(false));
    $('cancel').addEventListener('click', () => { editing = false; $('object-message').innerHTML = ''; render(); });
  });

  if (collection.split('/').length < 4) {
    // Not an API object path.
    $('object-body').innerHTML = `<p class="error">No object at ${esc(path)}.</p>`;
    return;
  }
  informer(`${collection}?fieldSelector=metadata.name%3D${encodeURIComponent(name)}`, objects => {
    latest = objects.get(`${namespace}/${name}`) ?? null;
    render();
  }, error => { if ($('object-body')) $('object-body').innerHTML = errorBox(error); }, signal);
}
