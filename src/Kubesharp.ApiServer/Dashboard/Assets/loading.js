// A module that fails to load (a connection dropped, the server restarting) fires an error event only at its script
// element and leaves the page blank; say so and offer a reload. Runs before the modules, as a classic script.
window.addEventListener('error', event => {
  if (!(event.target instanceof HTMLScriptElement)) return;
  const view = document.getElementById('view');
  const message = document.createElement('p');
  message.className = 'error';
  message.id = 'load-failed';
  // The event names the page's entry script whichever of its imports failed; the browser's console names that one.
  message.textContent = 'The dashboard\'s scripts did not load (the connection dropped or the server restarted). ';
  const reload = document.createElement('button');
  reload.type = 'button';
  reload.id = 'reload';
  reload.textContent = 'Reload';
  reload.addEventListener('click', () => location.reload());
  message.append(reload);
  view.replaceChildren(message);
}, true);
