#!/usr/bin/env python3
"""measure.py -- run clients and record wall time, CPU and peak memory (bench/run drives it).

Every child is started with fork/exec from here and reaped with wait4(), so the numbers are
the child's own: wall time from just before the fork to the reap, user and system CPU and
max RSS from its rusage. Results are JSON lines appended to OUT.

  measure.py pair OUT ROW RUNS STDIN [--netns NS] -- A_ARGV... :: B_ARGV...
        RUNS times A then B (A B A B ...), each with STDIN as standard input; records
        each run of each client under ROW ("a" = mailout, "b" = msmtp).
  measure.py seq OUT ROW CLIENT N STDIN [--jobs J] -- ARGV...
        ARGV N times (J at a time, default 1) with STDIN; records the total wall time
        and how many runs failed, under ROW/CLIENT. A run fails when it exits non-zero
        or, with --jobs 1, writes anything on stderr.

A run in `pair` also fails when it writes anything on stderr: both clients are silent
when the message was delivered, and mailout exits 0 when it queued a message instead.
  measure.py rttcal OUT NETNS HOST PORT N
        Time N TCP connects to HOST:PORT from namespace NETNS: the median is the round trip
        (rtt_ms) the round-trip rows divide by.
  measure.py load OUT ROW SERVER PORT CLIENTS N ROOTPID...
        An SMTP server on 127.0.0.1:PORT: CLIENTS threads send N small messages in all,
        one connection each (EHLO, MAIL, RCPT, DATA, QUIT); records messages per second,
        the p99 latency (connect to the reply to the final dot) and the peak of the sum of
        the RSS of every process descending from a ROOTPID (sampled every 20 ms; processes
        named timeout not counted) under ROW/SERVER.
  measure.py table OUT MACHINE RESULTS_MD
        Print the table from OUT (and the machine description from MACHINE), and write
        both to RESULTS_MD, keeping whatever RESULTS_MD has after the line KEEP_MARK
        (hand-written analysis survives a new run).
"""
import ctypes
import json
import os
import statistics
import sys
import tempfile
import time

CLONE_NEWNET = 0x40000000
KEEP_MARK = "<!-- Everything below this line is kept when bench/run rewrites the file. -->"


def enter_netns(name):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/var/run/netns/" + name, os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        sys.exit("measure.py: setns %s: %s" % (name, os.strerror(e)))
    os.close(fd)


SPAWN = os.environ.get("BENCH_SPAWN")  # bench/spawn.c, built by bench/run
RESULT = tempfile.NamedTemporaryFile(prefix="measure.", delete=False).name


def spawn(argv, stdin_path, errf):
    """Run argv once; returns (wall_s, user_s, sys_s, maxrss_kib, exit_code).

    Through bench/spawn.c when BENCH_SPAWN names it (exact peak memory: see spawn.c);
    otherwise forked from here (wall and CPU are right, max RSS is at least Python's)."""
    inp = os.open(stdin_path, os.O_RDONLY)
    errf.seek(0)
    errf.truncate()
    if SPAWN:
        argv = [SPAWN, RESULT] + list(argv)
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(inp, 0)
            null = os.open("/dev/null", os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(errf.fileno(), 2)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    t1 = time.perf_counter()
    os.close(inp)
    code = os.waitstatus_to_exitcode(status)
    if not SPAWN:
        return t1 - t0, ru.ru_utime, ru.ru_stime, ru.ru_maxrss, code
    if code != 0:
        return t1 - t0, ru.ru_utime, ru.ru_stime, 0, code
    with open(RESULT) as f:
        wall, ut, st, rss, code = f.read().split()
    return float(wall), float(ut), float(st), int(rss), int(code)


def err_text(errf):
    errf.seek(0)
    return errf.read().decode("utf-8", "replace").strip()[-300:]


def split_cmds(args):
    if "::" not in args:
        sys.exit("measure.py pair: need A_ARGV :: B_ARGV")
    i = args.index("::")
    return args[:i], args[i + 1:]


def cmd_pair(argv):
    out, row, runs, stdin = argv[:4]
    rest = argv[4:]
    if rest[:1] == ["--netns"]:
        enter_netns(rest[1])
        rest = rest[2:]
    if rest[:1] != ["--"]:
        sys.exit("measure.py pair: -- expected")
    a, b = split_cmds(rest[1:])
    res = {"a": [], "b": []}
    errors = {"a": [], "b": []}
    with tempfile.TemporaryFile() as errf:
        for _ in range(int(runs)):
            for key, cmd in (("a", a), ("b", b)):
                wall, ut, st, rss, code = spawn(cmd, stdin, errf)
                res[key].append({"wall": wall, "cpu": ut + st, "user": ut, "sys": st,
                                 "rss": rss, "code": code})
                text = err_text(errf)
                if code == 0 and text:
                    # Both clients are silent on success: a word on stderr means the
                    # message was not delivered (mailout queues it and exits 0).
                    code = -1000
                    res[key][-1]["code"] = code
                if code != 0:
                    errors[key].append("exit %s: %s" % (code if code != -1000 else "0",
                                                        text))
    with open(out, "a") as f:
        for key in ("a", "b"):
            f.write(json.dumps({"row": row, "client": key, "runs": res[key],
                                "errors": errors[key][:3]}) + "\n")
    for key in ("a", "b"):
        ok = [r["wall"] for r in res[key] if r["code"] == 0]
        med = statistics.median(ok) * 1000 if ok else float("nan")
        print("  %-22s %-7s median %9.1f ms  (%d runs, %d failed)%s" % (
            row, "mailout" if key == "a" else "msmtp", med, len(res[key]),
            len(errors[key]), ("  first error: " + errors[key][0]) if errors[key] else ""),
            file=sys.stderr)


def cmd_rttcal(argv):
    import socket
    out, ns, host, port, n = argv[:5]
    enter_netns(ns)
    times = []
    for _ in range(int(n)):
        s = socket.socket()
        t0 = time.perf_counter()
        s.connect((host, int(port)))
        times.append(time.perf_counter() - t0)
        s.close()
        time.sleep(0.01)
    rtt = statistics.median(times) * 1000
    with open(out, "a") as f:
        f.write(json.dumps({"row": "rtt-info", "client": "x", "rtt_ms": rtt,
                            "samples_ms": [round(t * 1000, 2) for t in times]}) + "\n")
    print("  %-22s median %.2f ms over %s connects" % ("rtt calibration", rtt, n),
          file=sys.stderr)


def cmd_seq(argv):
    out, row, client, n, stdin = argv[:5]
    rest = argv[5:]
    jobs = 1
    if rest[:1] == ["--jobs"]:
        jobs = int(rest[1])
        rest = rest[2:]
    if rest[:1] != ["--"]:
        sys.exit("measure.py seq: -- expected")
    cmd = rest[1:]
    n = int(n)
    failed = 0
    first = ""
    cpu = 0.0
    rss = 0
    t0 = time.perf_counter()
    if jobs == 1:
        with tempfile.TemporaryFile() as errf:
            for _ in range(n):
                _, ut, st, r, code = spawn(cmd, stdin, errf)
                cpu += ut + st
                rss = max(rss, r)
                if code == 0 and err_text(errf):
                    code = -1
                if code != 0:
                    failed += 1
                    first = first or "exit %d: %s" % (code, err_text(errf))
    else:
        running = {}
        started = 0
        while started < n or running:
            while started < n and len(running) < jobs:
                inp = os.open(stdin, os.O_RDONLY)
                pid = os.fork()
                if pid == 0:
                    os.dup2(inp, 0)
                    null = os.open("/dev/null", os.O_WRONLY)
                    os.dup2(null, 1)
                    os.dup2(null, 2)
                    try:
                        os.execvp(cmd[0], cmd)
                    finally:
                        os._exit(127)
                os.close(inp)
                running[pid] = 1
                started += 1
            pid, status, ru = os.wait4(-1, 0)
            if pid in running:
                del running[pid]
                cpu += ru.ru_utime + ru.ru_stime
                rss = max(rss, ru.ru_maxrss)
                code = os.waitstatus_to_exitcode(status)
                if code != 0:
                    failed += 1
                    first = first or "exit %d" % code
    wall = time.perf_counter() - t0
    with open(out, "a") as f:
        f.write(json.dumps({"row": row, "client": client, "total": wall, "n": n,
                            "cpu": cpu, "rss": rss, "failed": failed,
                            "errors": [first] if first else []}) + "\n")
    print("  %-22s %-7s %d runs in %.2f s (%d failed)%s" % (
        row, client, n, wall, failed, ("  first error: " + first) if first else ""),
        file=sys.stderr)


# ----------------------------------------------------------------------------- load

def tree_mem_kib(roots):
    """(RSS, PSS) summed over the process trees under roots, in KiB. RSS counts every
    shared page (the text of a forked server, its copy-on-write data) once per process;
    PSS (/proc/PID/smaps_rollup) divides each page among the processes that map it, so
    its sum is what the tree really holds."""
    kids, comm = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        rest = st[st.rindex(")") + 2:].split()
        comm[int(d)] = st[st.index("(") + 1:st.rindex(")")]
        kids.setdefault(int(rest[1]), []).append(int(d))
    rss = pss = 0
    todo, seen = list(roots), set()
    page = os.sysconf("SC_PAGE_SIZE") // 1024
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        todo.extend(kids.get(pid, []))
        if comm.get(pid) == "timeout":
            continue
        try:
            with open("/proc/%d/statm" % pid) as f:
                r = int(f.read().split()[1]) * page
            with open("/proc/%d/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                        break
            rss += r
        except (OSError, ValueError, IndexError):
            pass  # gone between the two reads: counted in neither
    return rss, pss


def cmd_load(argv):
    import smtplib
    import threading
    out, row, server, port, clients, n = argv[:6]
    roots = [int(x) for x in argv[6:]]
    port, clients, n = int(port), int(clients), int(n)
    msg = ("From: scanner@example.org\r\nTo: ops@example.com\r\nSubject: scan\r\n\r\n"
           + "a page of a scan, as text\r\n" * 40)
    lat, errors, lock = [], [], threading.Lock()
    last_ok = [0.0]
    left = [n]
    peak = [0, 0]
    done = threading.Event()

    def sampler():
        while not done.is_set():
            rss, pss = tree_mem_kib(roots)
            peak[0] = max(peak[0], rss)
            peak[1] = max(peak[1], pss)
            done.wait(0.02)

    def client():
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            t0 = time.monotonic()
            try:
                s = smtplib.SMTP("127.0.0.1", port, "client.example.org", timeout=60)
                s.sendmail("scanner@example.org", ["ops@example.com"], msg)
                t1 = time.monotonic()
                try:
                    s.quit()
                except (smtplib.SMTPException, OSError):
                    pass
                with lock:
                    lat.append(t1 - t0)
                    last_ok[0] = max(last_ok[0], t1)
            except (smtplib.SMTPException, OSError) as e:
                with lock:
                    errors.append("%s: %s" % (type(e).__name__, e))

    smp = threading.Thread(target=sampler)
    smp.start()
    t0 = time.monotonic()
    th = [threading.Thread(target=client) for _ in range(clients)]
    # The clients arrive 2 ms apart (0.1 s for 50), as real ones do, not in one instant:
    # a server with a short listen backlog (OpenSMTPD's is 5) would otherwise lose some of
    # the opening burst to SYN cookies, and one lost connection holds the row's wall time
    # until the client's 60 s timeout. The same for every server.
    for t in th:
        t.start()
        time.sleep(0.002)
    for t in th:
        t.join()
    wall = time.monotonic() - t0
    # The rate is of what was acknowledged, until the last 250: a client that hung on a
    # lost connection (counted in failed) does not stretch it with its 60 s timeout.
    span = last_ok[0] - t0 if lat else wall
    done.set()
    smp.join()
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else None
    rec = {"row": row, "client": server, "n": n, "ok": len(lat), "failed": len(errors),
           "wall": wall, "rate": len(lat) / span if lat else None, "p99": p99,
           "rss": peak[0], "pss": peak[1], "errors": errors[:3]}
    with open(out, "a") as f:
        f.write(json.dumps(rec) + "\n")
    print("%s %s: %d/%d ok, %.0f msg/s, p99 %s, peak RSS-sum %.1f MiB, PSS-sum %.1f MiB%s" % (
        row, server, len(lat), n, rec["rate"] or 0, fmt_ms(p99), peak[0] / 1024.0,
        peak[1] / 1024.0,
        ("  first error: " + errors[0]) if errors else ""), file=sys.stderr)


# ----------------------------------------------------------------------------- table

def load(out):
    recs = {}
    with open(out) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            if r.get("row") == "note":
                recs.setdefault("notes", []).append(r["text"])
                continue
            recs[(r["row"], r["client"])] = r
    return recs


def med(rec, key):
    if rec is None or "runs" not in rec:
        return None
    ok = [r[key] for r in rec["runs"] if r["code"] == 0]
    if not ok or len(ok) < len(rec["runs"]) / 2:
        return None
    return statistics.median(ok)


def failed(rec):
    if rec is None:
        return 0
    if "runs" in rec:
        return sum(1 for r in rec["runs"] if r["code"] != 0)
    return rec.get("failed", 0)


def fmt_ms(v):
    if v is None:
        return "failed"
    v *= 1000
    return "%.1f ms" % v if v < 100 else "%.0f ms" % v


def fmt_s(v):
    return "failed" if v is None else "%.2f s" % v


def fmt_mib(kib):
    return "failed" if kib is None else "%.1f MiB" % (kib / 1024.0)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(r):
    return "—" if r is None else "%.2f" % r


def met(ok):
    if ok is None:
        return "n/a"
    return "met" if ok else "NOT met"


def build_rows(recs):
    rows = []  # (measure, mailout, msmtp, ratio, target, verdict)

    def pair_row(row, label, target_ratio, key="wall", fmt=fmt_ms):
        a, b = recs.get((row, "a")), recs.get((row, "b"))
        if a is None and b is None:
            return
        va, vb = med(a, key), med(b, key)
        r = ratio(va, vb)
        rows.append((label, fmt(va), fmt(vb), fmt_ratio(r), "≤ %.2f" % target_ratio,
                     met(None if r is None else r <= target_ratio)))

    pair_row("small-plain", "small message, plain (wall)", 0.25)
    # mailout against itself: the sending limits must cost nothing measurable (issue 18).
    # Measured in both orders (A B A B, then B A B A), each side's median the mean of its
    # two: the first of each pair runs measurably slower on a loaded machine.
    fwd, rev = recs.get(("small-plain-limits", "a")), recs.get(("small-plain-limits-rev", "b"))
    fwd_b, rev_a = recs.get(("small-plain-limits", "b")), recs.get(("small-plain-limits-rev", "a"))
    if fwd is not None or rev is not None:
        ws = [med(fwd, "wall"), med(rev, "wall")]
        wo = [med(fwd_b, "wall"), med(rev_a, "wall")]
        va = None if None in ws else sum(ws) / 2
        vb = None if None in wo else sum(wo) / 2
        r = ratio(va, vb)
        rows.append(("small message, plain, with sending limits / without (mailout both)",
                     fmt_ms(va), fmt_ms(vb), fmt_ratio(r), "≤ 1.05",
                     met(None if r is None else r <= 1.05)))
    pair_row("small-starttls-auth", "small message, STARTTLS+AUTH (wall)", 0.35)
    pair_row("small-implicit-auth", "small message, implicit TLS+AUTH (wall)", 0.35)
    pair_row("small-starttls-auth-cold",
             "small message, STARTTLS+AUTH, no TLS session cached (wall)", 0.35)
    pair_row("small-implicit-auth-cold",
             "small message, implicit TLS+AUTH, no TLS session cached (wall)", 0.35)

    a, b = recs.get(("big-100M", "a")), recs.get(("big-100M", "b"))
    if a is not None or b is not None:
        size = (a or b).get("size", 100 * 1024 * 1024)
        wa, wb = med(a, "wall"), med(b, "wall")
        r = ratio(wa, wb)
        rows.append(("100 MiB over implicit TLS (wall)", fmt_s(wa), fmt_s(wb), fmt_ratio(r),
                     "≤ 0.60", met(None if r is None else r <= 0.6)))
        ta = None if wa is None else size / wa / 1048576
        tb = None if wb is None else size / wb / 1048576
        rows.append(("100 MiB over implicit TLS (throughput)",
                     "failed" if ta is None else "%.0f MiB/s" % ta,
                     "failed" if tb is None else "%.0f MiB/s" % tb,
                     fmt_ratio(ratio(tb, ta)), "(= wall)", ""))
        ca, cb = med(a, "cpu"), med(b, "cpu")
        r = ratio(ca, cb)
        rows.append(("100 MiB over implicit TLS (client CPU user+sys)", fmt_s(ca), fmt_s(cb),
                     fmt_ratio(r), "≤ 0.50", met(None if r is None else r <= 0.5)))

    for size in ("1M", "10M", "100M"):
        row = "big-" + size
        a, b = recs.get((row, "a")), recs.get((row, "b"))
        if a is None and b is None:
            continue
        ra, rb = med(a, "rss"), med(b, "rss")
        rows.append(("peak memory (max RSS), %s message" % size.replace("M", " MiB"),
                     fmt_mib(ra), fmt_mib(rb), fmt_ratio(ratio(ra, rb)), "≤ 4 MiB",
                     met(None if ra is None else ra <= 4096)))

    rtt_ms = recs.get(("rtt-info", "x"), {}).get("rtt_ms")
    lib3 = recs.get(("rtt3-info", "x"), {}).get("label") or "mbedTLS 3"
    for mode, target in (("plain", 5), ("implicit", 6), ("starttls", 7), ("3implicit", 6),
                         ("3starttls", 7)):
        base = "rtt3-" + mode[1:] if mode[0] == "3" else "rtt-" + mode
        have = [recs.get((base + s, c)) for s in ("-0", "-d") for c in ("a", "b")]
        if all(h is None for h in have) or not rtt_ms:
            continue
        counts = []
        for c in ("a", "b"):
            t0, td = med(recs.get((base + "-0", c)), "wall"), med(recs.get((base + "-d", c)),
                                                                 "wall")
            counts.append(None if t0 is None or td is None else (td - t0) / (rtt_ms / 1000.0))
        label = {"plain": "plain", "implicit": "implicit TLS", "starttls": "STARTTLS",
                 "3implicit": "implicit TLS, " + lib3,
                 "3starttls": "STARTTLS, " + lib3}[mode]
        rows.append(("round trips per message, %s (no AUTH)" % label,
                     "failed" if counts[0] is None else "%.1f" % counts[0],
                     "failed" if counts[1] is None else "%.1f" % counts[1],
                     fmt_ratio(ratio(counts[0], counts[1])), "≤ %d" % target,
                     met(None if counts[0] is None else round(counts[0], 1) <= target + 0.3)))

    a, b = recs.get(("flush", "a")), recs.get(("flush", "b"))
    if a is not None or b is not None:
        if a is not None and a.get("na"):
            va = "n/a (queue not in this build)"
            r = None
        else:
            va = None if a is None or a.get("failed") else a["total"]
            r = ratio(va, None if b is None or b.get("failed") else b["total"])
            va = fmt_s(va) if va is not None else "failed"
        vb = "failed" if b is None or b.get("failed") else fmt_s(b["total"])
        n = (b or a).get("n", 1000)
        rows.append(("flush of %d queued messages (mailout -q) vs %d msmtp runs" % (n, n),
                     va, vb, fmt_ratio(r), "≤ 0.10", met(None if r is None else r <= 0.1)))
    listen_rows(recs, rows)
    return rows


def listen_rows(recs, rows):
    """The listener (mailout -bd) against each peer server, 50 clients, same sink."""
    lo = recs.get(("listen", "mailout"))
    if lo is None:
        return
    ok = lo if lo.get("ok") and not lo.get("na") else None
    for peer, label, tput in (("msmtpd", "msmtpd", 3.0), ("opensmtpd", "OpenSMTPD", 1.0),
                              ("postfix", "Postfix", 1.0)):
        pr = recs.get(("listen", peer))
        if pr is None:
            continue
        if pr.get("na"):
            rows.append(("listener vs %s: not run" % label, "", "n/a: " + pr["na"], "—", "",
                         "n/a"))
            continue
        pv = pr if pr.get("ok") else None
        ra = ratio(ok and ok["rate"], pv and pv["rate"])
        rows.append(("listener vs %s, 50 clients (msg/s)" % label,
                     "%.0f/s" % ok["rate"] if ok else "failed",
                     "%.0f/s" % pv["rate"] if pv else "failed", fmt_ratio(ra),
                     "≥ %.0f" % tput, met(None if ra is None else ra >= tput)))
        rp = ratio(ok and ok["p99"], pv and pv["p99"])
        rows.append(("listener vs %s, 50 clients (p99 latency)" % label,
                     fmt_ms(ok and ok["p99"]), fmt_ms(pv and pv["p99"]), fmt_ratio(rp),
                     "", ""))
        # RSS-sum counts shared pages once per process (for reference); PSS-sum shares
        # them out, the honest measure the target is on.
        rm = ratio(ok and ok["rss"], pv and pv["rss"])
        rows.append(("listener vs %s (peak RSS-sum, all processes)" % label,
                     fmt_mib(ok and ok["rss"]), fmt_mib(pv and pv["rss"]), fmt_ratio(rm),
                     "", ""))
        rs = ratio(ok and ok.get("pss"), pv and pv.get("pss"))
        rows.append(("listener vs %s (peak PSS-sum, all processes)" % label,
                     fmt_mib(ok and ok.get("pss")), fmt_mib(pv and pv.get("pss")),
                     fmt_ratio(rs), "≤ 0.50", met(None if rs is None else rs <= 0.5)))


def render(rows):
    head = ("measure", "mailout", "msmtp / peer", "mailout/other", "target", "")
    w = [max(len(str(r[i])) for r in rows + [head]) for i in range(6)]
    lines = ["| " + " | ".join(str(c).ljust(w[i]) for i, c in enumerate(head)) + " |",
             "|" + "|".join("-" * (w[i] + 2) for i in range(6)) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c).ljust(w[i]) for i, c in enumerate(r)) + " |")
    return "\n".join(lines)


def cmd_table(argv):
    out, machine, md = argv[:3]
    recs = load(out)
    rows = build_rows(recs)
    table = render(rows)
    with open(machine) as f:
        mach = f.read().rstrip()
    notes = recs.get("notes", [])
    failures = []
    for (row, client), rec in sorted((k, v) for k, v in recs.items() if k != "notes"):
        if failed(rec) and rec.get("errors"):
            failures.append("- %s %s: %d failed; %s" % (
                row, {"a": "mailout", "b": "msmtp"}.get(client, client), failed(rec),
                rec["errors"][0]))
    text = table + "\n"
    if failures:
        text += "\nFailures:\n" + "\n".join(failures) + "\n"
    print(text)
    print(mach)
    kept = ""
    try:
        with open(md) as f:
            old = f.read()
        if KEEP_MARK in old:
            kept = old[old.index(KEEP_MARK) + len(KEEP_MARK):]
    except OSError:
        pass
    with open(md, "w") as f:
        f.write("# mailout benchmark results\n\n")
        f.write("Written by `make bench` (bench/run). Medians; mailout and msmtp measured A B A B "
                "in the same run against the same servers. Ratios below 1 mean mailout is "
                "faster or smaller.\n\n")
        f.write(text + "\n")
        f.write("## Machine\n\n```\n" + mach + "\n```\n")
        if notes:
            f.write("\n## How each row was measured\n\n" + "\n".join("- " + n for n in notes)
                    + "\n")
        f.write("\n" + KEEP_MARK + kept.rstrip("\n") + "\n")


def main():
    try:
        run_main()
    finally:
        try:
            os.unlink(RESULT)
        except OSError:
            pass


def run_main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, argv = sys.argv[1], sys.argv[2:]
    if cmd == "pair":
        cmd_pair(argv)
    elif cmd == "seq":
        cmd_seq(argv)
    elif cmd == "rttcal":
        cmd_rttcal(argv)
    elif cmd == "load":
        cmd_load(argv)
    elif cmd == "table":
        cmd_table(argv)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
