#!/usr/bin/python3
"""Mean and spread of `flowpic eval --json` outputs over seeds, as Markdown table cells/rows.

  summarize.py rows LABEL=GLOB ...        one row per LABEL: runs, accuracy, macro-F1, per-class F1
  summarize.py cell GLOB [--metric M]     one cell "mean ± std"; M: accuracy (default), macro_f1,
                                          f1:CLASS, recall:CLASS, precision:CLASS, samples,
                                          balanced (mean recall over classes)

Values are percentages; std is the sample standard deviation over the runs (n - 1), "-" for one
run. A glob matching nothing gives "n/a".
"""
import glob
import json
import math
import sys


def load(pattern):
    return [json.load(open(f)) for f in sorted(glob.glob(pattern))]


def metric(run, m):
    if m == "accuracy":
        return 100 * run["accuracy"]
    if m == "macro_f1":
        return 100 * run["macro_f1"]
    if m == "samples":
        return run["samples"]
    if m == "balanced":
        pc = [v for v in run["per_class"].values() if v["support"] > 0]
        return 100 * sum(v["recall"] for v in pc) / len(pc)
    kind, cls = m.split(":", 1)
    return 100 * run["per_class"][cls][kind]


def stats(values, digits=1):
    if not values:
        return "n/a"
    mean = sum(values) / len(values)
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


def cell(pattern, m="accuracy"):
    runs = load(pattern)
    if m == "samples":
        return stats([metric(r, m) for r in runs], 0)
    return stats([metric(r, m) for r in runs])


def rows(specs):
    classes = None
    out = []
    for spec in specs:
        label, pattern = spec.split("=", 1)
        runs = load(pattern)
        if runs and classes is None:
            classes = runs[0]["classes"]
        if not runs:
            out.append(f"| {label} | 0 | n/a | n/a |" + " n/a |" * len(classes or []))
            continue
        f1s = [stats([metric(r, f"f1:{c}") for r in runs]) for c in classes]
        out.append(f"| {label} | {len(runs)} | {stats([metric(r, 'accuracy') for r in runs])} | "
                   f"{stats([metric(r, 'macro_f1') for r in runs])} | " + " | ".join(f1s) + " |")
    head = "| setup | runs | accuracy % | macro-F1 % | " + " | ".join(f"F1 {c} %" for c in classes or []) + " |"
    sep = "|" + "---|" * (4 + len(classes or []))
    return "\n".join([head, sep] + out)


def main(argv):
    if len(argv) >= 2 and argv[0] == "rows":
        print(rows(argv[1:]))
    elif len(argv) >= 2 and argv[0] == "cell":
        m = "accuracy"
        if len(argv) >= 4 and argv[2] == "--metric":
            m = argv[3]
        print(cell(argv[1], m))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
