// The VM actions the list and the VM page offer; each is one API call (issue 6 routes), errors shown in a toast.
import { api, vmPath } from './api.js';
import { ask, confirmAction } from './dialog.js';
import { el } from './format.js';

const running = (vm) => ['running', 'starting'].includes(vm.state);

// A paused VM is still running (worker, console, snapshots); the API says so with `paused`.
export const shownState = (vm) => (vm.paused ? 'paused' : vm.state);

export function toast(message, kind = 'error') {
  const node = el('div', { class: `toast ${kind}`, role: 'status' }, message);
  document.body.append(node);
  setTimeout(() => node.remove(), 6000);
}

async function run(action) {
  try {
    return await action();
  } catch (e) {
    toast(e.message);
    return null;
  }
}

export const actions = [
  { id: 'start', label: 'Start', when: (vm) => !running(vm), go: (vm) => api('POST', `${vmPath(vm.definition.name)}/start`) },
  { id: 'stop', label: 'Stop', when: running, go: (vm) => api('POST', `${vmPath(vm.definition.name)}/stop`) },
  { id: 'pause', label: 'Pause', when: (vm) => running(vm) && !vm.paused, go: (vm) => api('POST', `${vmPath(vm.definition.name)}/pause`) },
  { id: 'resume', label: 'Resume', when: (vm) => running(vm) && vm.paused, go: (vm) => api('POST', `${vmPath(vm.definition.name)}/resume`) },
  { id: 'kill', label: 'Kill', when: running, go: (vm) => api('POST', `${vmPath(vm.definition.name)}/kill`) },
  { id: 'snapshot', label: 'Snapshot', when: () => true, go: (vm) => takeSnapshot(vm.definition.name) },
  { id: 'revert', label: 'Revert', when: () => true, go: (vm) => revertTo(vm.definition.name) },
  {
    id: 'clone', label: 'Clone', when: (vm) => !running(vm),
    go: (vm) => ask({
      title: `Clone ${vm.definition.name}`, ok: 'Clone',
      fields: [
        { name: 'name', label: 'New name', value: `${vm.definition.name}-clone` },
        { name: 'linked', label: 'Linked (qcow2 overlays on the source disks)', type: 'checkbox' },
      ],
      submit: (v) => api('POST', `${vmPath(vm.definition.name)}/clone`, v),
    }),
  },
  {
    id: 'export', label: 'Export', when: (vm) => !running(vm),
    go: (vm) => ask({
      title: `Export ${vm.definition.name}`, ok: 'Export',
      fields: [{ name: 'path', label: 'Archive path on the host', value: `/tmp/${vm.definition.name}.tar`, hint: 'an absolute path' }],
      submit: async (v) => {
        await api('POST', `${vmPath(vm.definition.name)}/export`, v);
        toast(`exported to ${v.path}`, 'ok');
      },
    }),
  },
  {
    id: 'delete', label: 'Delete', danger: true, when: (vm) => !running(vm),
    go: async (vm) => {
      if (await confirmAction(`Delete ${vm.definition.name}? Its definition and history go; disk files stay.`)) {
        await api('DELETE', vmPath(vm.definition.name));
        if (location.hash.startsWith('#/vm/')) location.hash = '#/vms';
      }
    },
  },
];

export function actionButtons(vm, onDone) {
  return el('div', { class: 'actions' }, actions.filter((a) => a.when(vm)).map((a) =>
    el('button', {
      class: a.danger ? 'danger small' : 'small', 'data-action': a.id,
      onclick: async (e) => {
        const button = e.currentTarget;
        button.disabled = true;
        await run(() => a.go(vm));
        button.disabled = false;
        onDone?.();
      },
    }, a.label)));
}

export function takeSnapshot(vm) {
  return ask({
    title: `Snapshot ${vm}`, ok: 'Take snapshot',
    fields: [
      { name: 'name', label: 'Name', value: `snap-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}` },
      { name: 'description', label: 'Description', type: 'textarea' },
    ],
    submit: (v) => api('POST', `${vmPath(vm)}/snapshots`, v),
  });
}

export async function revertTo(vm, snap) {
  if (!snap) {
    const snaps = await api('GET', `${vmPath(vm)}/snapshots`);
    if (snaps.length === 0) throw new Error(`${vm} has no snapshots`);
    const current = snaps.find((s) => s.current) ?? snaps[snaps.length - 1];
    return ask({
      title: `Revert ${vm}`, ok: 'Revert', danger: true,
      fields: [{ name: 'snap', label: 'Snapshot', type: 'select', options: snaps.map((s) => s.name), value: current.name }],
      submit: (v) => api('POST', `${vmPath(vm)}/snapshots/${encodeURIComponent(v.snap)}/revert`),
    });
  }
  if (await confirmAction(`Revert ${vm} to ${snap}? Changes since then are lost.`, 'Revert')) {
    return api('POST', `${vmPath(vm)}/snapshots/${encodeURIComponent(snap)}/revert`);
  }
  return null;
}

export { run };
