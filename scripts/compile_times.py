#!/usr/bin/python3
"""Compile time of translation units: compiles the units of BUILD/compile_commands.json whose path
contains one of PATTERNs (to a temporary object, without a compiler launcher such as ccache),
J at a time (default 1), and prints CPU seconds, peak memory and wall seconds of each.

  scripts/compile_times.py build/ci tools/shared/classifiers.cpp python/bind_classify.cpp
"""
import concurrent.futures as cf
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time


def compile_one(entry, out_dir):
    args = shlex.split(entry["command"]) if "command" in entry else list(entry["arguments"])
    if os.path.basename(args[0]) in ("ccache", "sccache"):
        args = args[1:]
    obj = os.path.join(out_dir, "%d.o" % (abs(hash(entry["file"])) % 10**9))
    args[args.index("-o") + 1] = obj
    start = time.time()
    p = subprocess.run(["/usr/bin/time", "-f", "%U %S %M"] + args, cwd=entry["directory"],
                       capture_output=True, text=True)
    user, system, peak_kb = p.stderr.strip().splitlines()[-1].split()
    return entry["file"], float(user) + float(system), int(peak_kb) // 1024, time.time() - start, p.returncode


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    build, patterns = sys.argv[1], sys.argv[2:]
    entries = json.load(open(os.path.join(build, "compile_commands.json")))
    seen, chosen = set(), []
    for e in entries:  # a file compiled for two targets counts once
        if any(p in e["file"] for p in patterns) and e["file"] not in seen:
            seen.add(e["file"])
            chosen.append(e)
    with tempfile.TemporaryDirectory() as out, cf.ThreadPoolExecutor(int(os.environ.get("J", "1"))) as ex:
        for f, cpu, mb, wall, rc in ex.map(lambda e: compile_one(e, out), chosen):
            print("%8.1f s cpu %6d MB %8.1f s wall%s  %s" % (cpu, mb, wall, "" if rc == 0 else " FAILED", f), flush=True)


if __name__ == "__main__":
    main()
