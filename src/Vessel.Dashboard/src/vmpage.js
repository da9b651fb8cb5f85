// One VM: live charts, the serial console, the snapshot tree, the definition and the event history.
import uPlot from 'uplot';
import { api, vmPath } from './api.js';
import { actionButtons, revertTo, run, shownState, takeSnapshot } from './actions.js';
import { confirmAction } from './dialog.js';
import { serialConsole } from './console.js';
import { bytes, el, rate, time } from './format.js';
import { eventTable } from './overview.js';
import { seriesOf } from './series.js';

const charts = [
  { key: 'cpu', title: 'CPU %', show: (v) => `${v.toFixed(0)}%` },
  { key: 'ips', title: 'Instructions/s', show: rate },
  { key: 'rss', title: 'Memory (resident)', show: bytes },
  { key: 'disk', title: 'Disk throughput', show: (v) => `${bytes(v)}/s` },
  { key: 'net', title: 'Network throughput', show: (v) => `${bytes(v)}/s` },
];

function snapshotTree(vm, snaps, refresh) {
  if (snaps.length === 0) return el('p', { class: 'muted' }, 'No snapshots.');
  const children = (parent) => snaps.filter((s) => (s.parent ?? null) === parent);
  const branch = (parent) => el('ul', {}, children(parent).map((s) => el('li', { 'data-snapshot': s.name },
    el('div', { class: 'snap' },
      el('strong', {}, s.name), s.current ? el('span', { class: 'badge' }, 'current') : null,
      el('span', { class: 'muted' }, ` ${time(s.created)} ${s.description ?? ''}`),
      el('div', { class: 'actions' },
        el('button', { class: 'small', 'data-action': 'revert', onclick: async () => { await run(() => revertTo(vm, s.name)); refresh(); } }, 'Revert'),
        el('button', { class: 'small danger', 'data-action': 'delete-snapshot', onclick: async () => {
          if (await confirmAction(`Delete snapshot ${s.name}?`)) await run(() => api('DELETE', `${vmPath(vm)}/snapshots/${encodeURIComponent(s.name)}`));
          refresh();
        } }, 'Delete'))),
    children(s.name).length ? branch(s.name) : null)));
  return branch(null);
}

export function vmPage(name) {
  let plots = [];
  let terminal = null;
  let lastEvent = null;
  let state = null;

  async function refreshSnapshots() {
    const box = document.getElementById('snapshots');
    const snaps = await api('GET', `${vmPath(name)}/snapshots`).catch(() => []);
    box?.replaceChildren(snapshotTree(name, snaps, refreshSnapshots));
  }

  async function refreshEvents() {
    const events = await api('GET', `${vmPath(name)}/events?limit=50`).catch(() => []);
    document.getElementById('vm-events')?.replaceChildren(eventTable([...events].reverse(), false));
  }

  return {
    mount(view) {
      terminal = serialConsole(name);
      view.replaceChildren(
        el('div', { class: 'title' }, el('h1', {}, name), el('span', { id: 'vm-state', class: 'state' }), el('div', { id: 'vm-actions' })),
        el('div', { class: 'grid-charts', id: 'charts' }),
        terminal.node,
        el('div', { class: 'grid2' },
          el('section', { class: 'card' }, el('div', { class: 'title' }, el('h3', {}, 'Snapshots'),
            el('button', { class: 'small', onclick: async () => { await run(() => takeSnapshot(name)); refreshSnapshots(); } }, 'Take snapshot')),
          el('div', { id: 'snapshots' })),
          el('section', { class: 'card' }, el('h3', {}, 'Definition'), el('pre', { id: 'definition' }))),
        el('section', { class: 'card' }, el('h3', {}, 'Events'), el('div', { id: 'vm-events' })));
      terminal.open();
      const box = document.getElementById('charts');
      plots = charts.map((c) => {
        const holder = el('section', { class: 'card chart' }, el('h3', {}, c.title, el('span', { class: 'now' })));
        box.append(holder);
        const plot = new uPlot({
          width: Math.max(holder.clientWidth - 24, 200), height: 120, legend: { show: false }, cursor: { show: false },
          scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max, 1)] } },
          axes: [{ stroke: '#6b7780', grid: { stroke: '#eef1f3' } }, { stroke: '#6b7780', size: 70, grid: { stroke: '#eef1f3' }, values: (u, v) => v.map(c.show) }],
          series: [{}, { stroke: '#3b7ea1', fill: 'rgba(59,126,161,0.12)', width: 1.5 }],
        }, [[], []], holder);
        return { c, plot, holder };
      });
      refreshSnapshots();
      refreshEvents();
    },
    update(snap) {
      const vm = snap.vms.find((v) => v.definition.name === name);
      if (!vm) {
        document.getElementById('vm-state').textContent = 'deleted';
        return;
      }
      const stateNode = document.getElementById('vm-state');
      const shown = shownState(vm);
      stateNode.textContent = shown;
      stateNode.className = `state ${shown}`;
      if (state !== shown) {
        state = shown;
        document.getElementById('vm-actions').replaceChildren(actionButtons(vm, () => { refreshSnapshots(); refreshEvents(); }));
        document.getElementById('definition').textContent = JSON.stringify(vm.definition, null, 2);
      }
      // Every tick, not only on a state change: a revert restarts the worker (and its console) within one tick.
      if (['running', 'starting'].includes(vm.state)) terminal.connect();
      const series = seriesOf(name);
      for (const { c, plot, holder } of plots) {
        const width = Math.max(holder.clientWidth - 24, 200);
        if (plot.width !== width) plot.setSize({ width, height: 120 });
        plot.setData(series ? [series.t, series[c.key]] : [[], []]);
        holder.querySelector('.now').textContent = series?.[c.key].length ? ` ${c.show(series[c.key].at(-1))}` : '';
      }
      const newest = snap.events.find((e) => e.vm === name);
      if (newest && newest.id !== lastEvent) {
        lastEvent = newest.id;
        refreshEvents();
        refreshSnapshots();
      }
    },
    dispose() {
      terminal?.dispose();
      for (const { plot } of plots) plot.destroy();
    },
  };
}
