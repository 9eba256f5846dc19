#!/usr/bin/env bash
# Memory of the flight recorder over time: the sample with its simulated shoppers (three at once, all day) and a
# failing order every 2 s, recorder on at the default 1 ms sampling (the most samples). Every 30 s it prints the
# process's resident memory, the GC heap (dotnet-counters) and what the recorder holds.
#   benchmarks/load/soak.sh [minutes, default 20] [more --key=value settings of the sample, e.g. --TraceProf:Cpu:Sampler=perf]
# Also prints the process's open fds and, with the perf_event sampler, its attached threads and ring bytes.
# The GC heap column needs dotnet-counters (dotnet tool install -g dotnet-counters); without it the column is "?".
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=${1:-20}
more=("${@:2}")
url="http://127.0.0.1:5082"
counters=$(command -v dotnet-counters || echo "$HOME/.dotnet/tools/dotnet-counters")
[[ -x $counters ]] || { echo "dotnet-counters is not installed (dotnet tool install -g dotnet-counters): no GC heap column" >&2; counters=""; }

dotnet build -c Release samples/ShopDemo -v q -nologo >/dev/null
store=$(mktemp -d)
csvdir=$(mktemp -d)
csv="$csvdir/counters.csv"   # dotnet-counters adds .csv to a name without it
dotnet samples/ShopDemo/bin/Release/net10.0/ShopDemo.dll --urls "$url" --TraceProf:Storage:Path="$store" \
  --Logging:LogLevel:Default=Warning "${more[@]}" >/dev/null 2>&1 &
server=$!
trap 'kill $server $failing $collector 2>/dev/null || true; rm -rf "$store" "$csvdir"' EXIT
for _ in $(seq 1 100); do curl -fs "$url/" >/dev/null 2>&1 && break; sleep 0.1; done
collector=""
if [[ -n $counters ]]; then
  "$counters" collect -p "$server" --counters System.Runtime --format csv -o "$csv" --refresh-interval 10 >/dev/null 2>&1 &
  collector=$!
fi
( while true; do curl -s -o /dev/null -X POST "$url/orders?items=50"; sleep 2; done ) &
failing=$!

echo "| elapsed | RSS MB | GC heap MB | fds | retained samples | retained MB | methods | saved | dropped (rate limit) | perf threads | perf ring KB |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
end=$((SECONDS + minutes * 60))
while (( SECONDS < end )); do
  sleep 30
  rss=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$server/status" || true)
  fds=$(ls "/proc/$server/fd" 2>/dev/null | wc -l)
  heap=$(grep 'dotnet.gc.last_collection.heap.size (By)' "$csv" | awk -F, '{t[$1] += $NF; last = $1} END {if (last != "") printf "%.0f", t[last] / 1048576}' || true)
  curl -s -H 'X-Debug-Role: admin' -H 'Accept: application/json' "$url/debug/pprof/" | python3 -c '
import json, sys
r = json.load(sys.stdin)["flightRecorder"]
ring = r.get("perfRingBytes")
print(r["retainedSamples"], round(r["retainedBytes"] / 1048576, 1), r["methods"], r["saved"], r["droppedRateLimited"], r.get("perfThreads") or "-", "-" if ring is None else round(ring / 1024))' |
  { read -r samples mb methods saved dropped threads ring; echo "| $(( SECONDS / 60 )):$(printf %02d $(( SECONDS % 60 ))) | $rss | ${heap:-?} | $fds | $samples | $mb | $methods | $saved | $dropped | $threads | $ring |"; }
done
