#!/usr/bin/env bash
# CPU cost of av.sync within a full analysis: the same clip analysed with the other detectors, then
# with av.sync added; one decode thread; runs alternate and the minimum CPU (user+sys) of each is kept,
# since the machine is shared. Usage: scripts/bench-avsync.sh [CLIP] [RUNS]
# Without CLIP, generates a 60 s 1280×720 30 fps H.264/AAC clip with moving content, pink noise and
# irregular flash+beep events (so the correlation runs on every window).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
clip="${1:-}"
runs="${2:-5}"
if [[ -z "$clip" ]]; then
  clip="${TMPDIR:-/tmp}/vigil-bench-avsync-720p.mp4"
  if [[ ! -f "$clip" ]]; then
    frames="" beeps="" t=0.6 i=0
    gaps=(0.92 1.28 0.76 1.12 1.40 0.84 1.04 1.24 0.80 1.16)
    while (( $(echo "$t < 59.4" | bc) )); do
      n=$(printf '%.0f' "$(echo "$t * 30" | bc -l)")
      frames+="${frames:++}eq(n\\,$n)"
      beeps+="${beeps:++}between(t\\,$(echo "$n / 30" | bc -l)\\,$(echo "($n + 1) / 30 - 0.0001" | bc -l))"
      t=$(echo "$t + ${gaps[i % 10]}" | bc); i=$((i + 1))
    done
    ffmpeg -y -v error -f lavfi -i testsrc2=s=1280x720:r=30:d=60 \
      -f lavfi -i "aevalsrc='0.4*sin(2*PI*1000*t)*($beeps)':s=48000:d=60" \
      -f lavfi -i "anoisesrc=c=pink:a=0.05:r=48000:d=60:seed=5" \
      -filter_complex "[0:v]drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='$frames'[v];[1:a][2:a]amix=inputs=2,aformat=channel_layouts=stereo[a]" \
      -map "[v]" -map "[a]" -c:v libx264 -preset veryfast -pix_fmt yuv420p -g 60 -c:a aac -b:a 128k "$clip"
  fi
fi
"$root/vigil" detectors >/dev/null # builds .vigil/bin if needed
base="video.black,video.freeze,audio.silence"
declare -A best
for ((r = 0; r < runs; r++)); do
  for sel in "$base" "$base,av.sync"; do
    /usr/bin/time -f "%U %S" -o "$root/.vigil/bench-time" dotnet "$root/.vigil/bin/vigil.dll" analyze "$clip" --json --decode-threads 1 --detectors "$sel" >/dev/null
    cpu=$(awk '{print $1 + $2}' "$root/.vigil/bench-time")
    echo "run $r  $sel  cpu ${cpu}s" >&2
    if [[ -z "${best[$sel]:-}" ]] || (( $(echo "$cpu < ${best[$sel]}" | bc) )); then best[$sel]=$cpu; fi
  done
done
without=${best[$base]} with=${best[$base,av.sync]}
echo "min CPU without av.sync: ${without}s, with: ${with}s, added: $(echo "scale=2; 100 * ($with - $without) / $without" | bc) %"
