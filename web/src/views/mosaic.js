// The wall: one tile per stream with its live picture, its state (icon and text), its audio meters, and
// the alarm frame from the moment a defect_start arrives until its defect ends it. Tiles are links
// (Tab reaches them, Enter opens the stream page); the arrow keys move between them.
import { h, setAttr, setText } from '../dom.js';
import { icon } from '../icons.js';
import { dbText, level, stateIcon, streamState, zone } from '../format.js';
import { live } from '../live.js';
import { ThumbnailFeed } from '../thumbs.js';

const SIZE = 'vigil.tileSize';

export function mosaic(root) {
  const feed = new ThumbnailFeed({ interval: 1500, onPicture: (img, has) => img.closest('.tile')?.classList.toggle('has-picture', has) });
  window.vigilThumbnails = feed.stats; // for the scale measurement (README)
  const tiles = new Map(); // stream id → { li, a, img, name, state, stateText, loud, loudLabel, loudValue, channels }
  const summary = h('p.summary', { 'aria-live': 'off' });
  const size = h('select#tile-size', { onchange: () => { list.dataset.size = size.value; localStorage.setItem(SIZE, size.value); } },
    h('option', { value: 's' }, 'small'), h('option', { value: 'm' }, 'medium'), h('option', { value: 'l' }, 'large'));
  size.value = localStorage.getItem(SIZE) ?? 'm';
  const empty = h('p.empty', {}, 'No streams yet. ', h('a', { href: '#/manage' }, 'Add one'), '.');
  const list = h('ol.tiles', { 'aria-label': 'Streams', dataset: { size: size.value }, onkeydown: e => move(e) });
  root.append(h('section.mosaic', {},
    h('div.toolbar', {}, h('h1', {}, 'Streams'), summary, h('label', { for: 'tile-size' }, 'Tile size '), size),
    empty, list));

  function tile(stream) {
    const img = h('img', { alt: '', decoding: 'async' });
    const t = {
      img,
      name: h('span.name'),
      state: h('span.state'),
      stateText: h('span.state-text'),
      loud: h('span.bar'),
      loudLabel: h('span.sr-only', {}, ', short-term loudness '),
      loudValue: h('span.value'),
      channels: h('span.channels'),
      channelBars: [],
    };
    t.stateIcon = h('span.state-icon');
    t.state.append(t.stateIcon, t.stateText);
    t.a = h('a.tile', { href: `#/stream/${encodeURIComponent(stream.id)}`, dataset: { id: stream.id } },
      h('span.picture', {}, img, h('span.no-picture', {}, 'no picture')),
      // the visible text is the link's accessible name; the hidden commas and words make it a sentence
      h('span.caption', {}, t.name, h('span.sr-only', {}, ', '), t.state),
      h('span.meters', {},
        h('span.meter.loudness', { title: 'short-term loudness' }, h('span.track', {}, t.loud), t.loudLabel, t.loudValue),
        t.channels));
    t.li = h('li', {}, t.a);
    feed.watch(img, stream.id);
    return t;
  }

  function update() {
    const alarms = [...live.alarms.values()];
    const seen = new Set();
    const counts = { ok: 0, alarm: 0, stalled: 0, paused: 0, connecting: 0 };
    live.streams.forEach((stream, index) => {
      seen.add(stream.id);
      let t = tiles.get(stream.id);
      if (!t) { t = tile(stream); tiles.set(stream.id, t); }
      if (list.children[index] !== t.li) list.insertBefore(t.li, list.children[index] ?? null);
      const s = streamState(stream, alarms);
      counts[s.state]++;
      setText(t.name, stream.name);
      if (t.a.dataset.state !== s.state) {
        t.a.dataset.state = s.state;
        t.stateIcon.replaceChildren(icon(stateIcon[s.state]));
      }
      setText(t.stateText, s.label);
      meters(t, stream.status?.meters);
    });
    for (const [id, t] of tiles) {
      if (seen.has(id)) continue;
      feed.unwatch(t.img);
      t.li.remove();
      tiles.delete(id);
    }
    empty.hidden = live.streams.length > 0;
    setText(summary, Object.entries(counts).filter(([, n]) => n).map(([k, n]) => `${n} ${k}`).join(' · '));
  }

  function meters(t, m) {
    t.loud.style.transform = `scaleX(${level(m?.short_term)})`;
    setText(t.loudValue, m ? `${dbText(m.short_term)} LUFS` : '');
    t.loudLabel.hidden = !m;
    const channels = m?.channels ?? [];
    while (t.channelBars.length < channels.length) {
      const bar = h('span.bar');
      t.channels.append(h('span.track', {}, bar));
      t.channelBars.push(bar);
    }
    while (t.channelBars.length > channels.length) { t.channelBars.pop(); t.channels.lastChild.remove(); }
    channels.forEach((c, i) => {
      t.channelBars[i].style.transform = `scaleX(${level(c.peak)})`;
      setAttr(t.channelBars[i], 'data-zone', zone(c.peak));
      setAttr(t.channelBars[i].parentElement, 'title', `channel ${i + 1}: peak ${dbText(c.peak)} dBFS, RMS ${dbText(c.rms)} dBFS`);
    });
  }

  // arrow keys: the tile beside, above or below (the grid's columns follow the window's width)
  function move(e) {
    const keys = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: 'up', ArrowDown: 'down', Home: 'first', End: 'last' };
    if (!(e.key in keys) || !e.target.classList.contains('tile')) return;
    const all = [...list.querySelectorAll('.tile')];
    const at = all.indexOf(e.target);
    const columns = all.filter(a => a.offsetTop === all[0].offsetTop).length || 1;
    const step = keys[e.key];
    const next = step === 'first' ? 0 : step === 'last' ? all.length - 1 : step === 'up' ? at - columns : step === 'down' ? at + columns : at + step;
    if (next >= 0 && next < all.length) { all[next].focus(); e.preventDefault(); }
  }

  live.addEventListener('streams', update);
  live.addEventListener('alarms', update);
  update();
  return () => {
    live.removeEventListener('streams', update);
    live.removeEventListener('alarms', update);
    feed.close();
  };
}
