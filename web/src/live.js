// What every view shares: the streams with their status (polled every second), the open alarms (read
// once, then kept current by the live feed; acknowledgements re-read every few seconds) and what the
// key may do. Views listen for 'streams', 'alarms' and 'event' on `live`.
import { access, api, liveEvents } from './api.js';
import { defectKey } from './format.js';

class Live extends EventTarget {
  streams = [];
  /** Open alarms by defect identity: { event (its defect_start), ack }. */
  alarms = new Map();
  access = 'none';
  openReads = false;
  feed = 'connecting';
  #abort = null;
  #timers = [];

  get admin() { return this.access === 'admin'; }

  /** Starts (or restarts, after the key changed) polling and the live feed. */
  async start() {
    this.stop();
    const controller = new AbortController();
    this.#abort = controller;
    const who = await access();
    this.access = who.access;
    this.openReads = who.open_reads;
    this.keyRejected = who.key_rejected;
    this.dispatchEvent(new Event('access'));
    if (this.access === 'none') return;
    await Promise.all([this.refreshStreams(), this.#loadAlarms(controller.signal)]);
    this.#timers.push(setInterval(() => this.refreshStreams().catch(() => {}), 1000));
    this.#timers.push(setInterval(() => this.refreshAcks().catch(() => {}), 5000));
  }

  stop() {
    this.#abort?.abort();
    this.#timers.forEach(clearInterval);
    this.#timers = [];
  }

  stream(id) { return this.streams.find(s => s.id === id); }

  alarmsOf(id) { return [...this.alarms.values()].filter(a => a.event.stream_id === id); }

  async refreshStreams() {
    if (document.hidden && this.streams.length) return; // a background tab costs nothing
    this.streams = await api('/api/streams');
    this.dispatchEvent(new Event('streams'));
  }

  async #loadAlarms(signal) {
    const { last_event_id: after, alarms } = await api('/api/alarms', { signal });
    this.alarms = new Map(alarms.map(a => [defectKey(a.event), { ...a }]));
    this.dispatchEvent(new Event('alarms'));
    liveEvents({
      after,
      signal,
      onState: state => { this.feed = state; this.dispatchEvent(new Event('feed')); },
      onEvent: (type, data) => this.#onEvent(type, data),
    });
  }

  #onEvent(type, event) {
    const key = defectKey(event);
    if (type === 'defect_start') this.alarms.set(key, { event, ack: this.alarms.get(key)?.ack ?? null });
    else if (type === 'defect') this.alarms.delete(key);
    else return;
    this.dispatchEvent(new CustomEvent('event', { detail: { type, event } }));
    this.dispatchEvent(new Event('alarms'));
  }

  /** Re-reads the open alarms' acknowledgements (another operator may have acknowledged one). */
  async refreshAcks() {
    if (document.hidden) return;
    const { alarms } = await api('/api/alarms');
    let changed = false;
    for (const a of alarms) {
      const mine = this.alarms.get(defectKey(a.event));
      if (mine && JSON.stringify(mine.ack) !== JSON.stringify(a.ack)) { mine.ack = a.ack; changed = true; }
    }
    if (changed) this.dispatchEvent(new Event('alarms'));
  }

  /** Acknowledges an open alarm as `by`; the store keeps who and when. */
  async acknowledge(alarm, by) {
    const result = await api(`/api/alarms/${alarm.event.id}/ack`, { method: 'POST', body: { by } });
    const mine = this.alarms.get(defectKey(alarm.event));
    if (mine) mine.ack = result.ack;
    this.dispatchEvent(new Event('alarms'));
    return result.ack;
  }
}

export const live = new Live();
