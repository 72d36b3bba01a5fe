// Plots with uPlot (a small, maintained library): the defect timeline (one lane per kind, bars from
// start to end), loudness and true peak, fps and lag. Drag across a plot to zoom in on that time
// range; double-click to zoom out again. Plots follow their container's width.
import uPlot from './vendor/uPlot.esm.js';

const pad = n => String(n).padStart(2, '0');

/** Time axis labels in the 24-hour clock of a control room: seconds for a short range, the date for a long one. */
function timeValues(u, splits) {
  const range = (u.scales.x.max ?? 0) - (u.scales.x.min ?? 0);
  return splits.map(t => {
    const d = new Date(t * 1000);
    const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
    if (range <= 300) return `${hm}:${pad(d.getSeconds())}`;
    return range > 86400 * 1.5 ? `${d.getMonth() + 1}/${d.getDate()} ${hm}` : hm;
  });
}

const timeAxis = () => ({ stroke: css('--fg-muted'), grid: { stroke: css('--grid') }, values: timeValues, space: 60 });

const css = name => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';

/** A uPlot in `container`, resized with it; returns the plot (call .destroy() when done). */
function plot(container, options, data) {
  const width = Math.max(320, container.clientWidth || 600);
  const u = new uPlot({ width, height: options.height ?? 200, ...options }, data, container);
  const observer = new ResizeObserver(() => {
    const w = Math.max(320, container.clientWidth);
    if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height: u.height });
  });
  observer.observe(container);
  const destroy = u.destroy.bind(u);
  u.destroy = () => { observer.disconnect(); destroy(); };
  return u;
}

/**
 * The defect timeline over [from, to] (unix seconds): `defects` are { kind, start, end } in unix seconds
 * (end null: still open, drawn to `to`). Each kind is a lane; a bar is drawn where a defect of that
 * kind was open. Returns { update(defects, from, to, reset), destroy() }: with reset false a zoom stays.
 */
export function timelinePlot(container, { height = 60 } = {}) {
  let u = null;
  let lanes = [];
  let zoomed = false; // the operator dragged a range: new data must not move it
  const palette = ['--c-alarm', '--c-stalled', '--c-info', '--c-accent', '--c-muted'];

  function build(kinds, data, from, to) {
    u?.destroy();
    zoomed = false;
    lanes = kinds;
    u = plot(container, {
      height: Math.max(height, 36 + kinds.length * 22),
      legend: { show: false },
      cursor: { drag: { x: true, y: false }, points: { show: false } },
      scales: { x: { time: true, min: from, max: to }, y: { range: [-0.5, Math.max(0.5, kinds.length - 0.5)] } },
      axes: [
        timeAxis(),
        { stroke: css('--fg-muted'), grid: { show: false }, size: 120, splits: () => kinds.map((_, i) => i), values: () => kinds },
      ],
      series: [{}, ...kinds.map((k, i) => ({ label: k, stroke: css(palette[i % palette.length]), width: 10, spanGaps: false, points: { show: false } }))],
      hooks: { setSelect: [p => { if (p.select.width > 0) zoomed = true; }] },
    }, data);
    u.over.addEventListener('dblclick', () => { zoomed = false; });
  }

  function update(defects, from, to, reset = true) {
    const kinds = [...new Set(defects.map(d => d.kind))].sort();
    // every start and end, and an instant after each end, so that one bar never runs into the next
    const xs = new Set([from, to]);
    for (const d of defects) {
      const end = Math.min(d.end ?? to, to);
      if (end < from) continue;
      xs.add(Math.max(d.start, from)); xs.add(end); xs.add(Math.min(end + 0.001, to));
    }
    const x = [...xs].sort((a, b) => a - b);
    const ys = kinds.map((kind, lane) => x.map(t => defects.some(d => d.kind === kind && d.start <= t && t <= (d.end ?? to)) ? lane : null));
    const data = [x, ...ys];
    if (!u || kinds.join() !== lanes.join()) build(kinds, data, from, to);
    else {
      u.setData(data, false);
      if (reset) zoomed = false;
      if (!zoomed) u.setScale('x', { min: from, max: to });
    }
  }

  return { update, destroy: () => u?.destroy(), get plot() { return u; } };
}

/** Short-term loudness (LUFS) and true peak (dBTP) per second, with the target as a line. */
export function loudnessPlot(container, { target = -23 } = {}) {
  return plot(container, {
    height: 200,
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: true }, db: { range: (u, min, max) => [Math.min(-60, min ?? -60), Math.max(0, max ?? 0)] } },
    axes: [
      timeAxis(),
      { scale: 'db', stroke: css('--fg-muted'), grid: { stroke: css('--grid') }, label: 'LUFS / dBTP' },
    ],
    series: [
      {},
      { label: 'short-term LUFS', scale: 'db', stroke: css('--c-info'), width: 1.5, spanGaps: false, value: (u, v) => v == null ? '\u2014' : v.toFixed(1) },
      { label: 'true peak dBTP', scale: 'db', stroke: css('--c-alarm'), width: 1, spanGaps: false, value: (u, v) => v == null ? '\u2014' : v.toFixed(1) },
      { label: `target ${target} LUFS`, scale: 'db', stroke: css('--fg-muted'), width: 1, dash: [4, 4], points: { show: false } },
    ],
  }, [[], [], [], []]);
}

/** Frames per second and lag behind live (seconds), sampled by the page while it is open. */
export function fpsPlot(container) {
  return plot(container, {
    height: 160,
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: true }, fps: { range: (u, min, max) => [0, Math.max(30, max ?? 30)] }, lag: { range: (u, min, max) => [0, Math.max(1, max ?? 1)] } },
    axes: [
      timeAxis(),
      { scale: 'fps', stroke: css('--fg-muted'), grid: { stroke: css('--grid') }, label: 'fps' },
      { scale: 'lag', side: 1, stroke: css('--fg-muted'), grid: { show: false }, label: 'lag s' },
    ],
    series: [
      {},
      { label: 'fps', scale: 'fps', stroke: css('--c-ok'), width: 1.5 },
      { label: 'lag s', scale: 'lag', stroke: css('--c-stalled'), width: 1.5 },
    ],
  }, [[], [], []]);
}
