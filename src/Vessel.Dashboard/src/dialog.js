// One modal form for every action that needs input; API validation errors are shown next to their fields.
import { ApiError } from './api.js';
import { el } from './format.js';

const dialog = () => document.getElementById('dialog');

// fields: [{ name, label, type: 'text'|'number'|'select'|'checkbox'|'textarea', value, options, hint, required }]
export function ask({ title, fields = [], ok = 'OK', danger = false, submit }) {
  const d = dialog();
  const form = document.getElementById('dialog-form');
  const error = document.getElementById('dialog-error');
  const okButton = document.getElementById('dialog-ok');
  document.getElementById('dialog-title').textContent = title;
  okButton.textContent = ok;
  okButton.className = danger ? 'danger' : 'primary';
  error.hidden = true;
  const box = document.getElementById('dialog-fields');
  box.replaceChildren(...fields.map(renderField));
  return new Promise((resolve) => {
    const finish = (value) => {
      form.onsubmit = null;
      d.close();
      resolve(value);
    };
    document.getElementById('dialog-cancel').onclick = () => finish(null);
    form.onsubmit = async (event) => {
      event.preventDefault();
      const values = Object.fromEntries(fields.map((f) => [f.name, readField(form.elements[f.name], f)]));
      for (const node of box.querySelectorAll('.field-error')) node.textContent = '';
      error.hidden = true;
      okButton.disabled = true;
      try {
        finish((await submit?.(values)) ?? values);
      } catch (e) {
        showError(e, fields, box, error);
      } finally {
        okButton.disabled = false;
      }
    };
    d.showModal();
  });
}

function renderField(f) {
  let input;
  if (f.type === 'select') {
    input = el('select', { name: f.name }, f.options.map((o) => el('option', { value: o, selected: o === f.value }, o)));
  } else if (f.type === 'textarea') {
    input = el('textarea', { name: f.name, rows: 2, placeholder: f.placeholder });
    input.value = f.value ?? '';
  } else if (f.type === 'checkbox') {
    input = el('input', { type: 'checkbox', name: f.name, checked: !!f.value });
  } else {
    input = el('input', { type: f.type ?? 'text', name: f.name, value: f.value ?? '', placeholder: f.placeholder, required: !!f.required });
  }
  return el('label', { class: f.type === 'checkbox' ? 'field check' : 'field' },
    el('span', {}, f.label), input,
    f.hint ? el('small', {}, f.hint) : null,
    el('span', { class: 'field-error', 'data-for': f.name }));
}

function readField(input, f) {
  if (f.type === 'checkbox') return input.checked;
  return input.value.trim();
}

// The API names fields like "disks[0]" or "memory"; each message goes under the field it starts with.
function showError(e, fields, box, error) {
  if (!(e instanceof ApiError)) {
    error.textContent = String(e.message ?? e);
    error.hidden = false;
    return;
  }
  const unplaced = [];
  for (const [key, messages] of Object.entries(e.problem?.errors ?? {})) {
    const field = fields.find((f) => key.toLowerCase().startsWith(f.name.toLowerCase()));
    const slot = field && box.querySelector(`.field-error[data-for="${field.name}"]`);
    if (slot) slot.textContent = [slot.textContent, ...messages].filter(Boolean).join(' ');
    else unplaced.push(...messages);
  }
  error.textContent = [e.message, ...unplaced].join(' ');
  error.hidden = false;
}

export const confirmAction = (title, ok = 'Delete') => ask({ title, ok, danger: true });
