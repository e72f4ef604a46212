#!/usr/bin/env bash
# The admin listener of a running daemon under a flood: 2,000 connections that send nothing, 200
# slow clients that send half a request head, 50 oversized heads. The daemon's RSS may grow by a
# MB at most (it grew by 330 MB before the caps), oversized heads get 431, refused connections
# 503, and once the flood is over GET /health and /metrics answer again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
mkfifo fifo
cat > a.json <<JSON
{"runtime": {"stats_interval_ms": 0, "admin_listen": "127.0.0.1:0"},
 "sources": [{"name": "in", "type": "file", "path": "fifo"}],
 "outputs": [{"name": "out", "type": "file", "path": "out.jsonl"}],
 "pipelines": [{"name": "p", "source": "in", "fields": ["v"],
                "outputs": ["out"], "models": [{"type": "rcf", "number_of_trees": 10}]}]}
JSON
start_rcfd a -c a.json
exec 3> fifo
wait_log a.log "admin listener on" 30
PORT=$(sed -n 's/.*admin listener on 127.0.0.1:\([0-9]*\).*/\1/p' a.log | head -1)
rss0=$(rss_kb "$RCFD_PID")
# AddressSanitizer's quarantine holds freed memory for a while: allow it more.
python3 - "$PORT" "$RCFD_PID" "$rss0" $((16 * TIME_MULT)) <<'PY'
import socket, sys, time
port, pid, rss0, allow_mb = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def rss():
    for l in open("/proc/%s/status" % pid):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])
big_status = []
for i in range(50):
    s = socket.create_connection(("127.0.0.1", port))
    try:
        s.sendall(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n")
        s.settimeout(5)
        big_status.append(s.recv(64))
    except OSError:
        big_status.append(b"")
    s.close()
got431 = sum(1 for b in big_status if b.startswith(b"HTTP/1.1 431"))
if got431 != 50:
    sys.exit("%d of 50 oversized heads got 431" % got431)
socks, peak = [], rss0
for i in range(2000):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    socks.append(s)
    if i % 100 == 0:
        peak = max(peak, rss())
slow, refused = [], 0
for i in range(200):
    s = socket.create_connection(("127.0.0.1", port))
    try:
        s.send(b"GET /metrics HTTP/1.1\r\nHost: x")
    except OSError:
        pass
    slow.append(s)
time.sleep(1)
peak = max(peak, rss())
for s in slow:
    s.settimeout(0.2)
    try:
        refused += s.recv(64).startswith(b"HTTP/1.1 503")
    except OSError:
        pass
for s in socks + slow:
    s.close()
print("admin flood: 50 oversized heads got 431; RSS %d kB before the flood, peak %d kB (+%d kB); "
      "%d slow clients answered 503" % (rss0, peak, peak - rss0, refused))
if peak - rss0 > allow_mb * 1024:
    sys.exit("RSS grew by %d kB under the flood" % (peak - rss0))
# Connections held by the flood are closed by the 5 s timeout: the listener serves again.
deadline = time.time() + 20
while True:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /health HTTP/1.1\r\n\r\n")
        r = s.recv(4096)
        s.close()
        if r.startswith(b"HTTP/1.1 200"):
            break
    except OSError:
        pass
    if time.time() > deadline:
        sys.exit("the listener did not serve again after the flood")
    time.sleep(0.5)
print("admin flood: /health answers 200 again")
PY
exec 3>&-
set +e
wait "$RCFD_PID"
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "exit code $rc"
echo "ch_admin: bounded"
