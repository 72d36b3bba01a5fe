// State icons (inline SVG, constant markup): state is shown by icon and text, never by colour alone.
const paths = {
  ok: '<path d="M3.5 8.5l3 3 6-7" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/>',
  alarm: '<path d="M8 1.5l7 13H1z" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round"/><path d="M8 6v4M8 12v.5" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/>',
  stalled: '<rect x="2" y="2" width="12" height="12" rx="2" fill="none" stroke="currentColor" stroke-width="1.6"/><path d="M5 8h6" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>',
  paused: '<path d="M5 3v10M11 3v10" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/>',
  connecting: '<path d="M8 2a6 6 0 1 1-6 6" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/><path d="M8 5v3l2 1.5" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/>',
  key: '<circle cx="5" cy="8" r="3" fill="none" stroke="currentColor" stroke-width="1.6"/><path d="M8 8h7M12 8v3M14.5 8v2" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/>',
  ack: '<path d="M2 8.5l3 3 5-6M8 11.5l1 0 5-6" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"/>',
};

/** An <svg> icon element, hidden from screen readers (the text beside it says the same). */
export function icon(name) {
  const span = document.createElement('span');
  span.className = `icon icon-${name}`;
  span.setAttribute('aria-hidden', 'true');
  span.innerHTML = `<svg viewBox="0 0 16 16" width="16" height="16" focusable="false">${paths[name] ?? paths.connecting}</svg>`;
  return span;
}
