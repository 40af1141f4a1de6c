#!/usr/bin/env python3
"""Errors always say where: dataset and eval over trees of real captures damaged at seeded random
points (cut, bytes overwritten, bytes inserted, a length field made absurd). Every error and
warning the tool prints must name the damaged file with a byte offset or a line, the exit status
must be 0, 2 or 3, and no run may crash or hang.

  error_locations.py FLOWPIC CAPTURES_DIR MODEL WORKDIR CASES [SEED]
"""
import os
import random
import re
import shutil
import subprocess
import sys

tool, captures, model, work, cases = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
rng = random.Random(int(sys.argv[6]) if len(sys.argv) > 6 else 20261205)
caps = sorted(os.path.join(captures, f) for f in os.listdir(captures)
              if f.endswith((".pcap", ".pcapng")) and os.path.getsize(os.path.join(captures, f)) < 200_000)
if not caps:
    print("error_locations: no captures under 200 kB in %s" % captures)
    sys.exit(77)

located = re.compile(r"/(chat|video)/c\d\.pcap(ng)?(: byte offset \d+|:\d+)")
# lines that are about the run, not a file
general = ("has no training sample", "no sample", "no block")
problems = []
for case in range(cases):
    tree = os.path.join(work, "tree")
    shutil.rmtree(tree, ignore_errors=True)
    for cls in ("chat", "video"):
        os.makedirs(os.path.join(tree, cls))
        for k in range(2):
            c = rng.choice(caps)
            data = bytearray(open(c, "rb").read())
            how = rng.randrange(4)
            if how == 0:
                data = data[:rng.randrange(len(data))]
            elif how == 1:
                for _ in range(rng.randrange(1, 20)):
                    data[rng.randrange(len(data))] = rng.randrange(256)
            elif how == 2:
                i = rng.randrange(len(data))
                data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
            else:
                i = rng.randrange(24, max(25, len(data)))
                data[i:i + 4] = b"\xff\xff\xff\x7f"
            with open(os.path.join(tree, cls, "c%d%s" % (k, os.path.splitext(c)[1])), "wb") as f:
                f.write(data)
    for args in (["dataset", "--data", tree, "--preset", "mini_flowpic", "--out", os.path.join(work, "x.fpd")],
                 ["eval", "--model", model, "--data", tree]):
        try:
            p = subprocess.run([tool] + args, capture_output=True, text=True, errors="replace", timeout=120)
        except subprocess.TimeoutExpired:
            problems.append("case %d: %s hung" % (case, args[0]))
            continue
        if p.returncode not in (0, 2, 3):
            problems.append("case %d: %s exited %d: %s" % (case, args[0], p.returncode, p.stderr[-400:]))
        for line in p.stderr.splitlines():
            if line.startswith(("flowpic: error:", "flowpic: warning:")) and not located.search(line) and \
                    not any(g in line for g in general) and "earlier than their flow" not in line:
                problems.append("case %d: %s: a message without a file and a location: %s" % (case, args[0], line))
for p in problems:
    print(p)
print("error_locations: %d cases, %d problems" % (cases, len(problems)))
sys.exit(1 if problems else 0)
