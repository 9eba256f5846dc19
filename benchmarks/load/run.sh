#!/usr/bin/env bash
# Request throughput of the sample, side by side in one run: without TraceProf, with TraceProf idle (flight
# recorder off), with the flight recorder on (at the default and the recommended sampling rate), and during an
# on-demand CPU capture. Loopback only, bounded in time. Needs wrk (apt-get install -y wrk).
#   benchmarks/load/run.sh [seconds per measurement, default 15] [rounds, default 3]
# Each round runs every mode once, in an order rotated by one per round (round 2 starts with the second mode), so no
# mode always runs first or last. The table gives each mode's median req/s and its median paired ratio: the mode
# against `off` of the same round, which removes the drift between rounds. `offAgain` is `off` once more (an A/A
# check: its ratio is the run's noise).
# REQUEST_PATH=/trouble/throw?count=1 measures another endpoint (default /orders/quote?items=2).
# EXCEPTIONS_PER_SECOND=1000 holds a paced background stream of thrown-and-caught exceptions during every measurement
# (two wrk connections, each sending a request 10 ms after its last answer to /trouble/throw?count=N/100; wrk alone
# cannot hold a rate, its Lua delay() comes close: about N/s when an answer takes ~10 ms under the measured load, more
# when it is faster) — the same for every mode, and the rate it reached is printed, so the table shows what recording
# them costs the measured endpoint.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-15}
rounds=${2:-3}
port=${PORT:-5080}
url="http://127.0.0.1:$port"
path=${REQUEST_PATH:-/orders/quote?items=2}
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 2; }

dotnet build -c Release samples/ShopDemo -v q -nologo >/dev/null
dll=samples/ShopDemo/bin/Release/net10.0/ShopDemo.dll
store=$(mktemp -d)
paced=$(mktemp --suffix=.lua)
echo 'function delay() return 10 end' >"$paced"
trap 'kill $server 2>/dev/null || true; rm -rf "$store" "$paced" "$paced.out"' EXIT

start() { # $1 = true|false: TraceProf registered; $2 = DOTNET_EventPipeThreadSamplingRate (hex ms) or empty;
          # $3 = flight recorder true|false; $4 = recorder kinds; $5 = TraceProf:Cpu:Sampler (perf|eventpipe); $6… = more --key=value settings
  local more=("${@:6}")
  env ${2:+DOTNET_EventPipeThreadSamplingRate=$2} dotnet "$dll" --urls "$url" --ShopDemo:SimulateShoppers=false --ShopDemo:TraceProf="$1" \
    --TraceProf:FlightRecorder:Enabled="${3:-false}" --TraceProf:FlightRecorder:Kinds="${4:-cpu,contention}" \
    --TraceProf:Cpu:Sampler="${5:-eventpipe}" \
    --TraceProf:Storage:Path="$store" --Logging:LogLevel:Default=Warning "${more[@]}" >/dev/null 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -fs "$url/" >/dev/null 2>&1 && break; sleep 0.1; done
  wrk -t1 -c16 -d8s "$url$path" >/dev/null   # warm-up: JIT, tiered PGO, pools; the same for every mode
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; }
per_request=$(( (${EXCEPTIONS_PER_SECOND:-0} + 99) / 100 ))
measure() {
  local background=""
  if (( per_request > 0 )); then
    wrk -t1 -c2 -d"$((seconds + 1))s" -s "$paced" "$url/trouble/throw?count=$per_request" >"$paced.out" &
    background=$!
  fi
  wrk -t1 -c16 -d"${seconds}s" "$url$path" | awk '/Requests\/sec/ {print $2}'
  if [[ -n $background ]]; then
    wait "$background"
    awk -v n="$per_request" '/Requests\/sec/ {printf "  (paced: %.0f exceptions/s)\n", $2 * n}' "$paced.out" >&2
  fi
}
during_capture() { # a CPU capture runs over the whole measurement
  curl -s -o /dev/null -H 'X-Debug-Role: admin' "$url/debug/profile?seconds=$((seconds + 4))" &
  local capture=$!
  sleep 2
  measure
  wait $capture
}

# mode → "TraceProf sampling-rate recorder capture? recorder-kinds cpu-sampler"; every mode starts a fresh process.
# MODES="off recorderA recorder14" picks some (off must come first: it is the baseline). The EventPipe modes set
# TraceProf:Cpu:Sampler=eventpipe (the default, auto, picks perf where perf_event works); the perf modes set perf.
declare -A modes=(
  [off]="false - false no - eventpipe"
  [offAgain]="false - false no - eventpipe"
  [idle]="true - false no - eventpipe"
  [recorder]="true - true no - eventpipe"
  [recorderA]="true A true no - eventpipe"
  [recorder14]="true 14 true no - eventpipe"
  [recorder32]="true 32 true no - eventpipe"
  [recorder64]="true 64 true no - eventpipe"
  [contentionA]="true A true no contention eventpipe"
  [capture]="true - false yes - eventpipe"
  [captureA]="true A false yes - eventpipe"
  [recorderPerf]="true - true no - perf"
  # issue 15: where perf is unavailable, EventPipe's sampler only after a trigger (here: never fires) — the healthy cost.
  [recorderArmed]="true - true no cpu,contention,exceptions eventpipe --TraceProf:FlightRecorder:EventPipeCpu=armed --TraceProf:FlightRecorder:OnThreadPoolStarvation=false"
  [capturePerf]="true - false yes - perf"
  # the perf recorder's cost split: CPU alone (perf events plus the light session for method names), no contention,
  # no thread-pool events
  [perfCpuOnly]="true - true no cpu perf --TraceProf:FlightRecorder:OnThreadPoolStarvation=false"
  # issues 14 and 19: the default kinds since then (cpu,contention,exceptions), with and without waits, exceptions,
  # the thread-pool events and the runtime triggers (set, never firing).
  [kinds19A]="true A true no cpu,contention,exceptions eventpipe --TraceProf:FlightRecorder:OnThreadPoolStarvation=false"
  [noexcA]="true A true no cpu,contention eventpipe --TraceProf:FlightRecorder:OnThreadPoolStarvation=false"
  [waitsA]="true A true no cpu,contention,exceptions,waits eventpipe --TraceProf:FlightRecorder:OnThreadPoolStarvation=false"
  [poolA]="true A true no cpu,contention,exceptions eventpipe --TraceProf:FlightRecorder:OnThreadPoolStarvation=true"
  [triggersA]="true A true no cpu,contention,exceptions eventpipe --TraceProf:FlightRecorder:OnThreadPoolStarvation=false --TraceProf:FlightRecorder:Triggers:CpuPercent=100 --TraceProf:FlightRecorder:Triggers:GcPausePercent=100 --TraceProf:FlightRecorder:Triggers:ThreadPoolQueueLength=10000000"
)
read -r -a order <<<"${MODES:-off idle recorder recorderA capture captureA}"
declare -A total
for round in $(seq 1 "$rounds"); do
  line="round $round:"
  n=${#order[@]}
  rotated=()
  for i in $(seq 0 $((n - 1))); do rotated+=("${order[$(( (i + round - 1) % n ))]}"); done
  for mode in "${rotated[@]}"; do
    read -r traceprof rate recorder capture kinds sampler more <<<"${modes[$mode]}"
    [[ $rate == - ]] && rate=""
    [[ $kinds == - ]] && kinds=""
    read -r -a more <<<"${more:-}"
    start "$traceprof" "$rate" "$recorder" "$kinds" "$sampler" "${more[@]}"
    if [[ $capture == yes ]]; then r=$(during_capture); else r=$(measure); fi
    stop
    total[$mode]="${total[$mode]:-} $r"
    line="$line $mode $r"
  done
  echo "$line req/s" >&2
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
declare -A label=(
  [idle]="TraceProf, flight recorder off (idle)"
  [recorder]="flight recorder on (default 1 ms sampling)"
  [recorderA]="flight recorder on (DOTNET_EventPipeThreadSamplingRate=A, 10 ms)"
  [recorder14]="flight recorder on (DOTNET_EventPipeThreadSamplingRate=14, 20 ms)"
  [recorder32]="flight recorder on (DOTNET_EventPipeThreadSamplingRate=32, 50 ms)"
  [recorder64]="flight recorder on (DOTNET_EventPipeThreadSamplingRate=64, 100 ms)"
  [contentionA]="flight recorder on, contention only (no sampler)"
  [capture]="during a CPU capture, recorder off (default 1 ms sampling)"
  [captureA]="during a CPU capture, recorder off (DOTNET_EventPipeThreadSamplingRate=A, 10 ms)"
  [kinds19A]="recorder A, cpu,contention,exceptions (the default kinds)"
  [noexcA]="recorder A, cpu,contention (no exceptions)"
  [waitsA]="recorder A, cpu,contention,exceptions,waits"
  [poolA]="recorder A, default kinds + thread-pool events (starvation trigger on)"
  [triggersA]="recorder A, default kinds + runtime triggers set (MeterListener, never firing)"
  [recorderPerf]="flight recorder on, CPU by perf_event (100 Hz of CPU per thread)"
  [recorderArmed]="recorder, default kinds, EventPipe CPU armed by triggers (none fired: healthy cost)"
  [capturePerf]="during a CPU capture by perf_event (100 Hz of CPU), recorder off"
  [offAgain]="without TraceProf, again (A/A: the run's noise)"
  [perfCpuOnly]="flight recorder on, CPU by perf_event only (no contention, no thread-pool events)"
)
off=$(echo "${total[off]}" | median)
echo "| mode | req/s (median of $rounds × ${seconds}s) | vs without | paired: median of the rounds' ratios to without |"
echo "|---|---:|---:|---:|"
echo "| without TraceProf | $off | — | — |"
for mode in "${order[@]}"; do
  [[ $mode == off ]] && continue
  m=$(echo "${total[$mode]}" | median)
  # the rounds' ratios to off, in round order (total[] holds each mode's results in round order)
  p=$(paste <(echo "${total[$mode]}" | tr ' ' '\n' | grep -v '^$') <(echo "${total[off]}" | tr ' ' '\n' | grep -v '^$') \
    | awk '{printf "%s ", ($1 / $2 - 1) * 100}' | median)
  awk -v o="$off" -v m="$m" -v p="$p" -v l="${label[$mode]}" 'BEGIN { printf "| %s | %s | %+.1f %% | %+.1f %% |\n", l, m, (m - o) * 100 / o, p }'
done
