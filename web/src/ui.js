// What every view may ask of the page: a message, an announcement, the key dialog, the operator's name.
import { session } from './api.js';
import { h, setText } from './dom.js';
import { live } from './live.js';

const toasts = document.getElementById('toasts');
const announcer = document.getElementById('announcer');
const dialog = document.getElementById('key-dialog');

/** Shows a short message (and says it to screen readers). */
export function notify(text, isError = false) {
  const toast = h('p.toast', { class: isError ? 'error' : null, role: isError ? 'alert' : 'status' }, text);
  toasts.append(toast);
  setTimeout(() => toast.remove(), isError ? 8000 : 4000);
}

/** Says something to screen readers only. */
export function announce(text) {
  setText(announcer, '');
  setTimeout(() => setText(announcer, text), 50);
}

/** The key dialog: resolves true when a key (or none, with open reads) was taken. */
export function askKey(message = '') {
  const form = dialog.querySelector('form');
  form.elements.key.value = session.key;
  form.elements.operator.value = session.operator;
  setText(dialog.querySelector('.message'), message);
  dialog.querySelector('.without').hidden = !live.openReads;
  dialog.showModal();
  return new Promise(resolve => dialog.addEventListener('close', () => {
    if (dialog.returnValue === 'use') {
      session.key = form.elements.key.value.trim();
      session.operator = form.elements.operator.value.trim();
    } else if (dialog.returnValue === 'without') {
      session.key = '';
    }
    resolve(dialog.returnValue === 'use' || dialog.returnValue === 'without');
  }, { once: true }));
}

/** The operator's name for an acknowledgement (asked once per session). */
export async function askOperator() {
  if (session.operator) return session.operator;
  await askKey('Give your name: acknowledgements record who made them.');
  return session.operator;
}

