#!/usr/bin/env bash
# Memory of the flight recorder over time: the sample with its simulated shoppers (three at once, all day) and a
# failing order every 2 s, recorder on at the default 1 ms sampling (the most samples). Every 30 s it prints the
# process's resident memory, the GC heap (dotnet-counters) and what the recorder holds.
#   benchmarks/load/soak.sh [minutes, default 20]
# Needs dotnet-counters (dotnet tool install -g dotnet-counters).
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=${1:-20}
url="http://127.0.0.1:5082"
counters=$(command -v dotnet-counters || echo "$HOME/.dotnet/tools/dotnet-counters")
[[ -x $counters ]] || { echo "dotnet-counters is not installed: dotnet tool install -g dotnet-counters" >&2; exit 2; }

dotnet build -c Release samples/ShopDemo -v q -nologo >/dev/null
store=$(mktemp -d)
csvdir=$(mktemp -d)
csv="$csvdir/counters.csv"   # dotnet-counters adds .csv to a name without it
dotnet samples/ShopDemo/bin/Release/net10.0/ShopDemo.dll --urls "$url" --TraceProf:Storage:Path="$store" \
  --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
server=$!
trap 'kill $server $failing $collector 2>/dev/null || true; rm -rf "$store" "$csvdir"' EXIT
for _ in $(seq 1 100); do curl -fs "$url/" >/dev/null 2>&1 && break; sleep 0.1; done
"$counters" collect -p "$server" --counters System.Runtime --format csv -o "$csv" --refresh-interval 10 >/dev/null 2>&1 &
collector=$!
( while true; do curl -s -o /dev/null -X POST "$url/orders?items=50"; sleep 2; done ) &
failing=$!

echo "| elapsed | RSS MB | GC heap MB | retained samples | retained MB | methods | saved | dropped (rate limit) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
end=$((SECONDS + minutes * 60))
while (( SECONDS < end )); do
  sleep 30
  rss=$(awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$server/status" || true)
  heap=$(grep 'dotnet.gc.last_collection.heap.size (By)' "$csv" | awk -F, '{t[$1] += $NF; last = $1} END {if (last != "") printf "%.0f", t[last] / 1048576}' || true)
  curl -s -H 'X-Debug-Role: admin' -H 'Accept: application/json' "$url/debug/pprof/" | python3 -c '
import json, sys
r = json.load(sys.stdin)["flightRecorder"]
print(r["retainedSamples"], round(r["retainedBytes"] / 1048576, 1), r["methods"], r["saved"], r["droppedRateLimited"])' |
  { read -r samples mb methods saved dropped; echo "| $(( SECONDS / 60 )):$(printf %02d $(( SECONDS % 60 ))) | $rss | ${heap:-?} | $samples | $mb | $methods | $saved | $dropped |"; }
done
