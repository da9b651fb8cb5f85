// The VM list: state, live sparklines, actions, and the create form.
import { api } from './api.js';
import { actionButtons, shownState } from './actions.js';
import { ask } from './dialog.js';
import { bytes, el, percent } from './format.js';
import { drawSparkline, seriesOf } from './series.js';

export function createVm() {
  return ask({
    title: 'New machine', ok: 'Create',
    fields: [
      { name: 'name', label: 'Name', placeholder: 'web-1', required: true },
      { name: 'cpus', label: 'vCPUs', type: 'number', value: '1' },
      { name: 'memory', label: 'Memory', value: '512M', hint: 'e.g. 256M, 1G' },
      { name: 'kernel', label: 'Kernel', hint: 'empty: the guest kit' },
      { name: 'commandLine', label: 'Kernel command line', placeholder: 'console=ttyS0' },
      { name: 'disks', label: 'Disks', type: 'textarea', hint: 'one absolute path per line' },
      { name: 'nics', label: 'NICs', placeholder: 'user or switch:NAME', hint: 'comma separated' },
      { name: 'restartPolicy', label: 'Restart policy', type: 'select', options: ['no', 'on-failure', 'always'], value: 'no' },
    ],
    submit: (v) => api('POST', '/api/vms', {
      name: v.name,
      cpus: v.cpus === '' ? undefined : Number(v.cpus),
      memory: v.memory || undefined,
      kernel: v.kernel || undefined,
      commandLine: v.commandLine || undefined,
      disks: v.disks ? v.disks.split('\n').map((p) => p.trim()).filter(Boolean).map((path) => ({ path })) : undefined,
      nics: v.nics ? v.nics.split(',').map((n) => n.trim()).filter(Boolean) : undefined,
      restartPolicy: v.restartPolicy,
    }),
  });
}

let rows = new Map();

export const vmList = {
  mount(view) {
    rows = new Map();
    view.replaceChildren(
      el('div', { class: 'title' }, el('h1', {}, 'Machines'),
        el('button', { class: 'primary', id: 'new-vm', onclick: async () => { const vm = await createVm(); if (vm) location.hash = `#/vm/${encodeURIComponent(vm.definition.name)}`; } }, 'New machine')),
      el('table', { class: 'vms' },
        el('thead', {}, el('tr', {}, ['Name', 'State', 'vCPU', 'Memory', 'CPU', 'Actions'].map((h) => el('th', {}, h)))),
        el('tbody', { id: 'vm-rows' })));
  },
  update(snap) {
    const body = document.getElementById('vm-rows');
    const names = snap.vms.map((v) => v.definition.name);
    for (const [name, row] of rows) if (!names.includes(name)) { row.node.remove(); rows.delete(name); }
    if (names.length === 0) body.replaceChildren(el('tr', {}, el('td', { colspan: 6, class: 'muted' }, 'No machines yet.')));
    else if (rows.size === 0) body.replaceChildren();
    for (const vm of snap.vms) {
      const name = vm.definition.name;
      const stats = snap.stats.find((s) => s.name === name);
      let row = rows.get(name);
      const shown = shownState(vm);
      if (!row || row.state !== shown) {
        const spark = el('canvas', { class: 'spark' });
        const node = el('tr', { 'data-vm': name },
          el('td', {}, el('a', { href: `#/vm/${encodeURIComponent(name)}` }, name)),
          el('td', {}, el('span', { class: `state ${shown}` }, shown)),
          el('td', {}, vm.definition.cpus),
          el('td', {}, bytes(vm.definition.memoryBytes)),
          el('td', { class: 'cpu' }, spark, el('span', { class: 'cpu-now' })),
          el('td', {}, actionButtons(vm)));
        if (row) row.node.replaceWith(node); else body.append(node);
        row = { node, spark, state: shown };
        rows.set(name, row);
      }
      drawSparkline(row.spark, seriesOf(name)?.cpu, 100);
      row.node.querySelector('.cpu-now').textContent = stats?.pid != null ? percent(stats.cpuPercent) : '';
    }
  },
};
