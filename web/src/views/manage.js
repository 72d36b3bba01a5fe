// Manage: add, edit, pause, resume and remove streams and webhooks. Every control needs an admin key;
// with a read key they are disabled (and the service would refuse anyway).
import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { live } from '../live.js';
import { notify } from '../ui.js';

export function manage(root) {
  const notice = h('p.notice', { role: 'note' }, 'This key may only read: changes need an admin key.');
  const streamsBody = h('tbody');
  const hooksBody = h('tbody');
  const streamForm = streamEditor();
  const hookForm = webhookEditor();
  root.append(h('section.manage', {},
    h('h1', {}, 'Manage'),
    notice,
    h('h2', {}, 'Streams'),
    h('table.streams', {}, h('caption.sr-only', {}, 'Monitored streams'),
      h('thead', {}, h('tr', {}, ['Name', 'Id', 'URL', 'State', 'Detectors', 'Actions'].map(t => h('th', { scope: 'col' }, t)))),
      streamsBody),
    streamForm.element,
    h('h2', {}, 'Webhooks'),
    h('table.webhooks', {}, h('caption.sr-only', {}, 'Webhook receivers'),
      h('thead', {}, h('tr', {}, ['URL', 'Signed', 'Streams', 'Kinds', 'Created', 'Actions'].map(t => h('th', { scope: 'col' }, t)))),
      hooksBody),
    hookForm.element));

  let shown = '';
  function renderStreams() {
    const text = JSON.stringify([live.access, live.streams.map(s => [s.id, s.name, s.url, s.paused, s.status.state, s.detectors])]);
    if (text === shown) return;
    shown = text;
    notice.hidden = live.admin;
    streamForm.setEnabled(live.admin);
    hookForm.setEnabled(live.admin);
    replace(streamsBody, live.streams.map(s => h('tr', { dataset: { id: s.id } },
      h('td', {}, h('a', { href: `#/stream/${encodeURIComponent(s.id)}` }, s.name)),
      h('td', {}, h('code', {}, s.id)),
      h('td.url', {}, s.url),
      h('td', {}, s.paused ? 'paused' : s.status.state),
      h('td', {}, s.detectors?.join(', ') ?? 'all'),
      h('td.actions', {},
        action('Edit', `Edit ${s.name}`, () => streamForm.edit(s)),
        s.paused
          ? action('Resume', `Resume ${s.name}`, () => call(`/api/streams/${s.id}/resume`, 'POST', `Resumed ${s.name}`))
          : action('Pause', `Pause ${s.name}`, () => call(`/api/streams/${s.id}/pause`, 'POST', `Paused ${s.name}`)),
        confirmAction('Remove', `Remove ${s.name}`, () => call(`/api/streams/${s.id}`, 'DELETE', `Removed ${s.name}`))))));
  }

  async function renderHooks() {
    try {
      const hooks = await api('/api/webhooks');
      replace(hooksBody, hooks.length ? hooks.map(w => h('tr', { dataset: { id: w.id } },
        h('td.url', {}, w.url), h('td', {}, w.signed ? 'yes' : 'no'), h('td', {}, w.streams?.join(', ') ?? 'all'),
        h('td', {}, w.kinds?.join(', ') ?? 'all'), h('td', {}, new Date(w.created_at).toLocaleString()),
        h('td.actions', {}, confirmAction('Remove', `Remove webhook ${w.url}`, async () => {
          await call(`/api/webhooks/${w.id}`, 'DELETE', 'Webhook removed');
          renderHooks();
        })))) : h('tr', {}, h('td', { colspan: 6 }, 'No webhooks.')));
    } catch (err) {
      replace(hooksBody, h('tr', {}, h('td', { colspan: 6 }, `Webhooks cannot be listed: ${err.message}`)));
    }
  }
  hookForm.onSaved = renderHooks;

  async function call(path, method, done) {
    try {
      await api(path, { method });
      notify(done);
      await live.refreshStreams();
    } catch (err) {
      notify(`${method} failed: ${err.message}`, true);
    }
  }

  function action(label, name, run) {
    return h('button', { type: 'button', disabled: !live.admin, 'aria-label': name, onclick: run }, label);
  }

  // removing asks once more on the same button: no native dialog, and the keyboard stays where it was
  function confirmAction(label, name, run) {
    const button = action(label, name, async () => {
      if (button.dataset.armed !== 'true') {
        button.dataset.armed = 'true';
        button.textContent = 'Confirm remove';
        setTimeout(() => { button.dataset.armed = 'false'; button.textContent = label; }, 4000);
        return;
      }
      await run();
    });
    button.classList.add('danger');
    return button;
  }

  live.addEventListener('streams', renderStreams);
  live.addEventListener('access', renderStreams);
  streamForm.loadDetectors();
  renderStreams();
  renderHooks();
  return () => {
    live.removeEventListener('streams', renderStreams);
    live.removeEventListener('access', renderStreams);
  };
}

/** The add/edit stream form: name, URL, detectors (none ticked: all), thresholds (kind.option=value lines), masks (x,y,w,h lines). */
function streamEditor() {
  const legend = h('legend', {}, 'Add a stream');
  const name = h('input#s-name', { name: 'name', required: true, maxlength: 200, autocomplete: 'off' });
  const url = h('input#s-url', { name: 'url', required: true, placeholder: 'udp://239.0.0.1:5000', autocomplete: 'off', spellcheck: 'false' });
  const detectors = h('div.checks', { role: 'group', 'aria-labelledby': 's-detectors-label' });
  const thresholds = h('textarea#s-thresholds', { name: 'thresholds', rows: 3, placeholder: 'video.black.min_duration=2', spellcheck: 'false' });
  const masks = h('textarea#s-masks', { name: 'masks', rows: 2, placeholder: '0.85,0.05,0.12,0.1', spellcheck: 'false' });
  const paused = h('input#s-paused', { type: 'checkbox', name: 'paused' });
  const error = h('p.error', { role: 'alert' });
  const submit = h('button', { type: 'submit' }, 'Add stream');
  const cancel = h('button', { type: 'button', hidden: true, onclick: () => reset() }, 'Cancel');
  const fieldset = h('fieldset', {}, legend,
    row('s-name', 'Name', name), row('s-url', 'URL', url),
    h('div.row', {}, h('span#s-detectors-label.label', {}, 'Detectors (none ticked: all)'), detectors),
    row('s-thresholds', 'Thresholds (one kind.option=value per line)', thresholds),
    row('s-masks', 'Masks (one x,y,w,h per line, fractions of the picture)', masks),
    h('div.row.inline', {}, paused, h('label', { for: 's-paused' }, 'Paused')),
    error, h('div.buttons', {}, submit, cancel));
  let editing = null;
  const form = h('form.stream-form', { onsubmit: e => { e.preventDefault(); save(); } }, fieldset);

  async function save() {
    error.textContent = '';
    const body = {
      name: name.value.trim(),
      url: url.value.trim(),
      detectors: [...detectors.querySelectorAll('input:checked')].map(c => c.value),
      thresholds: Object.fromEntries(thresholds.value.split('\n').map(l => l.trim()).filter(Boolean).map(l => {
        const at = l.indexOf('=');
        return at < 0 ? [l, ''] : [l.slice(0, at).trim(), l.slice(at + 1).trim()];
      })),
      masks: masks.value.split('\n').map(l => l.trim()).filter(Boolean),
      paused: paused.checked,
    };
    if (editing && body.url === editing.url) delete body.url; // a redacted URL shown to a read key is never sent back
    try {
      if (editing) await api(`/api/streams/${editing.id}`, { method: 'PATCH', body });
      else await api('/api/streams', { method: 'POST', body });
      notify(editing ? `Saved ${body.name}` : `Added ${body.name}`);
      reset();
      await live.refreshStreams();
    } catch (err) {
      error.textContent = err.message;
    }
  }

  function reset() {
    editing = null;
    form.reset();
    legend.textContent = 'Add a stream';
    submit.textContent = 'Add stream';
    cancel.hidden = true;
  }

  return {
    element: form,
    setEnabled(enabled) { fieldset.disabled = !enabled; },
    edit(stream) {
      editing = stream;
      name.value = stream.name;
      url.value = stream.url;
      for (const c of detectors.querySelectorAll('input')) c.checked = !!stream.detectors?.includes(c.value);
      thresholds.value = Object.entries(stream.thresholds ?? {}).map(([k, v]) => `${k}=${v}`).join('\n');
      masks.value = stream.masks.join('\n');
      paused.checked = stream.paused;
      legend.textContent = `Edit ${stream.name}`;
      submit.textContent = 'Save';
      cancel.hidden = false;
      name.focus();
    },
    async loadDetectors() {
      try {
        const catalog = await api('/api/detectors');
        replace(detectors, catalog.map(d => h('label.check', { title: d.description }, h('input', { type: 'checkbox', value: d.kind, name: 'detectors' }), d.kind)));
      } catch (err) {
        error.textContent = `Detectors cannot be listed: ${err.message}`;
      }
    },
  };
}

/** The add-webhook form: URL, optional secret (signs requests), stream ids and kinds (empty: all). */
function webhookEditor() {
  const url = h('input#w-url', { name: 'url', required: true, type: 'url', placeholder: 'https://example.org/hook', autocomplete: 'off' });
  const secret = h('input#w-secret', { name: 'secret', type: 'password', autocomplete: 'new-password' });
  const streams = h('input#w-streams', { name: 'streams', placeholder: 'stream ids, comma-separated (empty: all)', autocomplete: 'off' });
  const kinds = h('input#w-kinds', { name: 'kinds', placeholder: 'video, audio.silence (empty: all)', autocomplete: 'off' });
  const error = h('p.error', { role: 'alert' });
  const fieldset = h('fieldset', {}, h('legend', {}, 'Add a webhook'),
    row('w-url', 'URL', url), row('w-secret', 'Secret (optional)', secret), row('w-streams', 'Streams', streams), row('w-kinds', 'Kinds', kinds),
    error, h('div.buttons', {}, h('button', { type: 'submit' }, 'Add webhook')));
  const list = text => text.split(',').map(t => t.trim()).filter(Boolean);
  const editor = {
    onSaved: null,
    element: h('form.webhook-form', {
      onsubmit: async e => {
        e.preventDefault();
        error.textContent = '';
        try {
          await api('/api/webhooks', { method: 'POST', body: { url: url.value.trim(), secret: secret.value || undefined, streams: list(streams.value), kinds: list(kinds.value) } });
          notify('Webhook added');
          e.target.reset();
          editor.onSaved?.();
        } catch (err) {
          error.textContent = err.message;
        }
      },
    }, fieldset),
    setEnabled(enabled) { fieldset.disabled = !enabled; },
  };
  return editor;
}

function row(id, label, input) {
  return h('div.row', {}, h('label', { for: id }, label), input);
}
