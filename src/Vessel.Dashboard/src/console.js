// The serial console in xterm.js over GET /api/vms/{name}/console/ws: bytes both ways, fit to its box on resize,
// Ctrl+Shift+C / Ctrl+Shift+V (and the buttons) for copy and paste, since plain Ctrl+C belongs to the guest.
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { vmPath } from './api.js';
import { el } from './format.js';

export function serialConsole(vm) {
  const term = new Terminal({ fontSize: 13, convertEol: false, cursorBlink: true, scrollback: 5000,
    theme: { background: '#1d2327', foreground: '#e6e9eb' } });
  const fit = new FitAddon();
  term.loadAddon(fit);
  const status = el('span', { class: 'muted console-status' }, 'not connected');
  const screen = el('div', { class: 'terminal', 'data-testid': 'console' });
  const encoder = new TextEncoder();
  let socket = null;

  const send = (text) => socket?.readyState === WebSocket.OPEN && socket.send(encoder.encode(text));
  const copy = () => navigator.clipboard?.writeText(term.getSelection());
  const paste = async () => send(await navigator.clipboard.readText());
  term.onData(send);
  term.attachCustomKeyEventHandler((e) => {
    if (e.type !== 'keydown' || !e.ctrlKey || !e.shiftKey) return true;
    if (e.code === 'KeyC') { copy(); return false; }
    if (e.code === 'KeyV') { paste(); return false; }
    return true;
  });

  function connect() {
    if (socket && socket.readyState <= WebSocket.OPEN) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${scheme}://${location.host}${vmPath(vm)}/console/ws`);
    socket.binaryType = 'arraybuffer';
    status.textContent = 'connecting…';
    socket.onopen = () => { status.textContent = 'connected'; term.focus(); };
    socket.onmessage = (m) => term.write(new Uint8Array(m.data));
    socket.onclose = (e) => { status.textContent = e.reason || 'disconnected'; };
  }

  const resize = new ResizeObserver(() => { if (screen.clientWidth > 0) fit.fit(); });
  const node = el('section', { class: 'card console' },
    el('div', { class: 'title' }, el('h3', {}, 'Console'), status,
      el('div', { class: 'actions' },
        el('button', { class: 'small', onclick: copy }, 'Copy'),
        el('button', { class: 'small', onclick: paste }, 'Paste'),
        el('button', { class: 'small', onclick: connect }, 'Reconnect'))),
    screen);
  return {
    node,
    open() { term.open(screen); fit.fit(); resize.observe(screen); },
    connect,
    get connected() { return socket?.readyState === WebSocket.OPEN; },
    dispose() { resize.disconnect(); socket?.close(); term.dispose(); },
  };
}
