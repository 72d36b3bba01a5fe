// Defect snapshots: JPEGs fetched as blobs (the key goes in a header, never in an <img src> URL).
import { authHeaders } from '../api.js';
import { h } from '../dom.js';
import { clock } from '../format.js';

/** An <img> showing the snapshot at `url` once it is on screen; a text note when there is none. */
export function snapshotImage(url, alt) {
  if (!url) return h('span.no-snapshot', {}, 'no snapshot');
  const img = h('img.snapshot', { alt, decoding: 'async' });
  const observer = new IntersectionObserver(async entries => {
    if (!entries.some(e => e.isIntersecting)) return;
    observer.disconnect();
    try {
      // the path on the node this page talks to: every node of a fleet serves every snapshot
      const { pathname, search } = new URL(url, location.href);
      const res = await fetch(pathname + search, { headers: authHeaders() });
      if (res.ok) img.src = URL.createObjectURL(await res.blob());
    } catch { /* left blank */ }
  });
  observer.observe(img);
  return img;
}

/** A button that opens the defect's snapshot in a dialog. */
export function snapshotButton(e) {
  if (!e.snapshot) return '\u2014';
  return h('button.link', {
    type: 'button',
    onclick: () => {
      const dialog = h('dialog.snapshot-dialog', { 'aria-label': `Snapshot of ${e.kind}` },
        h('form', { method: 'dialog' },
          h('p', {}, `${e.kind} at ${clock(e.time)}`),
          snapshotImage(e.snapshot, `${e.kind} at ${clock(e.time)}`),
          h('button', { type: 'submit' }, 'Close')));
      dialog.addEventListener('close', () => dialog.remove());
      document.body.append(dialog);
      dialog.showModal();
    },
  }, 'View');
}
