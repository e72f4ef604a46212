#!/usr/bin/env python3
"""The chaos suite's bookkeeping (stdlib only): numbered input records, and the count of every
input offset across outputs and dead-letter outputs.

gen N KEYS SEED FILE [BIG_EVERY BIG_BYTES]
    FILE: "key<TAB>json" lines for kcat (record i has "seq": i); every BIG_EVERY-th record gets
    a BIG_BYTES "pad" string (records a sink may refuse as too large)
count [--quiet] --inputs FILE --out NAME=FILE... [--dead FILE...] [--min-dups N]
    FILE of --inputs: one input per line, "topic partition offset" (Kafka; kcat -f '%t %p %o\\n')
    or "path line". Each --out is an output's records (JSON lines, or kcat's "%k\\t%s" with a
    leading "<key>\\t"); each --dead a dead-letter output. A record a pipeline dead-lettered counts
    for every output, a record an output refused ({"output": NAME, ...}) for that output. Prints
    per output the records, distinct inputs, duplicates and lost; exits 1 if any input is lost
    from any output or something unknown was written. A writer killed with SIGKILL may leave a
    torn last line: lines that are not JSON are counted and skipped. --quiet prints nothing (a
    wait loop's test of whether everything arrived).
forge FILE OFFSET
    rewrites a checkpoint file's next_offset and seals it again with a correct CRC-32C: a forged
    checkpoint that only its offset gives away
"""
import json, random, struct, sys

sys.setrecursionlimit(20000)  # records nested 999 deep are valid and scored


def gen(n, keys, seed, path, big_every=0, big_bytes=0):
    rnd = random.Random(seed)
    with open(path, "w") as f:
        for i in range(n):
            key = "k%03d" % rnd.randrange(keys)
            rec = {"key": key, "seq": i, "v": round(10 + rnd.gauss(0, 1), 4),
                   "w": round(rnd.random(), 4)}
            if big_every and i % big_every == big_every - 1:
                rec["pad"] = "x" * big_bytes
            f.write(key + "\t" + json.dumps(rec, separators=(",", ":")) + "\n")


def origin_of(o):
    if "topic" in o:
        return (o["topic"], int(o["partition"]), int(o["offset"]))
    return (o["path"], int(o["line"]))


def parse(line):
    line = line.rstrip("\n")
    if not line:
        return None
    if not line.startswith("{") and "\t" in line:
        line = line.split("\t", 1)[1]  # kcat's key<TAB>value
    try:
        return json.loads(line)
    except ValueError:
        return None


def opened(path):
    try:
        return open(path, errors="replace")
    except FileNotFoundError:
        return []


def count(args):
    inputs, outs, dead, min_dups = None, [], [], 0
    global print
    if args and args[0] == "--quiet":
        print = lambda *a: None
        args = args[1:]
    i = 0
    while i < len(args):
        if args[i] == "--inputs":
            inputs = args[i + 1]
        elif args[i] == "--out":
            name, path = args[i + 1].split("=", 1)
            outs.append((name, path))
        elif args[i] == "--dead":
            dead.append(args[i + 1])
        elif args[i] == "--min-dups":
            min_dups = int(args[i + 1])
        else:
            sys.exit("count: unknown argument %s" % args[i])
        i += 2
    want = set()
    for line in open(inputs):
        p = line.split()
        if len(p) == 3:
            want.add((p[0], int(p[1]), int(p[2])))
        elif len(p) == 2:
            want.add((p[0], int(p[1])))
    dead_all, dead_by_out, torn, reasons = set(), {}, 0, {}
    for path in dead:
        for line in opened(path):
            d = parse(line)
            if d is None:
                torn += line.strip() != ""
                continue
            reasons[d.get("reason", "?").split(":")[0]] = reasons.get(d.get("reason", "?").split(":")[0], 0) + 1
            if "output" in d:  # refused by an output: the origin is in the record or beside it
                o = d.get("origin")
                if o is None:
                    rec = json.loads(d["record"])
                    o = rec["_rcfd"]
                dead_by_out.setdefault(d["output"], set()).add(origin_of(o))
            else:
                dead_all.add(origin_of(d))
    bad = 0
    total_dups = 0
    for name, path in outs:
        seen, n = {}, 0
        for line in opened(path):
            r = parse(line)
            if r is None:
                torn += line.strip() != ""
                continue
            n += 1
            k = origin_of(r["_rcfd"])
            seen[k] = seen.get(k, 0) + 1
        got = set(seen) | dead_all | dead_by_out.get(name, set())
        lost = want - got
        unknown = set(seen) - want
        dups = sum(c - 1 for c in seen.values())
        total_dups += dups
        print("count: output %s: %d records, %d distinct inputs, %d duplicates, %d dead-lettered, "
              "lost %d of %d" % (name, n, len(seen), dups,
                                len((dead_all | dead_by_out.get(name, set())) & want),
                                len(lost), len(want)))
        if lost:
            print("count: output %s lost e.g. %s" % (name, sorted(lost)[:5]))
            bad = 1
        if unknown:
            print("count: output %s wrote unknown inputs e.g. %s" % (name, sorted(unknown)[:5]))
            bad = 1
    print("count: dead letters by reason: %s; torn lines skipped: %d" %
          (", ".join("%s %d" % kv for kv in sorted(reasons.items())) or "none", torn))
    if total_dups < min_dups:
        print("count: only %d duplicates, expected at least %d (the fault did not bite)" %
              (total_dups, min_dups))
        bad = 1
    sys.exit(bad)


def crc32c(data):
    crc = 0xFFFFFFFF
    table = crc32c.table
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _crc_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


crc32c.table = _crc_table()


def forge(path, offset):
    b = bytearray(open(path, "rb").read())
    assert b[:8] == b"RCFDSNAP", "not a checkpoint"
    struct.pack_into("<Q", b, 32, offset)  # next_offset: the payload's first field
    struct.pack_into("<I", b, 24, crc32c(bytes(b[32:])))
    open(path, "wb").write(bytes(b))


if __name__ == "__main__":
    a = sys.argv
    if a[1] == "gen":
        gen(int(a[2]), int(a[3]), int(a[4]), a[5], *(int(x) for x in a[6:8]))
    elif a[1] == "count":
        count(a[2:])
    elif a[1] == "forge":
        forge(a[2], int(a[3]))
    else:
        sys.exit("unknown command %s" % a[1])
