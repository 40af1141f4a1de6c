#!/usr/bin/python3
"""Outputs that never lose data: `flowpic dataset`, `train` and `render` are killed (SIGKILL) at
seeded random points while they replace a previous run's output, and every output path must then
hold the old file or the complete new one, byte for byte (the runs are deterministic), never a
torn one; the only other entries allowed are temporaries named .NAME.flowpic-XXXXXX
(include/flowpic/core/atomic_file.hpp). A model left behind must load (`flowpic model-info`).

Before that, output directories: `render` and `export-weights` refuse a directory that holds
their output unless --force (render: or --append, which extends index.csv).

  kill_outputs.py FLOWPIC LAB_DATASET_DIR CAPTURE WORKDIR [SEED]
"""

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

TEMP = re.compile(r"^\..+\.flowpic-[A-Za-z0-9]{6}$")
KILLS = 5  # per command


def run(args, **kw):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    if r.returncode != 0:
        sys.exit("kill test: %s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr.decode(errors="replace")))
    return r


def timed(args):
    t = time.monotonic()
    run(args)
    return time.monotonic() - t


def snapshot(path):
    """{name: bytes} of a file or of a directory's files."""
    if os.path.isdir(path):
        return {n: open(os.path.join(path, n), "rb").read() for n in sorted(os.listdir(path))}
    return {os.path.basename(path): open(path, "rb").read()} if os.path.exists(path) else {}


def restore(path, files):
    """Puts a snapshot back (cheaper than running the command again)."""
    if os.path.isdir(path):
        shutil.rmtree(path)
        os.makedirs(path)
        for name, data in files.items():
            with open(os.path.join(path, name), "wb") as f:
                f.write(data)
    else:
        for name in os.listdir(os.path.dirname(path)):
            if TEMP.match(name):
                os.unlink(os.path.join(os.path.dirname(path), name))
        with open(path, "wb") as f:
            f.write(files[os.path.basename(path)])


def killed(args, after):
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(after)
    p.send_signal(signal.SIGKILL)
    return p.wait()


def check(what, path, old, new, problems):
    """Every entry of `path` (a file, or a directory's files) is the old or the new version."""
    directory = os.path.isdir(path)
    names = sorted(os.listdir(path)) if directory else [os.path.basename(path)]
    parent = path if directory else os.path.dirname(path)
    for name in names:
        full = os.path.join(parent, name)
        if not os.path.exists(full):
            continue
        if TEMP.match(name):
            continue
        data = open(full, "rb").read()
        if data != old.get(name) and data != new.get(name):
            problems.append("%s: %s is neither the old nor the new file (%d bytes): torn" % (what, full, len(data)))
    if not directory:
        for name in os.listdir(parent):
            if name.startswith("." + os.path.basename(path)) and not TEMP.match(name):
                problems.append("%s: %s: a stray file of no documented pattern" % (what, name))


def refused(args, problems, what):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = r.stderr.decode(errors="replace")
    if r.returncode != 2 or "already holds output" not in err or "--force" not in err:
        problems.append("%s: expected a refusal (exit 2, 'already holds output ... --force'), got %d: %s"
                        % (what, r.returncode, err.strip()))


def directories(tool, capture, model, work, problems):
    d = os.path.join(work, "dir")
    render = [tool, "render", capture, "--preset", "mini_flowpic", "--out", d]
    run(render)
    first = snapshot(d)
    refused(render, problems, "render into its own output")
    if snapshot(d) != first:
        problems.append("render: a refused run changed the directory")
    run(render + ["--force"])
    if snapshot(d) != first:
        problems.append("render --force: not the same output as the first run")
    run(render + ["--append"])
    rows = first["index.csv"].decode().splitlines()[1:]
    index = snapshot(d)["index.csv"].decode().splitlines()
    n = len(rows)
    pics = sorted(k for k in snapshot(d) if k.endswith(".npy"))
    if index[1:] != rows + [r[:-10] + "%06d.npy" % (n + i) for i, r in enumerate(rows)] or len(pics) != 2 * n:
        problems.append("render --append: expected %d rows and pictures, the first run's twice, got %d rows, %d pictures"
                        % (2 * n, len(index) - 1, len(pics)))
    run(render + ["--force"])
    if snapshot(d) != first:
        problems.append("render --force after --append: the appended pictures are still there")
    w = os.path.join(work, "weights")
    export = [tool, "export-weights", "--model", model, "--to", w]
    run(export)
    refused(export, problems, "export-weights into its own output")
    run(export + ["--force"])


def main():
    tool, lab, capture, work = sys.argv[1:5]
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    # a small tree: two classes of the lab's dataset, one lab recording each
    tree = os.path.join(work, "tree")
    for c in ("chat", "video"):
        os.makedirs(os.path.join(tree, c))
        f = sorted(os.listdir(os.path.join(lab, c)))[0]
        os.symlink(os.path.abspath(os.path.join(lab, c, f)), os.path.join(tree, c, f))
    fpd = os.path.join(work, "set.fpd")
    fpm = os.path.join(work, "model.fpm")
    pictures = os.path.join(work, "pictures")
    dataset = lambda seed: [tool, "dataset", "--data", tree, "--preset", "mini_flowpic", "--all-windows",
                            "--seed", str(seed), "--out", fpd]
    train = lambda seed: [tool, "train", "--data", fpd, "--out", fpm, "--epochs", "2", "--seed", str(seed),
                          "--threads", "1", "--quiet"]
    render = lambda preset: [tool, "render", capture, "--preset", preset, "--out", pictures, "--force"]

    problems = []
    run(dataset(1))
    run(train(1))
    directories(tool, capture, fpm, work, problems)
    # each command: the old output (another seed or preset), the new one, then killed runs that
    # replace the old with the new
    for what, make_old, make_new in (("dataset", dataset(2), dataset(1)), ("train", train(2), train(1)),
                                     ("render", render("mini_flowpic64"), render("mini_flowpic"))):
        out = {"dataset": fpd, "train": fpm, "render": pictures}[what]
        if what == "train":
            run(dataset(1))  # train's input
        took = timed(make_new)
        new = snapshot(out)
        run(make_old)
        old = snapshot(out)
        if old == new:
            problems.append("%s: the old and the new output are the same: the test cannot tell them apart" % what)
        for _ in range(KILLS):
            after = rng.uniform(0.0, took * 1.2)
            rc = killed(make_new, after)
            check(what, out, old, new, problems)
            if what == "train" and os.path.exists(fpm):
                run([tool, "model-info", fpm])
            restore(out, old)  # the next kill replaces the old output again
            sys.stdout.write("%s: killed after %.3f s (exit %d)\n" % (what, after, rc))
    for p in problems:
        print("kill test: " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
