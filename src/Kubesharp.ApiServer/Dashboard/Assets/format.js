// Small formatting pieces shared by the views.
export const esc = value => String(value ?? '').replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const suffixes = { n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

// A resource.Quantity as a number (cores, bytes, counts).
export function quantity(text) {
  if (text === undefined || text === null) return 0;
  const match = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(String(text));
  if (!match) return 0;
  return Number(match[1]) * (suffixes[match[2]] ?? 1);
}

export function cores(value) {
  return value >= 10 || Number.isInteger(value) ? String(Math.round(value * 100) / 100) : `${Math.round(value * 1000)}m`;
}

export function bytes(value) {
  const units = ['B', 'Ki', 'Mi', 'Gi', 'Ti'];
  let i = 0;
  while (value >= 1024 && i < units.length - 1) { value /= 1024; i++; }
  return `${Math.round(value * 10) / 10}${units[i]}`;
}

export function age(time) {
  if (!time) return '';
  const seconds = Math.max(0, (Date.now() - Date.parse(time)) / 1000);
  if (seconds < 120) return `${Math.floor(seconds)}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

export const eventTime = e => e.lastTimestamp || e.eventTime || e.series?.lastObservedTime || e.firstTimestamp || e.metadata.creationTimestamp;

export function errorBox(error) {
  const reason = error?.status?.reason ? `${error.status.reason} (${error.code}): ` : error?.code ? `${error.code}: ` : '';
  return `<p class="error" role="alert">${esc(reason + (error?.message ?? error))}</p>`;
}

export function progress(done, total) {
  const share = total > 0 ? Math.min(1, done / total) : 1;
  return `<div class="bar" title="${done}/${total}"><span class="${share < 1 ? 'partial' : ''}" style="width:${Math.round(share * 100)}%"></span></div>`;
}

// A YAML rendering of a JSON value for reading and editing (block style; strings quoted when plain would be ambiguous).
export function yaml(value, indent = '') {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return value.map(item => {
      const inner = yaml(item, indent + '  ');
      return `\n${indent}- ${isBlock(item) ? inner.replace(/^\n\s*/, '') : inner}`;
    }).join('');
  }
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) return '{}';
    return keys.map(key => {
      const item = value[key];
      const inner = yaml(item, indent + '  ');
      return `\n${indent}${scalar(key)}:${isBlock(item) || inner.startsWith('|') ? '' : ' '}${inner.startsWith('|') ? ' ' + inner : inner}`;
    }).join('');
  }
  if (typeof value === 'string' && value.includes('\n') && !/^\s|\s\n|[ \t]$/.test(value)) {
    const chomp = value.endsWith('\n') ? '' : '-';
    const body = value.endsWith('\n') ? value.slice(0, -1) : value;
    return `|${chomp}\n${body.split('\n').map(line => (line ? indent + line : '')).join('\n')}`;
  }
  return scalar(value);
}

const isBlock = v => v !== null && typeof v === 'object' && (Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0);

function scalar(value) {
  if (value === null) return 'null';
  if (typeof value !== 'string') return String(value);
  const plain = /^[A-Za-z_/][A-Za-z0-9_./@=+-]*( [A-Za-z0-9_./@=+()-]+)*$/.test(value)
    && !/^(true|false|yes|no|on|off|null|y|n|~)$/i.test(value);
  return plain ? value : JSON.stringify(value);
}

export const toYaml = value => yaml(value).replace(/^\n/, '') + '\n';
