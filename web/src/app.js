// The dashboard's shell: the key dialog, navigation between the views (#/, #/alarms, #/stream/ID,
// #/manage), announcements for screen readers, and the live state every view shares.
import { session } from './api.js';
import { h, replace, setText } from './dom.js';
import { announce, askKey, notify } from './ui.js';
import { icon } from './icons.js';
import { live } from './live.js';
import { mosaic } from './views/mosaic.js';
import { alarms } from './views/alarms.js';
import { streamPage } from './views/stream.js';
import { manage } from './views/manage.js';

const main = document.getElementById('main');
const who = document.getElementById('who');
const feedState = document.getElementById('feed');
const alarmCount = document.getElementById('alarm-count');
let leave = null;

async function start() {
  try {
    await live.start();
  } catch (err) {
    notify(`The service does not answer: ${err.message}`, true);
    setTimeout(start, 3000);
    return;
  }
  if (live.access === 'none') {
    const taken = await askKey(live.keyRejected ? 'That key is not one of this service\u2019s keys.' : 'Enter an API key (a read key to watch, an admin key to change things).');
    if (taken) return start();
  }
  route();
}

function route() {
  leave?.();
  leave = null;
  main.replaceChildren();
  const [, view, id] = location.hash.match(/^#\/([a-z]*)\/?(.*)$/) ?? [];
  for (const link of document.querySelectorAll('nav a')) link.toggleAttribute('aria-current', link.dataset.view === (view || 'mosaic'));
  if (live.access === 'none') {
    main.append(h('p.empty', {}, 'No key: ', h('button', { type: 'button', onclick: () => askKey().then(t => t && start()) }, 'enter a key'), '.'));
    return;
  }
  if (view === 'stream' && id) leave = streamPage(main, decodeURIComponent(id));
  else if (view === 'alarms') leave = alarms(main);
  else if (view === 'manage') leave = manage(main);
  else leave = mosaic(main);
  main.focus({ preventScroll: true });
}

live.addEventListener('access', () => {
  const level = live.access === 'admin' ? 'admin' : live.access === 'read' ? (session.key ? 'read-only' : 'read-only, no key') : 'no key';
  replace(who, icon('key'), level);
  document.body.dataset.access = live.access;
});
live.addEventListener('feed', () => {
  setText(feedState, live.feed === 'open' ? 'live' : live.feed === 'refused' ? 'live feed refused' : 'reconnecting\u2026');
  feedState.dataset.state = live.feed;
});
live.addEventListener('alarms', () => setText(alarmCount, String(live.alarms.size)));
live.addEventListener('event', e => {
  const { type, event } = e.detail;
  const name = live.stream(event.stream_id)?.name ?? event.stream_id;
  announce(type === 'defect_start' ? `Alarm on ${name}: ${event.kind}` : `${event.kind} on ${name} ended`);
});

document.getElementById('change-key').addEventListener('click', async () => {
  if (await askKey()) start();
});
window.addEventListener('hashchange', route);
start();
