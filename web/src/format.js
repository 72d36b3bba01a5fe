// Formatting and the small pieces of meaning the views share: a defect's identity, a stream's state.

/**
 * A defect's identity (EVENTS.md, TEAM.md): kind, stream index, programme, channel, start. The same text as
 * the service's DefectKey, so a `defect` finds the `defect_start` it ends even when two channels of one
 * stream fail at the same instant.
 */
export function defectKey(e) {
  const channel = e.details && typeof e.details.channel === 'number' ? Math.trunc(e.details.channel) : '';
  return [e.stream_id, e.kind, e.stream ?? '', e.program ?? '', channel, Number(e.start).toFixed(3)].join('|');
}

/** Where a stream is, for its tile: one of ok, alarm, stalled, paused, connecting; with a label and its alarms. */
export function streamState(stream, alarms) {
  const status = stream.status ?? {};
  const open = alarms.filter(a => a.event.stream_id === stream.id);
  const kinds = [...new Set(open.map(a => a.event.kind).filter(k => k !== 'stream.stall'))];
  if (stream.paused || status.state === 'paused') return { state: 'paused', label: 'paused', kinds };
  if (status.stalled || open.some(a => a.event.kind === 'stream.stall')) return { state: 'stalled', label: 'stalled', kinds };
  if (kinds.length) return { state: 'alarm', label: `alarm: ${kinds.join(', ')}`, kinds };
  if (status.state === 'running') return { state: 'ok', label: 'ok', kinds };
  return { state: 'connecting', label: status.state === 'reconnecting' ? 'reconnecting' : status.state === 'stopped' ? 'stopped' : 'connecting', kinds };
}

export const stateIcon = { ok: 'ok', alarm: 'alarm', stalled: 'stalled', paused: 'paused', connecting: 'connecting' };

const pad = n => String(n).padStart(2, '0');

/** Local wall-clock time of an RFC 3339 string or a Date: 14:03:07 (with the date when not today). */
export function clock(value) {
  if (!value) return '';
  const d = value instanceof Date ? value : new Date(value);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const today = new Date();
  return d.toDateString() === today.toDateString() ? time : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/** A length in seconds as 4.2 s, 3 m 05 s, 2 h 04 m. */
export function duration(seconds) {
  if (!(seconds >= 0)) return '';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const s = Math.floor(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} m ${pad(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${pad(Math.floor(s / 60) % 60)} m`;
}

/** A defect's details as short text: "channel 1, dark_fraction 1". */
export function details(e) {
  return Object.entries(e.details ?? {}).map(([k, v]) => `${k.replaceAll('_', ' ')} ${v}`).join(', ');
}

/** dB to a 0..1 bar fraction over [floor, 0]. */
export function level(db, floor = -60) {
  if (typeof db !== 'number') return 0;
  return Math.min(1, Math.max(0, (db - floor) / -floor));
}

/** A level as text: "−23.1" (true minus sign), or "—" for none. */
export function dbText(db) {
  return typeof db === 'number' ? db.toFixed(1).replace('-', '\u2212') : '\u2014';
}

/** A value of <input type="datetime-local"> as RFC 3339 UTC; null when empty. */
export function fromLocalInput(value) {
  return value ? new Date(value).toISOString() : null;
}

/** A peak level's zone for its bar: ok, high (above −9 dBFS), over (above −1 dBFS, near clipping). */
export function zone(db) {
  return typeof db !== 'number' ? 'ok' : db > -1 ? 'over' : db > -9 ? 'high' : 'ok';
}
