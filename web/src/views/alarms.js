// Alarms: the defects open now (stream, kind, since, running length) with acknowledgement, and the
// history of ended defects filtered by stream, kind and time range.
import { api } from '../api.js';
import { h, replace, setText } from '../dom.js';
import { icon } from '../icons.js';
import { clock, details, duration, fromLocalInput } from '../format.js';
import { live } from '../live.js';
import { askOperator, notify } from '../ui.js';
import { snapshotButton } from './snapshots.js';

export function alarms(root) {
  const activeBody = h('tbody');
  const activeEmpty = h('p.empty', {}, 'No open alarms.');
  const historyBody = h('tbody');
  const more = h('button', { type: 'button', hidden: true, onclick: () => loadHistory(false) }, 'Older');
  const stream = h('select#f-stream', { name: 'stream' });
  const kind = h('select#f-kind', { name: 'kind' });
  const from = h('input#f-from', { type: 'datetime-local', name: 'from' });
  const to = h('input#f-to', { type: 'datetime-local', name: 'to' });
  const form = h('form.filters', { onsubmit: e => { e.preventDefault(); loadHistory(true); } },
    field('f-stream', 'Stream', stream), field('f-kind', 'Kind', kind), field('f-from', 'From', from), field('f-to', 'To', to),
    h('button', { type: 'submit' }, 'Show'));
  let before = null;

  root.append(h('section.alarms', {},
    h('h1', {}, 'Alarms'),
    h('h2', {}, 'Open now'),
    activeEmpty,
    h('table.active', {}, h('caption.sr-only', {}, 'Open alarms'),
      h('thead', {}, h('tr', {}, ['Stream', 'Kind', 'Since', 'Running', 'Details', 'Snapshot', 'Acknowledged'].map(t => h('th', { scope: 'col' }, t)))),
      activeBody),
    h('h2', {}, 'History'),
    form,
    h('table.history', {}, h('caption.sr-only', {}, 'Ended alarms, newest first'),
      h('thead', {}, h('tr', {}, ['Stream', 'Kind', 'Start', 'End', 'Length', 'Details', 'Snapshot', 'Acknowledged'].map(t => h('th', { scope: 'col' }, t)))),
      historyBody),
    more));

  const running = new Map(); // cell → start time (ms)
  function renderActive() {
    running.clear();
    const list = [...live.alarms.values()].sort((a, b) => a.event.id - b.event.id);
    activeEmpty.hidden = list.length > 0;
    replace(activeBody, list.map(a => {
      const e = a.event;
      const length = h('td.running');
      running.set(length, Date.parse(e.time));
      return h('tr', { dataset: { id: e.id, kind: e.kind } },
        h('td', {}, streamLink(e.stream_id)),
        h('td', {}, h('span.kind', {}, icon('alarm'), e.kind)),
        h('td', {}, h('time', { datetime: e.time }, clock(e.time))),
        length,
        h('td', {}, details(e)),
        h('td', {}, snapshotButton(e)),
        h('td', {}, ackCell(a)));
    }));
    tick();
  }

  function tick() {
    // never below 0: the stream's clock may run a little ahead of this browser's
    for (const [cell, start] of running) setText(cell, duration(Math.max(0, (Date.now() - start) / 1000)));
  }

  function ackCell(a) {
    if (a.ack) return h('span.acked', {}, icon('ack'), `${a.ack.by}, ${clock(a.ack.at)}`);
    return h('button.ack', {
      type: 'button', disabled: !live.admin, title: live.admin ? null : 'acknowledging needs an admin key',
      onclick: async e => {
        const by = await askOperator();
        if (!by) return;
        e.target.disabled = true;
        try {
          await live.acknowledge(a, by);
          notify(`Acknowledged ${a.event.kind} on ${nameOf(a.event.stream_id)}`);
        } catch (err) {
          e.target.disabled = false;
          notify(`Could not acknowledge: ${err.message}`, true);
        }
      },
    }, 'Acknowledge');
  }

  function fillFilters() {
    const current = stream.value;
    replace(stream, h('option', { value: '' }, 'all streams'), live.streams.map(s => h('option', { value: s.id }, s.name)));
    stream.value = live.streams.some(s => s.id === current) ? current : '';
  }

  async function loadKinds() {
    const catalog = await api('/api/detectors');
    const families = [...new Set(catalog.map(d => d.kind.split('.')[0]))];
    replace(kind, h('option', { value: '' }, 'all kinds'),
      families.map(f => h('optgroup', { label: f }, h('option', { value: f }, `${f} (all)`),
        catalog.filter(d => d.kind.startsWith(`${f}.`)).map(d => h('option', { value: d.kind }, d.kind)))));
  }

  async function loadHistory(fresh) {
    if (fresh) { before = null; historyBody.replaceChildren(); }
    const query = new URLSearchParams({ limit: '50' });
    if (stream.value) query.set('stream', stream.value);
    if (kind.value) query.set('kind', kind.value);
    if (fromLocalInput(from.value)) query.set('from', fromLocalInput(from.value));
    if (fromLocalInput(to.value)) query.set('to', fromLocalInput(to.value));
    if (before) query.set('before', before);
    try {
      const page = await api(`/api/alarms/history?${query}`);
      historyBody.append(...page.alarms.map(({ event: e, ack }) => h('tr', { dataset: { id: e.id, kind: e.kind } },
        h('td', {}, streamLink(e.stream_id)),
        h('td', {}, e.kind),
        h('td', {}, h('time', { datetime: e.time }, clock(e.time))),
        h('td', {}, h('time', { datetime: e.end_time }, clock(e.end_time))),
        h('td', {}, duration(e.end - e.start)),
        h('td', {}, details(e)),
        h('td', {}, snapshotButton(e)),
        h('td', {}, ack ? h('span.acked', {}, icon('ack'), `${ack.by}, ${clock(ack.at)}`) : '\u2014'))));
      if (!historyBody.children.length) historyBody.append(h('tr', {}, h('td', { colspan: 8 }, 'No ended alarms match.')));
      before = page.next_before;
      more.hidden = !before;
    } catch (err) {
      notify(`History: ${err.message}`, true);
    }
  }

  const timer = setInterval(tick, 1000);
  const onStreams = () => fillFilters();
  live.addEventListener('alarms', renderActive);
  live.addEventListener('streams', onStreams);
  live.addEventListener('access', renderActive);
  renderActive();
  fillFilters();
  loadKinds().catch(err => notify(`Detectors: ${err.message}`, true));
  loadHistory(true);
  return () => {
    clearInterval(timer);
    live.removeEventListener('alarms', renderActive);
    live.removeEventListener('streams', onStreams);
    live.removeEventListener('access', renderActive);
  };
}

function field(id, label, input) {
  return h('span.field', {}, h('label', { for: id }, label), input);
}

function nameOf(id) {
  return live.stream(id)?.name ?? id;
}

function streamLink(id) {
  return h('a', { href: `#/stream/${encodeURIComponent(id)}` }, nameOf(id));
}
