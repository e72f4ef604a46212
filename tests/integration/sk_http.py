#!/usr/bin/env python3
"""A misbehaving webhook receiver for the sink tests (stdlib only), on 127.0.0.1.

sk_http.py PORTFILE DIR [--fail500 N] [--delay N --delay-s S] [--drop N] [--down-s S]
           [--reject-field F] [--script LIST] [--port P] [--tls-cert PEM --tls-key PEM]
Request k (1-based): k % fail500 == 1 -> 500; k % delay == 2 -> sleep S then 200 (the client has
timed out: not accepted); k % drop == 3 -> close the connection without an answer. A body with a
record whose field F is true -> 400. --script "408,429,429:2,503:date+2,200": request k gets the
k-th status of the list (then 200 once the list is used up); STATUS:S adds "Retry-After: S", and
STATUS:date+S a Retry-After HTTP-date S seconds ahead. Otherwise 200: the records (a JSON object
or an array) are appended to DIR/accepted.jsonl in order. --down-s: do not listen for the first S
seconds (connections are refused). DIR/stats.json is rewritten after every request with the
counts; DIR/requests.jsonl gets {"k", "t0" (arrival), "t1" (answered), "status"} per request.
"""
import email.utils, http.server, json, os, socket, sys, threading, time

args = sys.argv[1:]
portfile, outdir = args[0], args[1]
opt = {}
i = 2
while i < len(args):
    opt[args[i][2:]] = args[i + 1]
    i += 2
fail500 = int(opt.get("fail500", 0))
delay = int(opt.get("delay", 0))
delay_s = float(opt.get("delay-s", 3))
drop = int(opt.get("drop", 0))
reject = opt.get("reject-field")
script = [x for x in opt.get("script", "").split(",") if x]
lock = threading.Lock()
stats = {"requests": 0, "ok": 0, "e500": 0, "delayed": 0, "dropped": 0, "e400": 0, "records": 0}
acc = open(os.path.join(outdir, "accepted.jsonl"), "a")
reqlog = open(os.path.join(outdir, "requests.jsonl"), "a")


def save():
    tmp = os.path.join(outdir, "stats.json.tmp")
    with open(tmp, "w") as f:
        json.dump(stats, f)
    os.replace(tmp, os.path.join(outdir, "stats.json"))


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        t0 = time.time()
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        retry_after = None
        with lock:
            stats["requests"] += 1
            k = stats["requests"]
            recs = json.loads(body)
            if isinstance(recs, dict):
                recs = [recs]
            step = script[k - 1] if k <= len(script) else "200"
            if step != "200":
                code, _, ra = step.partition(":")
                kind = int(code)
                stats["e%d" % kind] = stats.get("e%d" % kind, 0) + 1
                if ra.startswith("date+"):
                    retry_after = email.utils.formatdate(time.time() + float(ra[5:]), usegmt=True)
                elif ra:
                    retry_after = ra
            elif fail500 and k % fail500 == 1:
                stats["e500"] += 1
                kind = 500
            elif delay and k % delay == 2:
                stats["delayed"] += 1
                kind = "delay"
            elif drop and k % drop == 3:
                stats["dropped"] += 1
                kind = "drop"
            elif reject and any(r.get(reject) for r in recs):
                stats["e400"] += 1
                kind = 400
            else:
                stats["ok"] += 1
                stats["records"] += len(recs)
                kind = 200
                if self.headers.get("Authorization"):
                    stats["auth"] = self.headers.get("Authorization")
                for r in recs:
                    acc.write(json.dumps(r) + "\n")
                acc.flush()
            save()
        if kind == "delay":
            time.sleep(delay_s)
            kind = 200
        if kind == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(kind)
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Length", "0")
        self.end_headers()
        with lock:
            reqlog.write(json.dumps({"k": k, "t0": t0, "t1": time.time(), "status": kind}) + "\n")
            reqlog.flush()


port = int(opt.get("port", 0))
if port == 0:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % port)
os.replace(portfile + ".tmp", portfile)
save()
time.sleep(float(opt.get("down-s", 0)))
srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
srv.daemon_threads = True
if opt.get("tls-cert"):
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(opt["tls-cert"], opt["tls-key"])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("listening", flush=True)
srv.serve_forever()
