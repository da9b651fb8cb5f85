// The Vessel dashboard (issue 7): a hash-routed page fed by one server-sent event stream (GET /api/live).
import '@xterm/xterm/css/xterm.css';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { api, ApiError, signInFromFragment } from './api.js';
import { el } from './format.js';
import { overview } from './overview.js';
import { record } from './series.js';
import { vmList } from './vmlist.js';
import { vmPage } from './vmpage.js';

const view = document.getElementById('view');
let current = null;
let latest = null;
let stream = null;

function route() {
  current?.dispose?.();
  const hash = location.hash || '#/';
  const vm = /^#\/vm\/(.+)$/.exec(hash);
  current = vm ? vmPage(decodeURIComponent(vm[1])) : hash.startsWith('#/vms') ? vmList : overview;
  for (const link of document.querySelectorAll('[data-nav]')) {
    link.classList.toggle('active', link.dataset.nav === (vm || hash.startsWith('#/vms') ? 'vms' : 'overview'));
  }
  current.mount(view);
  if (latest) current.update(latest);
}

function listen() {
  const live = document.getElementById('live');
  stream = new EventSource('/api/live');
  stream.addEventListener('snapshot', (m) => {
    latest = JSON.parse(m.data);
    record(latest.stats);
    live.textContent = 'live';
    live.classList.add('on');
    current?.update(latest);
  });
  stream.onerror = () => { live.textContent = 'reconnecting…'; live.classList.remove('on'); };
}

// On TCP without a session the API answers 401: ask for the token once and trade it for the cookie.
function signInForm(message) {
  const error = el('p', { class: 'error' }, message ?? '');
  const input = el('input', { type: 'password', name: 'token', autocomplete: 'off', placeholder: 'API token' });
  view.replaceChildren(el('section', { class: 'card signin' },
    el('h1', {}, 'Sign in'),
    el('p', {}, 'Paste the API token from the state directory\'s api-token file, or open the URL that vessel serve printed.'),
    el('form', {
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          await api('POST', '/dashboard/session', { token: input.value.trim() });
          start();
        } catch (err) {
          error.textContent = err.message;
        }
      },
    }, input, el('button', { class: 'primary', type: 'submit' }, 'Sign in')), error));
}

async function start() {
  try {
    await api('GET', '/api/host');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return signInForm();
    throw e;
  }
  window.addEventListener('hashchange', route);
  route();
  if (!stream) listen();
}

signInFromFragment().catch((e) => signInForm(e.message)).then(start);
