#!/usr/bin/env bash
# A three-node Vigil fleet on this machine: a private PostgreSQL (initdb into a temporary folder, 127.0.0.1
# only), nodes of roles video, audio+av.sync and video, and three live test streams broadcast on loopback
# (127.255.255.255: every node that opens one gets its own copy; nothing leaves the machine).
# Ctrl-C stops everything and removes the temporary folder. Options: DEMO_SECONDS=N ends it by itself.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/test-setup.sh" # PostgreSQL's server programs (and what the tests use)
"$root/vigil" --help >/dev/null # builds on first use

work="$(mktemp -d /tmp/vigil-fleet-XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -d "$work/pg" ]] && $as_pg "$pgbin/pg_ctl" -D "$work/pg" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
as_pg=""
if [[ $(id -u) -eq 0 ]]; then chown postgres "$work"; as_pg="runuser -u postgres --"; fi
pgport=$((20000 + RANDOM % 20000))
$as_pg "$pgbin/initdb" -D "$work/pg" -U vigil -A trust --no-instructions >/dev/null
$as_pg "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w -o "-p $pgport -k $work -c listen_addresses=127.0.0.1" start >/dev/null
pg="Host=127.0.0.1;Port=$pgport;Username=vigil;Database=postgres"
echo "PostgreSQL on 127.0.0.1:$pgport (data in $work/pg)"

key="fleet-demo-key"
# every node seals webhook secrets with one key (a node with another key refuses to join the store)
(umask 077; head -c 32 /dev/urandom | base64 >"$work/secret-key")
node() { # name http-port cluster-port role
  VIGIL_APIKEYS__0="$key" VIGIL_SECRETKEYFILE="$work/secret-key" VIGIL_LOGGING__LOGLEVEL__DEFAULT=Warning \
    "$root/vigil" serve --urls "http://127.0.0.1:$2" --data "$work/$1" --cluster-postgres "$pg" --role "$4" \
    --cluster-port "$3" --seed 127.0.0.1:4101 --node-name "$1" >"$work/$1.log" 2>&1 &
  pids+=($!)
}
node video-1 8101 4101 video
sleep 3 # the first seed forms the cluster; the others join it
node audio-1 8102 4102 audio+av.sync
node video-2 8103 4103 video
for port in 8101 8102 8103; do
  until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 1; done
done
echo "nodes up: video-1 :8101, audio-1 :8102, video-2 :8103 (API key $key)"

for i in 1 2 3; do
  udp=$((30000 + i))
  ffmpeg -hide_banner -loglevel error -re -f lavfi -i "testsrc2=s=640x360:r=25,drawbox=c=black:t=fill:enable='between(mod(t,20),5,8)'" \
    -re -f lavfi -i "sine=f=440:r=48000,volume=0:enable='between(mod(t,20),12,15)'" -c:v libx264 -preset ultrafast -g 25 -pix_fmt yuv420p \
    -c:a aac -f mpegts "udp://127.255.255.255:$udp?pkt_size=1316&broadcast=1" </dev/null >"$work/sender-$i.log" 2>&1 &
  pids+=($!)
  curl -sf -X POST "http://127.0.0.1:8101/api/streams" -H "X-Api-Key: $key" -H 'Content-Type: application/json' \
    -d "{\"id\":\"cam-$i\",\"url\":\"udp://127.0.0.1:$udp?reuse=1\",\"detectors\":[\"video.black\",\"video.freeze\",\"audio.silence\",\"av.sync\"]}" >/dev/null
done
sleep 8
echo; echo "where each (stream, detector group) runs (GET /api/fleet on any node):"
curl -s "http://127.0.0.1:8102/api/fleet" -H "X-Api-Key: $key"; echo
echo; echo "live events of the whole fleet from one node: curl -N -H 'X-Api-Key: $key' http://127.0.0.1:8102/api/events/live"
echo "kill -9 a video node to watch its pipelines move: kill -9 ${pids[2]}   (video-2)"
if [[ -n "${DEMO_SECONDS:-}" ]]; then
  curl -sN -m "$DEMO_SECONDS" "http://127.0.0.1:8102/api/events/live" -H "X-Api-Key: $key" || true
else
  echo "Ctrl-C to stop."
  curl -sN "http://127.0.0.1:8102/api/events/live" -H "X-Api-Key: $key" || true
fi
