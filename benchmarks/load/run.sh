#!/usr/bin/env bash
# Request throughput of the sample, side by side in one run: without TraceProf, with TraceProf idle, and during a
# CPU capture. Loopback only, bounded in time. Needs wrk (apt-get install -y wrk).
#   benchmarks/load/run.sh [seconds per measurement, default 15] [rounds, default 3]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-15}
rounds=${2:-3}
port=5080
url="http://127.0.0.1:$port"
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 2; }

dotnet build -c Release samples/ShopDemo -v q -nologo >/dev/null
dll=samples/ShopDemo/bin/Release/net10.0/ShopDemo.dll
store=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$store"' EXIT

start() { # $1 = true|false: TraceProf registered; $2 = DOTNET_EventPipeThreadSamplingRate (hex ms) or empty
  env ${2:+DOTNET_EventPipeThreadSamplingRate=$2} dotnet "$dll" --urls "$url" --ShopDemo:SimulateShoppers=false --ShopDemo:TraceProf="$1" \
    --TraceProf:Storage:Path="$store" --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -fs "$url/" >/dev/null 2>&1 && break; sleep 0.1; done
  wrk -t1 -c16 -d8s "$url/orders/quote?items=2" >/dev/null   # warm-up: JIT, tiered PGO, pools; the same for every mode
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; }
measure() { wrk -t1 -c16 -d"${seconds}s" "$url/orders/quote?items=2" | awk '/Requests\/sec/ {print $2}'; }

declare -A total
for round in $(seq 1 "$rounds"); do
  start false; r=$(measure); stop; total[off]="${total[off]:-} $r"
  start true;  r=$(measure); stop; total[idle]="${total[idle]:-} $r"
  start true
  curl -s -o /dev/null -H 'X-Debug-Role: admin' "$url/debug/profile?seconds=$((seconds + 4))" &
  capture=$!
  sleep 2
  r=$(measure); wait $capture; stop; total[capture]="${total[capture]:-} $r"
  start true A   # the recommended setting: sample every 10 ms (hexadecimal A)
  curl -s -o /dev/null -H 'X-Debug-Role: admin' "$url/debug/profile?seconds=$((seconds + 4))" &
  capture=$!
  sleep 2
  r=$(measure); wait $capture; stop; total[capture10]="${total[capture10]:-} $r"
  echo "round $round: off ${total[off]##* }  idle ${total[idle]##* }  capture ${total[capture]##* }  capture@10ms ${total[capture10]##* } req/s" >&2
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
off=$(echo "${total[off]}" | median); idle=$(echo "${total[idle]}" | median); capture=$(echo "${total[capture]}" | median)
capture10=$(echo "${total[capture10]}" | median)
echo "| mode | req/s (median of $rounds × ${seconds}s) | vs without |"
echo "|---|---:|---:|"
echo "| without TraceProf | $off | — |"
awk -v o="$off" -v i="$idle" -v c="$capture" -v d="$capture10" 'BEGIN {
  printf "| TraceProf idle | %s | %+.1f %% |\n", i, (i - o) * 100 / o;
  printf "| during a CPU capture (default 1 ms sampling) | %s | %+.1f %% |\n", c, (c - o) * 100 / o;
  printf "| during a CPU capture (DOTNET_EventPipeThreadSamplingRate=A, 10 ms) | %s | %+.1f %% |\n", d, (d - o) * 100 / o }'
