import { session, request } from './api.js';
import { esc, errorBox } from './format.js';
import { overview } from './overview.js';
import { workloads } from './workloads.js';
import { pods, pod } from './pods.js';
import { list, object } from './objects.js';

const view = document.getElementById('view');
const nav = document.getElementById('nav');
let current = null;

const routes = [
  [/^#\/overview$/, () => overview],
  [/^#\/workloads$/, () => workloads],
  [/^#\/pods$/, () => pods],
  [/^#\/pod\/([^/]+)\/([^/]+)$/, m => (v, s) => pod(v, s, decodeURIComponent(m[1]), decodeURIComponent(m[2]))],
  [/^#\/list\/(.+)$/, m => (v, s) => list(v, s, '/' + m[1])],
  [/^#\/object\/(.+)$/, m => (v, s) => object(v, s, '/' + m[1])],
];

function signIn(message) {
  nav.hidden = true;
  view.innerHTML = `
    <form class="signin" id="signin">
      <h1>Sign in</h1>
      <p class="muted">Paste a bearer token (for a service account: <code>kubectl create token NAME</code>). It is kept in this tab only and sent with every API request, so you see what your RBAC rules allow.</p>
      ${message ? errorBox(message) : ''}
      <textarea id="token" name="token" required autocomplete="off" spellcheck="false" placeholder="token"></textarea>
      <div class="toolbar"><button class="primary" type="submit" id="signin-submit">Sign in</button></div>
    </form>`;
  document.getElementById('signin').addEventListener('submit', async event => {
    event.preventDefault();
    session.signIn(document.getElementById('token').value);
    try {
      // The token is good when the API accepts it; what the user may do is asked per view.
      // Discovery is open to every authenticated user: a 401 here means the token itself is wrong.
      await request('/api');
      if (!location.hash || location.hash === '#/') location.hash = '#/overview'; else route();
    } catch (error) {
      session.signOut();
      signIn(error);
    }
  });
}

function route() {
  current?.abort();
  current = null;
  if (!session.token) return signIn();
  nav.hidden = false;
  const hash = location.hash || '#/overview';
  for (const link of nav.querySelectorAll('a')) link.classList.toggle('active', hash.startsWith(link.getAttribute('href')));
  for (const [pattern, make] of routes) {
    const match = pattern.exec(hash);
    if (match) {
      current = new AbortController();
      view.innerHTML = '<p class="muted">Loading…</p>';
      make(match)(view, current.signal);
      return;
    }
  }
  view.innerHTML = `<p class="error">No page ${esc(hash)}.</p>`;
}

document.getElementById('sign-out').addEventListener('click', () => { session.signOut(); current?.abort(); signIn(); });
window.addEventListener('dashboard-unauthorized', () => { session.signOut(); current?.abort(); signIn(new Error('the token was not accepted (401 Unauthorized)')); });
window.addEventListener('hashchange', route);
route();
