"""flowpic on a local Dask cluster (docs/python.md): the bundled model classifies the flows of
every capture of a class-per-directory tree (the lab dataset), one task per file. Each task gets
the file's bytes, so the workers need no shared file system.

    python3 python/examples/dask_lab.py data/lab/dataset [--workers 2] [--check]

--check also classifies every file here, without Dask, and exits 1 unless the results agree.
Exits 77 where Debian's python3-distributed is not installed.
"""
import argparse
import collections
import os
import sys

try:
    from distributed import Client, LocalCluster
except ImportError:
    print("dask_lab: needs Dask's distributed (Debian: python3-distributed); skipped", file=sys.stderr)
    sys.exit(77)

import flowpic


def classify_capture(name, data):
    """One task: a capture's bytes -> its flows' classes (majority vote over each flow's blocks)."""
    result = flowpic.classify(data, decision="majority", threads=1)
    return name, os.getpid(), collections.Counter(result["class"])


def captures(root):
    for cls in sorted(os.listdir(root)):
        d = os.path.join(root, cls)
        if os.path.isdir(d):
            for f in sorted(os.listdir(d)):
                if not f.startswith("."):
                    yield cls, os.path.join(cls, f), os.path.join(d, f)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", help="DIR/<class>/<captures>")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--check", action="store_true", help="compare with a run without Dask")
    args = ap.parse_args()

    files = list(captures(args.root))
    truth = {name: cls for cls, name, _ in files}
    blobs = []
    for _, name, path in files:
        with open(path, "rb") as f:
            blobs.append(f.read())

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        data = client.scatter(blobs)  # the bytes go to the workers once, not inside the task graph
        futures = client.map(classify_capture, [name for _, name, _ in files], data)
        results = client.gather(futures)

    right = total = 0
    print("%-32s %-14s %6s  %s" % ("capture", "class", "flows", "classes of its flows"))
    for name, pid, counts in results:
        n = sum(counts.values())
        right += counts.get(truth[name], 0)
        total += n
        print("%-32s %-14s %6d  %s" % (name, truth[name], n, dict(counts.most_common())))
    print("%d flows in %d captures on %d workers (%d processes ran tasks): %.1f%% of the flows get their "
          "directory's class" % (total, len(results), args.workers, len({pid for _, pid, _ in results}),
                                 100.0 * right / max(total, 1)))

    if args.check:
        for (name, _, counts), blob in zip(results, blobs):
            here = collections.Counter(flowpic.classify(blob, decision="majority")["class"])
            if here != counts:
                print("dask_lab: %s: %s with Dask, %s without" % (name, dict(counts), dict(here)), file=sys.stderr)
                return 1
        if total == 0:
            print("dask_lab: no flows classified", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
