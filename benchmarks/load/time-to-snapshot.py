#!/usr/bin/env python3
"""Time from a failed response to its flight-recorder snapshot being queryable, on the sample app.

Starts samples/ShopDemo (Release) with simulated shoppers, sends failing orders one at a time
(POST /orders?items=50 -> 500), and polls GET /debug/snapshots?traceId=<its trace id> every 20 ms until the
snapshot is listed. Prints p50/p95/max per sampling rate.

  benchmarks/load/time-to-snapshot.py [requests per rate, default 40]
"""
import json, os, statistics, subprocess, sys, tempfile, time, urllib.request, urllib.error

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
URL = "http://127.0.0.1:5081"
COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 40


def request(method, path, headers=None):
    req = urllib.request.Request(URL + path, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def run(rate):
    store = tempfile.mkdtemp(prefix="traceprof-tts-")
    env = dict(os.environ)
    if rate:
        env["DOTNET_EventPipeThreadSamplingRate"] = rate
    dll = os.path.join(ROOT, "samples/ShopDemo/bin/Release/net10.0/ShopDemo.dll")
    server = subprocess.Popen(
        ["dotnet", dll, "--urls", URL, f"--TraceProf:Storage:Path={store}",
         "--TraceProf:FlightRecorder:MaxSnapshotsPerMinute=600", "--Logging:LogLevel:Default=Warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                _, _, body = request("GET", "/debug/pprof/", {"X-Debug-Role": "admin", "Accept": "application/json"})
                if json.loads(body)["flightRecorder"]["running"]:
                    break
            except (urllib.error.URLError, ConnectionError, ValueError, KeyError):
                pass
            time.sleep(0.2)
        time.sleep(3)  # let the shoppers warm the process up
        delays = []
        for i in range(COUNT):
            status, headers, _ = request("POST", "/orders?items=50")
            ended = time.monotonic()
            assert status == 500, status
            trace = headers["traceparent"].split("-")[1]
            while True:
                _, _, body = request("GET", f"/debug/snapshots?traceId={trace}&kind=cpu", {"X-Debug-Role": "admin"})
                if json.loads(body)["count"] > 0:
                    delays.append((time.monotonic() - ended) * 1000)
                    break
                if time.monotonic() - ended > 30:
                    delays.append(float("inf"))
                    break
                time.sleep(0.02)
            time.sleep(0.5)
        delays.sort()
        p95 = delays[max(0, int(round(0.95 * len(delays))) - 1)]
        print(f"| {rate or 'default (1 ms)'} | {len(delays)} | {statistics.median(delays):.0f} ms | {p95:.0f} ms | {delays[-1]:.0f} ms |")
    finally:
        server.terminate()
        server.wait()


subprocess.run(["dotnet", "build", "-c", "Release", os.path.join(ROOT, "samples/ShopDemo"), "-v", "q", "-nologo"],
               check=True, stdout=subprocess.DEVNULL)
print("| DOTNET_EventPipeThreadSamplingRate | failed requests | p50 | p95 | max |")
print("|---|---:|---:|---:|---:|")
for rate in ["", "A"]:
    run(rate)
