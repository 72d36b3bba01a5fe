// One stream: its picture with the masks drawn on it, state, fps and lag, meters, the defect timeline
// (last hour or day, zoomable), loudness and true peak over the last hour, the snapshot of each defect,
// and its settings (detectors, thresholds, masks).
import { api } from '../api.js';
import { h, replace, setText } from '../dom.js';
import { icon } from '../icons.js';
import { clock, dbText, details, duration, level, stateIcon, streamState, zone } from '../format.js';
import { live } from '../live.js';
import { ThumbnailFeed } from '../thumbs.js';
import { fpsPlot, loudnessPlot, timelinePlot } from '../plots.js';
import { snapshotImage } from './snapshots.js';
import { notify } from '../ui.js';

export function streamPage(root, id) {
  const feed = new ThumbnailFeed({ interval: 1000 });
  const img = h('img', { alt: 'latest picture' });
  const masks = h('span.masks', { 'aria-hidden': 'true' });
  const title = h('h1');
  const badge = h('span.badge');
  const facts = h('dl.facts');
  const meters = h('div.stream-meters');
  const timelineBox = h('div.plot.timeline');
  const loudnessBox = h('div.plot.loudness');
  const fpsBox = h('div.plot.fps');
  const defectsList = h('ol.defects');
  const settings = h('div.settings');
  let span = 3600;
  const spanButtons = [['hour', 3600], ['day', 86400]].map(([label, seconds]) =>
    h('button', { type: 'button', 'aria-pressed': String(seconds === span), onclick: () => { span = seconds; spanButtons.forEach(b => b.setAttribute('aria-pressed', String(b.dataset.seconds === String(span)))); loadDefects(true); } , dataset: { seconds } }, `last ${label}`));

  root.append(h('section.stream-page', {},
    h('p', {}, h('a', { href: '#/' }, '\u2190 all streams')),
    h('div.stream-head', {}, title, badge),
    h('div.stream-top', {},
      h('figure.live', {}, h('span.picture.has-masks', {}, img, masks), h('figcaption', {}, 'Latest analysis picture; masked regions outlined')),
      h('div', {}, facts, meters)),
    h('h2', {}, 'Defects'),
    h('div.plot-tools', { role: 'group', 'aria-label': 'Timeline span' }, spanButtons, h('span.hint', {}, 'Drag to zoom, double-click to zoom out')),
    timelineBox,
    h('h2', {}, 'Loudness (last hour)'),
    loudnessBox,
    h('h2', {}, 'Frames per second and lag'),
    fpsBox,
    h('h2', {}, 'Recent defects'),
    defectsList,
    h('h2', {}, 'Settings'),
    settings));
  feed.watch(img, id);

  const timeline = timelinePlot(timelineBox);
  const loudness = loudnessPlot(loudnessBox);
  const fps = fpsPlot(fpsBox);
  const samples = [[], [], []];
  let history = [];   // ended defects of the last day: { event, ack }
  let settingsShown = '';

  function render() {
    const stream = live.stream(id);
    if (!stream) { setText(title, `No stream ${id}`); return; }
    setText(title, stream.name);
    const s = streamState(stream, [...live.alarms.values()]);
    badge.dataset.state = s.state;
    replace(badge, icon(stateIcon[s.state]), s.label);
    const st = stream.status;
    const media = st.media;
    replace(facts,
      fact('State', st.state), fact('Frames per second', st.fps.toFixed(1)), fact('Lag behind live', `${st.lag_seconds.toFixed(2)} s`),
      fact('Frames analysed', st.frames_analysed), fact('Frames shed', st.frames_shed), fact('Connections', st.connections),
      fact('Media', media ? `${media.format} \u00b7 ${media.video_codec ?? 'no video'} ${media.width}\u00d7${media.height} ${media.fps?.toFixed?.(2) ?? ''} fps \u00b7 ${media.audio_codec ?? 'no audio'} ${media.sample_rate || ''} Hz \u00d7 ${media.channels}` : '\u2014'),
      fact('URL', stream.url), st.last_error ? fact('Last error', st.last_error) : null);
    renderMeters(st.meters);
    renderSettings(stream);
    const now = Date.now() / 1000;
    samples[0].push(now); samples[1].push(st.fps); samples[2].push(st.lag_seconds);
    if (samples[0].length > 3600) samples.forEach(a => a.shift());
    fps.setData(samples);
  }

  function renderMeters(m) {
    if (!m) { replace(meters, h('p.muted', {}, 'No audio measured yet.')); return; }
    replace(meters,
      h('p', {}, `Short-term ${dbText(m.short_term)} LUFS \u00b7 momentary max ${dbText(m.momentary)} LUFS \u00b7 true peak ${dbText(m.true_peak)} dBTP`),
      h('ul.channel-meters', { 'aria-label': 'Channel levels (last second)' }, m.channels.map((c, i) =>
        h('li', {}, h('span.ch-name', {}, `ch ${i + 1}`),
          h('span.track', {}, h('span.bar', { dataset: { level: level(c.peak).toFixed(2), zone: zone(c.peak) } })),
          h('span.value', {}, `peak ${dbText(c.peak)} \u00b7 RMS ${dbText(c.rms)} dBFS`)))));
    meters.querySelectorAll('.bar').forEach(b => { b.style.transform = `scaleX(${b.dataset.level})`; });
  }

  function renderSettings(stream) {
    const text = JSON.stringify([stream.detectors, stream.thresholds, stream.masks]);
    if (text === settingsShown) return;
    settingsShown = text;
    const thresholds = Object.entries(stream.thresholds ?? {});
    replace(settings, h('dl.facts', {},
      fact('Detectors', stream.detectors?.length ? stream.detectors.join(', ') : 'all'),
      fact('Thresholds', thresholds.length ? h('ul', {}, thresholds.map(([k, v]) => h('li', {}, h('code', {}, `${k} = ${v}`)))) : 'defaults'),
      fact('Masks', stream.masks.length ? h('ul', {}, stream.masks.map(m => h('li', {}, h('code', {}, m)))) : 'none')));
    // each mask x,y,w,h (fractions of the picture) as a rectangle over the picture
    replace(masks, stream.masks.flatMap(m => m.split(';')).map(m => m.split(',').map(Number)).filter(r => r.length === 4 && r.every(Number.isFinite))
      .map(([x, y, w, hgt]) => {
        const box = h('span.mask');
        Object.assign(box.style, { left: `${x * 100}%`, top: `${y * 100}%`, width: `${w * 100}%`, height: `${hgt * 100}%` });
        return box;
      }));
  }

  async function loadDefects(reset) {
    try {
      const from = new Date(Date.now() - 86400_000).toISOString();
      const page = await api(`/api/alarms/history?stream=${encodeURIComponent(id)}&from=${from}&limit=1000`);
      history = page.alarms;
      drawTimeline(reset);
      renderList();
    } catch (err) {
      notify(`Defects: ${err.message}`, true);
    }
  }

  function drawTimeline(reset) {
    const now = Date.now() / 1000;
    const wall = iso => Date.parse(iso) / 1000;
    const defects = [
      ...history.map(({ event: e }) => ({ kind: e.kind, start: wall(e.time), end: wall(e.end_time) })),
      ...live.alarmsOf(id).map(({ event: e }) => ({ kind: e.kind, start: wall(e.time), end: null })),
    ];
    timeline.update(defects, now - span, now, reset);
  }

  function renderList() {
    const open = live.alarmsOf(id).map(a => ({ ...a, open: true }));
    const rows = [...open, ...history].slice(0, 50);
    replace(defectsList, rows.length ? rows.map(({ event: e, ack, open: isOpen }) => h('li', { dataset: { kind: e.kind } },
      snapshotImage(e.snapshot, `${e.kind} at ${clock(e.time)}`),
      h('span.defect-text', {},
        h('strong', {}, e.kind), ' ',
        isOpen ? h('span.open', {}, icon('alarm'), `open since ${clock(e.time)}`) : `${clock(e.time)} \u2013 ${clock(e.end_time)} (${duration(e.end - e.start)})`,
        h('br'), details(e), ack ? h('span.acked', {}, icon('ack'), ` acknowledged by ${ack.by}, ${clock(ack.at)}`) : ''))) : h('li.muted', {}, 'No defects in the last day.'));
  }

  async function loadLoudness() {
    try {
      const l = await api(`/api/streams/${encodeURIComponent(id)}/loudness`);
      const start = Date.parse(l.start) / 1000;
      const x = l.short_term.map((_, i) => start + i * l.step);
      loudness.setData([x, l.short_term, l.true_peak, x.map(() => -23)]);
    } catch (err) {
      notify(`Loudness: ${err.message}`, true);
    }
  }

  const onEvent = e => { if (e.detail.event.stream_id === id) { if (e.detail.type === 'defect') loadDefects(false); else { drawTimeline(false); renderList(); } } };
  live.addEventListener('streams', render);
  live.addEventListener('alarms', render);
  live.addEventListener('event', onEvent);
  const timers = [setInterval(loadLoudness, 5000), setInterval(() => drawTimeline(false), 10_000)];
  render();
  loadDefects(true);
  loadLoudness();
  return () => {
    timers.forEach(clearInterval);
    live.removeEventListener('streams', render);
    live.removeEventListener('alarms', render);
    live.removeEventListener('event', onEvent);
    feed.close();
    timeline.destroy();
    loudness.destroy();
    fps.destroy();
  };
}

function fact(name, value) {
  return [h('dt', {}, name), h('dd', {}, value ?? '\u2014')];
}
