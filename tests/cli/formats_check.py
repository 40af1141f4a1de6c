#!/usr/bin/env python3
"""--format jsonl against --format csv: the same rows, keyed by the CSV header's names, numbers
with the CSV's exact digits; classify --probabilities sums to 1 and its argmax is the label.

    formats_check.py TOOL COMMAND ARGS...   (COMMAND: flows, blocks, classify or label)
"""
import csv
import io
import json
import subprocess
import sys


def run(args):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if p.returncode != 0:
        sys.exit(f"{' '.join(args)} exited with {p.returncode}:\n{p.stderr.decode(errors='replace')}")
    return p.stdout.decode()


def fail(what):
    sys.exit("formats_check: " + what)


def main():
    tool, command, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    out = ["--out", "-"] if command == "label" else []
    text_csv = run([tool, command, *rest, *out])
    text_default = text_csv
    text_csv = run([tool, command, *rest, *out, "--format", "csv"])
    if text_csv != text_default:
        fail("--format csv differs from the default output")
    text_jsonl = run([tool, command, *rest, *out, "--format", "jsonl"])
    rows = list(csv.reader(io.StringIO(text_csv)))
    header, rows = rows[0], rows[1:]
    lines = text_jsonl.splitlines()
    if len(lines) != len(rows) or not rows:
        fail(f"{len(rows)} CSV rows but {len(lines)} JSON lines")
    probs = command == "classify" and "--probabilities" in rest
    classes = [h[2:] for h in header if h.startswith("p_")] if probs else []
    base = header[: len(header) - len(classes)]
    for row, line in zip(rows, lines):
        # numbers kept as their text: the digits must be the CSV's
        obj = json.loads(line, parse_float=str, parse_int=str)
        if any(k not in obj for k in base):
            fail(f"JSON line {line} lacks keys of the header {base}")
        got = ["" if obj[k] is None else obj[k] for k in base]  # an empty number is null
        if got != row[: len(base)]:
            fail(f"JSON line {line}\n  differs from CSV row {row}")
        extra = set(obj) - set(base)
        if probs:
            if extra != {"probabilities"} or list(obj["probabilities"]) != classes:
                fail(f"probabilities of {line}: expected the classes {classes}")
            p = [float(v) for v in obj["probabilities"].values()]
            if [float(v) for v in row[len(base):]] != p:
                fail(f"JSON probabilities {p} differ from the CSV's {row[len(base):]}")
            if abs(sum(p) - 1) > 1e-5 * len(p) + 1e-6:
                fail(f"probabilities of {line} sum to {sum(p)}")
            label = obj["label"]
            if label != "unknown" and classes[max(range(len(p)), key=lambda i: p[i])] != label:
                fail(f"the label of {line} is not its most probable class")
        elif extra:
            fail(f"unexpected keys {extra} in {line}")
    print(f"{len(rows)} rows alike in CSV and JSONL")


main()
