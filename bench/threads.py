#!/usr/bin/python3
"""CPU share per thread of a running rcfd, from /proc/<pid>/task/*/stat.

    bench/threads.py --pid PID            # one process, until it exits (or Ctrl-C)
    bench/threads.py --name rcfd [--count N]
                                          # waits for the newest process of that name, reports it
                                          # when it exits, then waits for the next (N of them)

Every --interval seconds (default 0.2) it reads utime + stime of each thread. Every --every
seconds (default 1; 0: never) it prints one line: the share of a core each thread name used in
that stretch. When the process exits it prints two summaries: over its whole life as sampled, and
over the "busy" stretches only (those in which the process used at least --busy of a core,
default 0.5: the catch-up and live phases of bench_pipeline, not its idle start or latency phase).

Threads are grouped by name (/proc/.../comm): the main thread is "loop" (rcfd's libuv loop), the
model threads "rcfd-worker-N", librdkafka's "rdk:broker..." and so on; a name shared by several
threads is summed and shown with their count.
"""
import argparse
import os
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def read_threads(pid):
    """{tid: (name, cpu_seconds)} for pid's threads; None once the process is gone."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return None
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                stat = f.read()
        except OSError:
            continue  # the thread just ended
        # comm is in parentheses and may hold spaces or parentheses: split after the last ')'
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        rest = stat[stat.rindex(")") + 2:].split()
        ticks = int(rest[11]) + int(rest[12])  # utime, stime (fields 14 and 15)
        if int(tid) == pid:
            name = "loop"
        out[int(tid)] = (name, ticks / TICK)
    return out


def zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
        return s[s.rindex(")") + 2] in "ZX"
    except OSError:
        return True


def by_name(prev, cur):
    """CPU seconds per thread name between two samples, and thread counts."""
    used, count = {}, {}
    for tid, (name, cpu) in cur.items():
        before = prev.get(tid, (name, 0.0))[1] if prev is not None else cpu
        used[name] = used.get(name, 0.0) + max(0.0, cpu - before)
        count[name] = count.get(name, 0) + 1
    return used, count


def order(names):
    def key(n):
        if n == "loop":
            return (0, 0, n)
        if n.startswith("rcfd-worker-"):
            tail = n[len("rcfd-worker-"):]
            return (1, int(tail) if tail.isdigit() else 0, n)
        return (2, 0, n)
    return sorted(names, key=key)


def fmt(used, count, seconds):
    parts = []
    for n in order(used):
        label = n if count.get(n, 1) == 1 else "%s x%d" % (n, count[n])
        parts.append("%s %.2f" % (label, used[n] / seconds if seconds > 0 else 0.0))
    total = sum(used.values())
    parts.append("total %.2f" % (total / seconds if seconds > 0 else 0.0))
    return ", ".join(parts)


def add(into, used):
    for n, v in used.items():
        into[n] = into.get(n, 0.0) + v


def watch(pid, a):
    first = read_threads(pid)
    if first is None:
        print("pid %d: no such process" % pid, file=sys.stderr)
        return
    t0 = last_t = time.monotonic()
    prev = first
    counts = {}
    life, busy = {}, {}
    busy_s = 0.0
    stretch, stretch_t = {}, t0
    while True:
        time.sleep(a.interval)
        cur = read_threads(pid)
        now = time.monotonic()
        if cur is None or zombie(pid):
            break
        used, count = by_name(prev, cur)
        for n, c in count.items():
            counts[n] = max(counts.get(n, 0), c)
        dt = now - last_t
        add(life, used)
        if dt > 0 and sum(used.values()) / dt >= a.busy:
            add(busy, used)
            busy_s += dt
        add(stretch, used)
        if a.every > 0 and now - stretch_t >= a.every:
            print("pid %d +%.1fs: %s" % (pid, now - t0, fmt(stretch, counts, now - stretch_t)),
                  flush=True)
            stretch, stretch_t = {}, now
        prev, last_t = cur, now
    life_s = last_t - t0
    print("pid %d, %.1f s sampled: %s" % (pid, life_s, fmt(life, counts, life_s)))
    print("pid %d, %.1f s busy (>= %.2f core): %s" % (pid, busy_s, a.busy,
                                                      fmt(busy, counts, busy_s)), flush=True)


def newest(name, skip):
    best = None
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) in skip:
            continue
        try:
            with open("/proc/%s/comm" % d) as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm == name and (best is None or int(d) > best):
            best = int(d)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--pid", type=int)
    g.add_argument("--name", help="process name (comm) to wait for, e.g. rcfd")
    ap.add_argument("--count", type=int, default=0, help="with --name: stop after N (0: never)")
    ap.add_argument("--interval", type=float, default=0.2)
    ap.add_argument("--every", type=float, default=1.0)
    ap.add_argument("--busy", type=float, default=0.5)
    a = ap.parse_args()
    try:
        if a.pid is not None:
            watch(a.pid, a)
            return
        seen = set()
        while a.count == 0 or len(seen) < a.count:
            pid = newest(a.name, seen)
            if pid is None or zombie(pid):
                time.sleep(a.interval)
                continue
            seen.add(pid)
            watch(pid, a)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
