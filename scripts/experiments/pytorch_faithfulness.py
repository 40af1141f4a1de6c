#!/usr/bin/python3
"""Experiment 4 (docs/accuracy.md): train the mini-FlowPic network in PyTorch on the very pictures
and split that `flowpic train` uses, with the same hyper-parameters, and write flowpic's
`eval --json` schema so that both sides are summarised alike.

Input: a directory with {train,validation,test}_x.npy (float32 [N, 1, H, W], as
`flowpic eval --split S --pictures` writes them) and {train,validation,test}_y.npy (float32 [N],
`--labels`), plus classes.txt (one class name per line, model order).

Training as flowpic train does for the mini_flowpic presets (reference.md A.2, tcbench):
LeNet-5 (Conv 6@5x5, ReLU, MaxPool 2, Conv 16@5x5, ReLU, Dropout2d 0.25, MaxPool 2, Dense 120,
ReLU, Dense 84, ReLU, Dropout 0.5, Dense C), PyTorch's default initialisation, Adam (lr 1e-3),
cross-entropy on logits, batch 32, shuffled every epoch, at most --epochs epochs, early stopping
on validation loss with --patience, best weights restored. The network definition is the one of
../shared/peers/cnn_peer.py ("mini") with the two dropout layers that cnn_peer.py leaves out
(it times inference and training steps only).

Per seed it writes OUT/torch-seed<S>.json (test split) and, with --export-weights, the trained
weights as OUT/torch-seed<S>-weights/<i>.weight.npy, <i>.bias.npy for `flowpic import-weights`.

Usage: /usr/bin/python3 scripts/experiments/pytorch_faithfulness.py --pictures DIR --out DIR
           [--seeds 1 2 3] [--epochs 200] [--patience 10] [--batch 32] [--lr 1e-3] [--threads 2]
"""
import argparse
import copy
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def mini_flowpic(classes, res):
    flat = 16 * ((((res - 4) // 2) - 4) // 2) ** 2
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.Dropout2d(0.25), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(flat, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(84, classes))


def load(d, split):
    x = np.load(os.path.join(d, f"{split}_x.npy")).astype(np.float32)
    y = np.load(os.path.join(d, f"{split}_y.npy")).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def evaluate(model, x, y, batch=256):
    model.eval()
    loss, preds = 0.0, []
    with torch.no_grad():
        for s in range(0, len(x), batch):
            out = model(x[s:s + batch])
            loss += F.cross_entropy(out, y[s:s + batch], reduction="sum").item()
            preds.append(out.argmax(1))
    return loss / max(len(x), 1), torch.cat(preds) if preds else torch.empty(0, dtype=torch.long)


def report(classes, y, pred):
    c = len(classes)
    conf = np.zeros((c, c), dtype=np.int64)
    for t, p in zip(y.tolist(), pred.tolist()):
        conf[t, p] += 1
    per, f1s = {}, []
    for i, name in enumerate(classes):
        tp = conf[i, i]
        prec = tp / conf[:, i].sum() if conf[:, i].sum() else 0.0
        rec = tp / conf[i, :].sum() if conf[i, :].sum() else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per[name] = {"precision": float(prec), "recall": float(rec), "f1": float(f1), "support": int(conf[i, :].sum())}
        if conf[i, :].sum():
            f1s.append(f1)
    return {"samples": int(len(y)), "accuracy": float(np.trace(conf) / max(conf.sum(), 1)),
            "macro_f1": float(np.mean(f1s)) if f1s else 0.0, "classes": classes, "per_class": per,
            "confusion": conf.tolist()}


def tensors(model):
    out, i = [], 0
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            out += [(f"{i}.weight", m.weight), (f"{i}.bias", m.bias)]
            i += 1
    return out


def run(a, seed, data, classes):
    (xtr, ytr), (xva, yva), (xte, yte) = data
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = mini_flowpic(len(classes), xtr.shape[-1])
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    gen = torch.Generator().manual_seed(seed)
    best, best_loss, best_epoch, since = None, float("inf"), 0, 0
    t0 = time.time()
    for epoch in range(1, a.epochs + 1):
        model.train()
        order = torch.randperm(len(xtr), generator=gen)
        for s in range(0, len(xtr), a.batch):
            idx = order[s:s + a.batch]
            opt.zero_grad()
            F.cross_entropy(model(xtr[idx]), ytr[idx]).backward()
            opt.step()
        vl, _ = evaluate(model, xva, yva)
        if vl < best_loss:
            best, best_loss, best_epoch, since = copy.deepcopy(model.state_dict()), vl, epoch, 0
        else:
            since += 1
        if a.patience and since >= a.patience:
            break
    model.load_state_dict(best)
    _, pred = evaluate(model, xte, yte)
    rep = report(classes, yte, pred)
    rep.update({"model": f"torch seed {seed}", "data": a.pictures, "split": "test", "epochs_run": epoch,
                "best_epoch": best_epoch, "best_val_loss": best_loss, "seconds": time.time() - t0})
    with open(os.path.join(a.out, f"torch-seed{seed}.json"), "w") as f:
        json.dump(rep, f, indent=1)
    if a.export_weights:
        d = os.path.join(a.out, f"torch-seed{seed}-weights")
        os.makedirs(d, exist_ok=True)
        for name, p in tensors(model):
            np.save(os.path.join(d, name + ".npy"), p.detach().numpy().astype(np.float32))
    print(f"torch seed {seed}: {epoch} epochs (best {best_epoch}, val loss {best_loss:.4f}), "
          f"test accuracy {100 * rep['accuracy']:.2f} %, macro-F1 {100 * rep['macro_f1']:.2f} %, "
          f"{time.time() - t0:.1f} s", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pictures", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--patience", type=int, default=10)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--export-weights", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    classes = [l.strip() for l in open(os.path.join(a.pictures, "classes.txt")) if l.strip()]
    data = [load(a.pictures, s) for s in ("train", "validation", "test")]
    print(f"pictures: train {len(data[0][0])}, validation {len(data[1][0])}, test {len(data[2][0])}, "
          f"{data[0][0].shape[-1]}x{data[0][0].shape[-1]}, classes {classes}", flush=True)
    for s in a.seeds:
        run(a, s, data, classes)


if __name__ == "__main__":
    main()
