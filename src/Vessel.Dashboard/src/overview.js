// Host overview: capacity vs allocated vs used CPU and memory, running VMs, recent events.
import { bytes, el, percent, time } from './format.js';

function meter(label, capacity, allocated, used, show) {
  const pct = (v) => `${Math.min(100, (v / Math.max(capacity, 1)) * 100).toFixed(1)}%`;
  return el('section', { class: 'card meter' },
    el('h3', {}, label),
    el('div', { class: 'bar' },
      el('div', { class: 'allocated', style: `width:${pct(allocated)}` }),
      el('div', { class: 'used', style: `width:${pct(used)}` })),
    el('dl', {},
      el('dt', {}, 'Capacity'), el('dd', {}, show(capacity)),
      el('dt', {}, 'Allocated'), el('dd', {}, show(allocated)),
      el('dt', {}, 'Used'), el('dd', {}, show(used))));
}

export function eventTable(events, withVm) {
  if (events.length === 0) return el('p', { class: 'muted' }, 'No events yet.');
  return el('table', { class: 'events' },
    el('tbody', {}, events.map((e) => el('tr', {},
      el('td', { class: 'muted' }, time(e.time)),
      withVm ? el('td', {}, el('a', { href: `#/vm/${encodeURIComponent(e.vm)}` }, e.vm)) : null,
      el('td', {}, el('span', { class: `kind ${e.kind}` }, e.kind)),
      el('td', {}, e.message)))));
}

export const overview = {
  mount(view) {
    view.replaceChildren(el('h1', {}, 'Overview'), el('div', { id: 'overview' }, el('p', { class: 'muted' }, 'Waiting for data…')));
  },
  update(snap) {
    const h = snap.host;
    const running = snap.vms.filter((v) => v.pid != null);
    const cpuUsed = h.usedCpuPercent / 100;
    document.getElementById('overview').replaceChildren(
      el('div', { class: 'grid3' },
        meter('CPU (cores)', h.cores, h.allocatedCpus, cpuUsed, (v) => v.toFixed(v % 1 ? 2 : 0)),
        meter('Memory', h.memoryBytes, h.allocatedMemoryBytes, h.usedMemoryBytes, bytes),
        el('section', { class: 'card' }, el('h3', {}, 'Machines'),
          el('p', { class: 'big' }, `${h.runningVms}`, el('span', { class: 'muted' }, ` running of ${h.definedVms}`)),
          h.allowOvercommit ? el('p', { class: 'muted' }, 'overcommit allowed') : null)),
      el('section', { class: 'card' }, el('h3', {}, 'Running'),
        running.length === 0 ? el('p', { class: 'muted' }, 'Nothing is running.') :
          el('table', {}, el('tbody', {}, running.map((v) => {
            const s = snap.stats.find((x) => x.name === v.definition.name);
            return el('tr', {},
              el('td', {}, el('a', { href: `#/vm/${encodeURIComponent(v.definition.name)}` }, v.definition.name)),
              el('td', {}, `${v.definition.cpus} vCPU`), el('td', {}, percent(s?.cpuPercent)),
              el('td', {}, `${bytes(s?.rssBytes)} / ${bytes(v.definition.memoryBytes)}`));
          })))),
      el('section', { class: 'card' }, el('h3', {}, 'Recent events'), eventTable(snap.events, true)));
  },
};
