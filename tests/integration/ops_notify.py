#!/usr/bin/env python3
"""systemd notification protocol, end to end: rcfd started with NOTIFY_SOCKET and WATCHDOG_USEC
(as systemd would) must send READY=1 once its sources and outputs are up, WATCHDOG=1 from its loop
at half the interval, and STOPPING=1 when SIGTERM starts the graceful stop; then exit 0.
usage: ops_notify.py RCFD"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

rcfd = sys.argv[1]
work = tempfile.mkdtemp(prefix="rcfd-notify.")
sock_path = os.path.join(work, "notify.sock")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(sock_path)
sock.settimeout(10)

conf = {
    "sources": [{"name": "in", "type": "file", "path": "-", "format": "json"}],
    "outputs": [{"name": "out", "type": "file", "path": os.path.join(work, "out.jsonl")}],
    "pipelines": [{"name": "p", "source": "in", "fields": ["v"], "outputs": ["out"],
                   "models": [{"type": "rcf", "number_of_trees": 10}]}],
}
conf_path = os.path.join(work, "rcfd.json")
with open(conf_path, "w") as f:
    json.dump(conf, f)

env = dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="200000")
proc = subprocess.Popen([rcfd, "-c", conf_path], stdin=subprocess.PIPE, env=env,
                        stderr=open(os.path.join(work, "rcfd.log"), "w"))
env["WATCHDOG_PID"] = str(proc.pid)


def receive(deadline):
    msgs = []
    while time.time() < deadline:
        try:
            msgs.append(sock.recv(4096).decode())
        except socket.timeout:
            break
    return msgs


def fail(msg):
    proc.kill()
    print("FAIL:", msg, "\n" + open(os.path.join(work, "rcfd.log")).read())
    sys.exit(1)


first = sock.recv(4096).decode()
if "READY=1" not in first.split("\n"):
    fail("first notification is %r, expected READY=1" % first)
for i in range(50):
    proc.stdin.write(b'{"v": %d}\n' % (i % 7))
proc.stdin.flush()
pings = [m for m in receive(time.time() + 1.0) if m == "WATCHDOG=1"]
# 100 ms period over one second: allow for a slow (sanitizer) build, but it must be periodic.
if len(pings) < 4:
    fail("%d WATCHDOG=1 pings in one second, expected about 10" % len(pings))
proc.send_signal(signal.SIGTERM)
rest = receive(time.time() + 3.0)
if "STOPPING=1" not in rest:
    fail("no STOPPING=1 after SIGTERM (got %r)" % rest[-3:])
rc = proc.wait(timeout=20)
if rc != 0:
    fail("exit code %d after SIGTERM" % rc)
lines = open(os.path.join(work, "out.jsonl")).read().count("\n")
if lines != 50:
    fail("%d records written, expected 50" % lines)
print("READY=1, %d watchdog pings in 1 s, STOPPING=1, exit 0, 50 records: ok" % len(pings))
