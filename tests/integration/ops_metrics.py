#!/usr/bin/env python3
"""GET /metrics and /health from a running rcfd: the Prometheus text parses, the counters match
what was fed (records read, scored, dead-lettered by reason, written, alerts raised), the per-output in-flight
gauges drain to 0, the per-output latency histograms are well formed and count every accepted
record, /health is 200 while running, unknown paths are 404, and SIGTERM still exits 0 with the
listener open.
usage: ops_metrics.py RCFD"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

rcfd = sys.argv[1]
work = tempfile.mkdtemp(prefix="rcfd-metrics.")
log_path = os.path.join(work, "rcfd.log")
conf = {
    "runtime": {"admin_listen": "127.0.0.1:0"},
    "sources": [{"name": "in", "type": "file", "path": "-", "format": "json"}],
    "outputs": [{"name": "out", "type": "file", "path": os.path.join(work, "out.jsonl")},
                {"name": "dead", "type": "file", "path": os.path.join(work, "dead.jsonl")}],
    "pipelines": [{"name": "p", "source": "in", "fields": ["v"], "key": "k",
                   "outputs": ["out"], "dead_letter": "dead",
                   "models": [{"type": "rcf", "number_of_trees": 10}]}],
}
conf_path = os.path.join(work, "rcfd.json")
with open(conf_path, "w") as f:
    json.dump(conf, f)
proc = subprocess.Popen([rcfd, "-c", conf_path], stdin=subprocess.PIPE, stderr=open(log_path, "w"))


def fail(msg):
    proc.kill()
    print("FAIL:", msg, "\n" + open(log_path).read())
    sys.exit(1)


port = None
for _ in range(100):
    m = re.search(r"admin listener on [^:]+:(\d+)", open(log_path).read())
    if m:
        port = int(m.group(1))
        break
    time.sleep(0.05)
if port is None:
    fail("no 'admin listener on' line in the log")
base = "http://127.0.0.1:%d" % port


def get(path):
    try:
        with urllib.request.urlopen(base + path, timeout=5) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def scrape():
    status, ctype, body = get("/metrics")
    if status != 200 or not ctype.startswith("text/plain; version=0.0.4"):
        fail("/metrics answered %d %r" % (status, ctype))
    values, types = {}, {}
    for line in body.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
        elif line and not line.startswith("#"):
            m = re.fullmatch(r'([a-z_]+)(\{[^}]*\})? (\S+)', line)
            if not m:
                fail("unparseable metrics line %r" % line)
            values[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return values, types


# 200 good records over 4 keys, 5 with a non-numeric field and 3 that are not JSON.
for i in range(200):
    proc.stdin.write(b'{"k": "k%d", "v": %d}\n' % (i % 4, i % 9))
for i in range(5):
    proc.stdin.write(b'{"k": "k0", "v": "not a number"}\n')
for i in range(3):
    proc.stdin.write(b'{"k": "k0", "v": \n')
proc.stdin.flush()
deadline = time.time() + 20
while True:
    values, types = scrape()
    if (values.get('rcfd_output_records_total{output="out"}') == 200 and
            values.get('rcfd_output_records_total{output="dead"}') == 8):
        break
    if time.time() > deadline:
        fail("out never reached 200 records and dead 8: %r" % values)
    time.sleep(0.1)
want = {
    'rcfd_records_read_total{source="in"}': 208,
    'rcfd_records_scored_total{pipeline="p"}': 200,
    'rcfd_records_dead_total{pipeline="p",reason="malformed"}': 3,
    'rcfd_records_dead_total{pipeline="p",reason="field"}': 5,
    'rcfd_records_dead_total{pipeline="p",reason="model"}': 0,
    'rcfd_models{pipeline="p"}': 4,
    'rcfd_output_records_total{output="out"}': 200,
    'rcfd_output_inflight_records{output="out"}': 0,
    'rcfd_output_inflight_records{output="dead"}': 0,
    'rcfd_output_inflight_bytes{output="out"}': 0,
    'rcfd_inflight_records': 0,
}
for k, v in want.items():
    if values.get(k) != v:
        fail("%s = %r, expected %r" % (k, values.get(k), v))
if types.get("rcfd_records_read_total") != "counter" or types.get("rcfd_models") != "gauge":
    fail("wrong TYPE lines: %r" % types)
if types.get("rcfd_output_inflight_records") != "gauge":
    fail("rcfd_output_inflight_records is not a gauge: %r" % types)
# The latency histogram: cumulative buckets from 0.5 ms to 30 s, +Inf equal to _count, which
# equals the records the output accepted; the sum is positive and below count * the last bound.
if types.get("rcfd_output_latency_seconds") != "histogram":
    fail("rcfd_output_latency_seconds is not a histogram: %r" % types)
for out, n in (("out", 200), ("dead", 8)):
    name = "rcfd_output_latency_seconds"
    buckets = []
    for k, v in values.items():
        m = re.fullmatch(name + r'_bucket\{output="%s",le="([^"]+)"\}' % out, k)
        if m:
            buckets.append((float(m.group(1)), v))
    buckets.sort()
    if len(buckets) < 10 or buckets[0][0] > 0.001 or buckets[-2][0] < 30 or \
            buckets[-1][0] != float("inf"):
        fail("%s buckets for %s: %r" % (name, out, buckets))
    if any(a[1] > b[1] for a, b in zip(buckets, buckets[1:])):
        fail("%s buckets for %s are not cumulative: %r" % (name, out, buckets))
    count = values.get('%s_count{output="%s"}' % (name, out))
    total = values.get('%s_sum{output="%s"}' % (name, out), -1)
    if buckets[-1][1] != count or count != n or not 0 < total < n * 30:
        fail("%s for %s: +Inf %r, count %r, sum %r, expected count %d"
             % (name, out, buckets[-1][1], count, total, n))
if not 0.0 <= values.get("rcfd_loop_utilisation", -1) <= 1.0:
    fail("rcfd_loop_utilisation missing or out of [0, 1]")
if values.get('rcfd_alerts_total{pipeline="p"}') != 0:
    fail("alerts while every key is still warming up: %r" % values)
# Alerts: one more key, long enough to calibrate its tail (alert.h: 512 ordinary scores), then
# far-off readings; rcfd_alerts_total must equal the records written with "anomaly": true.
n_more = 1500
for i in range(n_more):
    v = 1000 if i >= 1000 and i % 100 == 0 else i % 7
    proc.stdin.write(b'{"k": "alerting", "v": %d}\n' % v)
proc.stdin.flush()
deadline = time.time() + 20
while values.get('rcfd_output_records_total{output="out"}') != 200 + n_more:
    if time.time() > deadline:
        fail("out never reached %d records: %r" % (200 + n_more, values))
    time.sleep(0.1)
    values, types = scrape()
flagged = sum(1 for line in open(os.path.join(work, "out.jsonl"))
              if json.loads(line).get("anomaly") is True)
alerts = values.get('rcfd_alerts_total{pipeline="p"}')
if types.get("rcfd_alerts_total") != "counter" or alerts != flagged or flagged < 1:
    fail("rcfd_alerts_total %r, %d records flagged (at least 1 expected)" % (alerts, flagged))
status, ctype, body = get("/health")
if status != 200 or json.loads(body)["status"] != "ok":
    fail("/health answered %d %r" % (status, body))
if get("/nope")[0] != 404:
    fail("/nope was not 404")
proc.send_signal(signal.SIGTERM)
if proc.wait(timeout=20) != 0:
    fail("exit code %d after SIGTERM" % proc.returncode)
print("metrics and health: ok (%d series)" % len(values))
