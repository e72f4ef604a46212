#!/usr/bin/env python3
"""Test data and output checks for the integration tests (stdlib only).

gen N KEYS SEED START BAD PREFIX  -> PREFIX.kafka (key<TAB>json lines for kcat), PREFIX.exp (the
                                     good records), PREFIX.bad (expected dead-letter reasons)
check OUT EXP [--dups]            -> every expected record scored once (or at least once with
                                     --dups), per key in produce order, nothing unexpected
dead DLQ BAD                      -> dead letters carry the expected reasons and Kafka coordinates
replays [--by-seq] OUT... MERGED  -> concatenates outputs (a SIGKILLed writer's torn last line
                                     dropped); every record scored more than once must carry the
                                     same score each time; writes first occurrences to MERGED and
                                     prints how many records were replays (--by-seq:
                                     MERGED in produce order, for outputs of several daemons)
"""
import json, math, random, sys


def gen(n, keys, seed, start, bad, prefix):
    rnd = random.Random(seed)
    kafka, exp = [], []
    for i in range(start, start + n):
        key = "dev-%02d" % rnd.randrange(keys)
        rec = {"device": key, "seq": i, "temp": round(20 + 5 * math.sin(i / 50) + rnd.gauss(0, 0.3), 4),
               "pressure": round(101 + rnd.gauss(0, 0.1), 4), "meta": {"site": "s%d" % (i % 3)}}
        kafka.append(key + "\t" + json.dumps(rec))
        exp.append(json.dumps(rec))
    bads = [("{\"device\":\"dev-00\",\"temp\":", "invalid JSON"),
            ("[1,2,3]", "not a JSON object"),
            ("{\"device\":\"dev-01\",\"temp\":\"hot\",\"pressure\":1}", "non-numeric field \"temp\""),
            ("{\"device\":\"dev-02\",\"temp\":1.5}", "missing field \"pressure\""),
            ("{\"device\":\"dev-03\",\"temp\":\"NaN\",\"pressure\":1}", "NaN or infinite"),
            ("{\"temp\":1,\"pressure\":2}", "missing key field \"device\"")]
    bad_lines = []
    for b in range(bad):
        payload, reason = bads[b % len(bads)]
        pos = rnd.randrange(len(kafka) + 1)
        kafka.insert(pos, "dev-bad\t" + payload)
        bad_lines.append(reason)
    open(prefix + ".kafka", "w").write("\n".join(kafka) + "\n")
    open(prefix + ".exp", "w").write("\n".join(exp) + "\n")
    open(prefix + ".bad", "w").write("\n".join(bad_lines) + ("\n" if bad_lines else ""))


def check(out, exp, dups):
    expected = {}
    for line in open(exp):
        r = json.loads(line)
        expected[(r["device"], r["seq"])] = r
    seen, last = {}, {}
    for n, line in enumerate(open(out), 1):
        r = json.loads(line)
        k = (r["device"], r["seq"])
        if k not in expected:
            sys.exit("%s:%d: unexpected record %s" % (out, n, k))
        meta = r["_rcfd"]
        if meta["key"] != r["device"] or not isinstance(r["anomaly_score"], float if False else (int, float)):
            sys.exit("%s:%d: bad metadata %s" % (out, n, meta))
        for f in ("temp", "pressure", "meta"):
            if r[f] != expected[k][f]:
                sys.exit("%s:%d: field %s changed" % (out, n, f))
        seen[k] = seen.get(k, 0) + 1
        if not dups:
            if seen[k] > 1:
                sys.exit("%s:%d: %s scored twice" % (out, n, k))
            if r["seq"] <= last.get(r["device"], -1):
                sys.exit("%s:%d: key %s out of order" % (out, n, r["device"]))
            last[r["device"]] = r["seq"]
    missing = [k for k in expected if k not in seen]
    if missing:
        sys.exit("%s: %d records missing, e.g. %s" % (out, len(missing), missing[:3]))
    print("check: %d records, %d expected, each %s" % (sum(seen.values()), len(expected),
                                                        "at least once" if dups else "exactly once"))


def dead(dlq, bad):
    reasons = [l.rstrip("\n") for l in open(bad) if l.strip()]
    got = [json.loads(l) for l in open(dlq)]
    if len(got) != len(reasons):
        sys.exit("%s: %d dead letters, expected %d" % (dlq, len(got), len(reasons)))
    for d in got:
        for f in ("reason", "pipeline", "source", "record"):
            if f not in d:
                sys.exit("dead letter without %s: %s" % (f, d))
        if "topic" in d and not (isinstance(d["partition"], int) and isinstance(d["offset"], int)):
            sys.exit("dead letter without partition/offset: %s" % d)
    for r in reasons:
        if not any(r in d["reason"] for d in got):
            sys.exit("no dead letter with reason %r; got %s" % (r, [d["reason"] for d in got]))
    print("dead: %d dead letters with the expected reasons" % len(got))


def replays(outs, merged, by_seq=False):
    first, order, dups = {}, [], 0
    for out in outs:
        for line in open(out):
            try:
                r = json.loads(line)
            except ValueError:
                continue  # the torn last line of a killed writer
            k = (r["device"], r["seq"])
            if k in first:
                dups += 1
                if r["anomaly_score"] != first[k]["anomaly_score"]:
                    sys.exit("%s: %s replayed with score %r, first scored %r" %
                             (out, k, r["anomaly_score"], first[k]["anomaly_score"]))
                continue
            first[k] = r
            order.append((r["seq"], line if line.endswith("\n") else line + "\n"))
    if by_seq:
        order.sort(key=lambda t: t[0])
    open(merged, "w").writelines(l for _, l in order)
    print("replays: %d records, %d replayed with identical scores" % (len(order), dups))
    return dups


if __name__ == "__main__":
    a = sys.argv
    if a[1] == "gen":
        gen(int(a[2]), int(a[3]), int(a[4]), int(a[5]), int(a[6]), a[7])
    elif a[1] == "check":
        check(a[2], a[3], "--dups" in a)
    elif a[1] == "dead":
        dead(a[2], a[3])
    elif a[1] == "replays":
        by_seq = "--by-seq" in a
        files = [f for f in a[2:] if f != "--by-seq"]
        replays(files[:-1], files[-1], by_seq)
    else:
        sys.exit("unknown command")
