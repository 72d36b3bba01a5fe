// Live thumbnails: each watched <img> is refreshed every `interval` ms while it is on screen
// (IntersectionObserver) and the tab is visible, a few requests at a time. The service encodes at most
// one JPEG per stream per second and answers an unchanged picture with 304, so the bytes per second
// are bounded by the tiles on screen, whatever the wall's size. `stats` counts what came in.
import { authHeaders } from './api.js';

export class ThumbnailFeed {
  stats = { requests: 0, bytes: 0, pictures: 0 };
  #entries = new Map(); // img → { id, visible, due, etag, url, busy }
  #observer;
  #timer;
  #inFlight = 0;

  constructor({ interval = 1500, concurrency = 4, onPicture } = {}) {
    this.interval = interval;
    this.concurrency = concurrency; // the browser has 6 connections per host; the live feed holds one
    this.onPicture = onPicture;
    this.#observer = new IntersectionObserver(entries => {
      for (const e of entries) {
        const entry = this.#entries.get(e.target);
        if (entry) entry.visible = e.isIntersecting;
      }
      this.#pump();
    }, { rootMargin: '64px' });
    this.#timer = setInterval(() => this.#pump(), 200);
  }

  watch(img, streamId) {
    if (this.#entries.has(img)) return;
    this.#entries.set(img, { id: streamId, visible: false, due: 0, etag: null, url: null, busy: false });
    this.#observer.observe(img);
  }

  unwatch(img) {
    const entry = this.#entries.get(img);
    if (!entry) return;
    this.#observer.unobserve(img);
    if (entry.url) URL.revokeObjectURL(entry.url);
    this.#entries.delete(img);
  }

  /** Fetch this one now (e.g. a new stream's first picture). */
  hurry(img) {
    const entry = this.#entries.get(img);
    if (entry) entry.due = 0;
    this.#pump();
  }

  close() {
    clearInterval(this.#timer);
    this.#observer.disconnect();
    for (const img of [...this.#entries.keys()]) this.unwatch(img);
  }

  #pump() {
    if (document.hidden) return;
    const now = performance.now();
    const due = [...this.#entries].filter(([, e]) => e.visible && !e.busy && e.due <= now).sort((a, b) => a[1].due - b[1].due);
    for (const [img, entry] of due) {
      if (this.#inFlight >= this.concurrency) break;
      this.#fetch(img, entry);
    }
  }

  async #fetch(img, entry) {
    entry.busy = true;
    entry.due = performance.now() + this.interval;
    this.#inFlight++;
    try {
      // no-cache: the browser revalidates with If-None-Match, and an unchanged picture costs a 304
      const res = await fetch(`/api/streams/${encodeURIComponent(entry.id)}/thumbnail`, { headers: authHeaders(), cache: 'no-cache' });
      this.stats.requests++;
      if (res.status === 204 || !res.ok) {
        await res.body?.cancel();
        if (res.status === 204) this.#show(img, entry, null);
        return;
      }
      const etag = res.headers.get('ETag');
      if (etag && etag === entry.etag) { await res.body?.cancel(); return; }
      const blob = await res.blob();
      this.stats.bytes += blob.size;
      this.stats.pictures++;
      if (!this.#entries.has(img)) return;
      entry.etag = etag;
      this.#show(img, entry, URL.createObjectURL(blob));
    } catch {
      // the service restarting or the page leaving: the next round tries again
    } finally {
      entry.busy = false;
      this.#inFlight--;
    }
  }

  #show(img, entry, url) {
    const previous = entry.url;
    entry.url = url;
    if (url) {
      img.src = url;
      img.decode().catch(() => {}).finally(() => previous && URL.revokeObjectURL(previous));
    } else {
      img.removeAttribute('src');
      if (previous) URL.revokeObjectURL(previous);
      entry.etag = null;
    }
    this.onPicture?.(img, !!url);
  }
}
