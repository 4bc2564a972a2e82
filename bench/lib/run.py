#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs every benchmark of bench/ (bench/README.md) and reports.

Every executable bench/*.sh is a benchmark. Those with a line
"# bench-guest: yes" name their guest command (NAME.sh guest-cmd); all such
commands run in ONE VM boot, and each benchmark then reads its own output
(BENCH_GUEST_OUTPUT, BENCH_GUEST_STATUS). Each benchmark prints one JSON
line per measurement; this runner checks every line, prints a summary
table and, last:
  full run (BENCH_SHORT=0):  "N passed, N failed, N skipped", then
                             "bench: N of M goals met"
  short run (BENCH_SHORT=1): "N passed, N failed, N skipped" (goals not judged)
A benchmark passes when it exits 0 and printed at least one JSON line, all
well-formed; exit status 77 is a skip. The exit status is non-zero if any
benchmark failed. BENCH_ONLY="floor dma" runs some. Results go to
build/bench/results.jsonl and build/bench/summary.txt.
"""
import json
import math
import os
import re
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH_DIR = os.path.join(TOP, "bench")
OUT_DIR = os.path.join(TOP, "build", "bench")
GOAL_RE = re.compile(r"^(<=|>=)(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)$")
SKIP_STATUS = 77


def log(msg):
    print("bench: " + msg, flush=True)


def benchmarks():
    only = os.environ.get("BENCH_ONLY", "").split()
    found = []
    for name in sorted(os.listdir(BENCH_DIR)):
        path = os.path.join(BENCH_DIR, name)
        if not name.endswith(".sh") or not os.path.isfile(path) or not os.access(path, os.X_OK):
            continue
        if only and name[:-3] not in only:
            continue
        with open(path, errors="replace") as f:
            guest = any(line.strip() == "# bench-guest: yes" for line in f)
        found.append((name[:-3], path, guest))
    return found


def check_line(name, line):
    """The measurement of one JSON line, or raises ValueError saying why not."""
    try:
        m = json.loads(line)
    except json.JSONDecodeError as e:
        raise ValueError("not JSON (%s)" % e)
    if not isinstance(m, dict):
        raise ValueError("not a JSON object")
    if m.get("bench") != name:
        raise ValueError('"bench" is %r, not %r' % (m.get("bench"), name))
    if not isinstance(m.get("metric"), str) or not re.match(r"^[A-Za-z0-9_.-]+$", m["metric"]):
        raise ValueError('"metric" missing or not a name')
    v = m.get("value")
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError('"value" missing or not a finite number')
    if "unit" in m and not isinstance(m["unit"], str):
        raise ValueError('"unit" is not a string')
    if "goal" in m or "met" in m:
        g = GOAL_RE.match(str(m.get("goal", "")))
        if not g:
            raise ValueError('"goal" must be "<=N" or ">=N"')
        if not isinstance(m.get("met"), bool):
            raise ValueError('a goal needs "met": true or false')
        limit = float(g.group(2))
        met = v <= limit if g.group(1) == "<=" else v >= limit
        close = abs(v - limit) <= 1e-5 * max(abs(v), abs(limit), 1e-12)
        if met != m["met"] and not close:
            raise ValueError('"met" is %s, but %s %s %s' %
                             (str(m["met"]).lower(), v, "misses" if m["met"] else "meets",
                              m["goal"]))
    return m


def run_guest_commands(guests, env, short):
    """One boot running every guest command; returns {name: (output file, status)}."""
    results = {}
    parts = []
    for name, path, _ in guests:
        p = subprocess.run([path, "guest-cmd"], env=env, capture_output=True, text=True)
        cmd = p.stdout.strip()
        if p.returncode != 0 or not cmd:
            log("%s: 'guest-cmd' failed (status %d): %s" % (name, p.returncode, p.stderr.strip()))
            continue
        parts.append("echo '@@bench-begin %s'; (%s) 2>&1; echo \"@@bench-end %s $?\"" %
                     (name, cmd, name))
    if not parts:
        return results
    script = "; ".join(parts) + "; true"
    log("booting one VM for %d guest benchmark(s)" % len(parts))
    t0 = time.time()
    venv = dict(env, NPU_VM_SKIP_BUILD="1")
    p = subprocess.run([os.path.join(TOP, "tests", "vm", "vm.sh"), "run", script], env=venv,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log("VM finished with status %d after %.1f s" % (p.returncode, time.time() - t0))
    if p.returncode != 0:
        sys.stderr.write(p.stderr[-3000:])
    try:
        with open(os.path.join(TOP, "build", "vm", "last", "output.log"), errors="replace") as f:
            out = f.read().replace("\r", "")
    except OSError as e:
        log("cannot read the VM's output.log: %s" % e)
        return results
    cur, buf = None, []
    os.makedirs(os.path.join(OUT_DIR, "guest"), exist_ok=True)
    for line in out.splitlines():
        if line.startswith("@@bench-begin "):
            cur, buf = line.split()[1], []
        elif line.startswith("@@bench-end ") and cur:
            fields = line.split()
            status = int(fields[2]) if len(fields) > 2 and fields[2].isdigit() else 1
            fn = os.path.join(OUT_DIR, "guest", cur + ".out")
            with open(fn, "w") as f:
                f.write("\n".join(buf) + ("\n" if buf else ""))
            results[cur] = (fn, status)
            cur = None
        elif cur:
            buf.append(line)
    return results


def fmt(v):
    if v == 0:
        return "0"
    if abs(v) >= 100:
        return "%.0f" % v
    return "%.3g" % v


def main():
    short = os.environ.get("BENCH_SHORT", "0") == "1"
    env = dict(os.environ, BENCH_SHORT="1" if short else "0")
    os.makedirs(OUT_DIR, exist_ok=True)
    start = time.time()
    todo = benchmarks()
    if not todo:
        log("no executable bench/*.sh found")
        print("0 passed, 1 failed, 0 skipped")
        return 1
    log("%s run of %d benchmark(s): %s" % ("short" if short else "full", len(todo),
                                           " ".join(n for n, _, _ in todo)))
    guest_out = run_guest_commands([b for b in todo if b[2]], env, short)

    passed, failed, skipped = [], [], []
    results = []
    for name, path, guest in todo:
        t0 = time.time()
        benv = dict(env)
        if guest:
            if name not in guest_out:
                log("%s: FAIL: no output from the guest" % name)
                failed.append(name)
                continue
            benv["BENCH_GUEST_OUTPUT"], status = guest_out[name][0], guest_out[name][1]
            benv["BENCH_GUEST_STATUS"] = str(status)
        log("running %s" % name)
        p = subprocess.run([path], env=benv, stdout=subprocess.PIPE, text=True, cwd=TOP)
        lines, bad = [], None
        for line in p.stdout.splitlines():
            line = line.strip()
            if not line.startswith("{"):
                if line:
                    print("  " + line)
                continue
            print(line)
            try:
                lines.append(check_line(name, line))
            except ValueError as e:
                bad = bad or "%s: %s" % (e, line)
        took = time.time() - t0
        if p.returncode == SKIP_STATUS and not lines:
            log("%s: SKIP (%.1f s)" % (name, took))
            skipped.append(name)
        elif p.returncode != 0 or bad or not lines:
            why = ("exit status %d" % p.returncode if p.returncode else
                   "malformed line: " + bad if bad else "no measurements")
            log("%s: FAIL: %s (%.1f s)" % (name, why, took))
            failed.append(name)
        else:
            log("%s: ok, %d measurement(s) (%.1f s)" % (name, len(lines), took))
            passed.append(name)
            results.extend(lines)

    with open(os.path.join(OUT_DIR, "results.jsonl"), "w") as f:
        for m in results:
            f.write(json.dumps(m) + "\n")
    rows = [("bench", "metric", "value", "unit", "goal", "met")]
    for m in results:
        goal = m.get("goal", "")
        rows.append((m["bench"], m["metric"], fmt(m["value"]), m.get("unit", ""), goal,
                     ("yes" if m["met"] else "NO") if goal else ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    table = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    table.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    goals = [m for m in results if "goal" in m]
    met = sum(1 for m in goals if m["met"])
    summary = "\n".join(table)
    with open(os.path.join(OUT_DIR, "summary.txt"), "w") as f:
        f.write(summary + "\n")
        if not short:
            f.write("bench: %d of %d goals met\n" % (met, len(goals)))
    print()
    print(summary)
    print()
    log("%d measurement(s) in %.1f s; results in %s" % (len(results), time.time() - start,
                                                       os.path.relpath(OUT_DIR, TOP)))
    if failed:
        log("failed: " + " ".join(failed))
    print("%d passed, %d failed, %d skipped" % (len(passed), len(failed), len(skipped)))
    if not short:
        print("bench: %d of %d goals met" % (met, len(goals)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
