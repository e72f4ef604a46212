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

With --wait, each figure is followed by "/w" and the share of wall time the thread was runnable
but waiting for a core (/proc/.../schedstat, the run queue): a thread's wall time is its CPU,
that wait, and the rest asleep (for a worker: no records queued for it).

With --sched, the summary also gives each thread name's migrations between cores and its
voluntary (it slept: no work) and involuntary (preempted) context switches over the sampled
life (/proc/.../sched).

Threads are grouped by name (/proc/.../comm): the main thread is "loop" (rcfd's libuv loop), the
model threads "rcfd-worker-N", librdkafka's "rdk:broker..." and so on; a name shared by several
threads is summed and shown with their count.
"""
import argparse
import os
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def read_wait(pid, tid):
    """Seconds thread tid spent runnable, waiting for a core (0 without schedstat)."""
    try:
        with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


SCHED_FIELDS = ("se.nr_migrations", "nr_voluntary_switches", "nr_involuntary_switches")


def read_sched(pid, tid):
    """(migrations, voluntary switches, involuntary switches) of thread tid, or None."""
    got = {}
    try:
        with open("/proc/%d/task/%d/sched" % (pid, tid)) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k.strip() in SCHED_FIELDS:
                    got[k.strip()] = int(float(v))
    except (OSError, ValueError):
        return None
    return tuple(got.get(k, 0) for k in SCHED_FIELDS)


def sched_update(pid, tids, seen):
    """Reads the counters of tids into seen {tid: (first, last)}: a thread that ended keeps the
    last counters read while it was alive."""
    for tid in tids:
        c = read_sched(pid, tid)
        if c is not None:
            seen[tid] = (seen[tid][0] if tid in seen else c, c)


def sched_by_name(seen, names):
    """{name: [migrations, voluntary, involuntary]}: each thread's last counters minus its first,
    summed per name."""
    out = {}
    for tid, (c0, c1) in seen.items():
        acc = out.setdefault(names[tid], [0, 0, 0])
        for i in range(3):
            acc[i] += c1[i] - c0[i]
    return out


def read_threads(pid, wait=False):
    """{tid: (name, cpu_seconds, wait_seconds)} for pid's threads; None once the process is
    gone."""
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
        out[int(tid)] = (name, ticks / TICK, read_wait(pid, int(tid)) if wait else 0.0)
    return out


def zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
        return s[s.rindex(")") + 2] in "ZX"
    except OSError:
        return True


def by_name(prev, cur):
    """CPU seconds and run-queue seconds per thread name between two samples, and thread
    counts."""
    used, waited, count = {}, {}, {}
    for tid, (name, cpu, wait) in cur.items():
        before = prev.get(tid, (name, 0.0, 0.0))
        used[name] = used.get(name, 0.0) + max(0.0, cpu - before[1])
        waited[name] = waited.get(name, 0.0) + max(0.0, wait - before[2])
        count[name] = count.get(name, 0) + 1
    return used, waited, count


def order(names):
    def key(n):
        if n == "loop":
            return (0, 0, n)
        if n.startswith("rcfd-worker-"):
            tail = n[len("rcfd-worker-"):]
            return (1, int(tail) if tail.isdigit() else 0, n)
        return (2, 0, n)
    return sorted(names, key=key)


def fmt(used, waited, count, seconds):
    def share(x):
        return x / seconds if seconds > 0 else 0.0
    parts = []
    for n in order(used):
        label = n if count.get(n, 1) == 1 else "%s x%d" % (n, count[n])
        w = "/w %.2f" % share(waited[n]) if waited is not None else ""
        parts.append("%s %.2f%s" % (label, share(used[n]), w))
    parts.append("total %.2f" % share(sum(used.values())))
    return ", ".join(parts)


def add(into, used):
    for n, v in used.items():
        into[n] = into.get(n, 0.0) + v


def watch(pid, a):
    first = read_threads(pid, a.wait)
    if first is None:
        print("pid %d: no such process" % pid, file=sys.stderr)
        return
    t0 = last_t = time.monotonic()
    prev = first
    counts = {}
    life, busy, stretch = ({}, {}), ({}, {}), ({}, {})  # (cpu, run-queue wait) per name
    busy_s = 0.0
    stretch_t = t0
    waits = (lambda acc: acc[1]) if a.wait else (lambda acc: None)
    names = {tid: v[0] for tid, v in first.items()}
    seen = {}
    if a.sched:
        sched_update(pid, first, seen)
    while True:
        time.sleep(a.interval)
        cur = read_threads(pid, a.wait)
        now = time.monotonic()
        if cur is None or zombie(pid):
            break
        used, waited, count = by_name(prev, cur)
        for n, c in count.items():
            counts[n] = max(counts.get(n, 0), c)
        dt = now - last_t
        for acc in (life, stretch):
            add(acc[0], used)
            add(acc[1], waited)
        if dt > 0 and sum(used.values()) / dt >= a.busy:
            add(busy[0], used)
            add(busy[1], waited)
            busy_s += dt
        if a.every > 0 and now - stretch_t >= a.every:
            print("pid %d +%.1fs: %s" % (pid, now - t0,
                                         fmt(stretch[0], waits(stretch), counts, now - stretch_t)),
                  flush=True)
            stretch, stretch_t = ({}, {}), now
        if a.sched:
            names.update({tid: v[0] for tid, v in cur.items()})
            sched_update(pid, cur, seen)
        prev, last_t = cur, now
    life_s = last_t - t0
    print("pid %d, %.1f s sampled: %s" % (pid, life_s, fmt(life[0], waits(life), counts, life_s)))
    print("pid %d, %.1f s busy (>= %.2f core): %s" % (pid, busy_s, a.busy,
                                                      fmt(busy[0], waits(busy), counts, busy_s)),
          flush=True)
    if a.sched and seen:
        per = sched_by_name(seen, names)
        parts = ["%s %d/%d/%d" % (n, per[n][0], per[n][1], per[n][2]) for n in order(per)]
        print("pid %d, migrations/voluntary/involuntary switches: %s" % (pid, ", ".join(parts)),
              flush=True)


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
    ap.add_argument("--sched", action="store_true",
                    help="also migrations and context switches per thread name (sched)")
    ap.add_argument("--wait", action="store_true",
                    help="also the share of time each thread waited for a core (schedstat)")
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
