#!/usr/bin/python3
"""Markdown tables of `flowpic eval --json` results on a real test set: per class support, prior
(share of the test samples), recall, precision, predicted share and its ratio to the prior, the
macro recall, and the confusion matrix (rows: true class, columns: predicted).

Usage: real_test_report.py EVAL.json [EVAL.json ...]
       real_test_report.py --pool EVAL.json...   (one table of the summed confusion matrices)
"""
import json
import sys


def report(path, pooled=None):
    if pooled:
        js = [json.load(open(p)) for p in pooled]
        classes = js[0]["classes"]
        cm = [[sum(j["confusion"][i][k] for j in js) for k in range(len(classes))] for i in range(len(classes))]
        total = sum(map(sum, cm))
        acc = sum(cm[i][i] for i in range(len(classes))) / total
        print(f"### {len(js)} models, each on its held-out fold ({total} samples, accuracy {acc:.3f})\n")
    else:
        j = json.load(open(path))
        classes, cm = j["classes"], j["confusion"]
        total = sum(map(sum, cm))
        print(f"### {j['model']} on {j['data']} ({total} samples, accuracy {j['accuracy']:.3f})\n")
    print("| class | samples | prior | recall | precision | predicted share | predicted / prior |")
    print("|---|---|---|---|---|---|---|")
    recalls = []
    for i, c in enumerate(classes):
        n = sum(cm[i])
        p = sum(row[i] for row in cm)
        if n:
            recalls.append(cm[i][i] / n)
        r = f"{cm[i][i] / n:.3f}" if n else "-"
        pr = f"{cm[i][i] / p:.3f}" if p else "-"
        ratio = f"{(p / total) / (n / total):.2f}" if n else "-"
        print(f"| {c} | {n} | {n / total:.3f} | {r} | {pr} | {p / total:.3f} | {ratio} |")
    print(f"\nmacro recall over the {len(recalls)} classes present: **{sum(recalls) / len(recalls):.3f}**\n")
    print("| true \\ predicted | " + " | ".join(classes) + " |")
    print("|---|" + "---|" * len(classes))
    for i, c in enumerate(classes):
        print(f"| {c} | " + " | ".join(str(v) for v in cm[i]) + " |")
    print()


if sys.argv[1:2] == ["--pool"]:
    report(None, sys.argv[2:])
else:
    for p in sys.argv[1:]:
        report(p)
