#!/usr/bin/python3
"""PyTorch reference outputs for flowpic's network (tests/unit/test_nn_parity.cpp, test_nn_train.cpp).

Run from the repository root with Debian's interpreter (apt-get install -y python3-torch):
    /usr/bin/python3 scripts/make_nn_fixtures.py [--out tests/fixtures/nn]

Each case directory holds .npy files only:
    seed.npy            the splitmix64 seed of the weights (flowpic's nn::rng, reimplemented below,
                        so the weights are regenerated instead of stored)
    input.npy           dense input [N, C, H, W], or input_coo.npy [nnz, 4] int32 (n, c, y, x) +
                        input_values.npy for the sparse 1500x1500 FlowPic-like inputs
    labels.npy          int32 [N]
    probs.npy           PyTorch's output probabilities (eval mode: dropout off) [N, outputs]
    loss.npy            the mean loss [1] (cross-entropy on logits, or BCE with logits)
    grad_<i>.<role>.npy gradient of the mean loss for tensor <i>.<role> (PyTorch layout), or, for
                        tensors over 20,000 values, grad_<i>.<role>.idx.npy (int32, a fixed random
                        subset of flat indices) + grad_<i>.<role>.val.npy
    dinput.npy          gradient with respect to the input (small inputs only)
Training cases (train_adam, train_sgd) hold params_<step>_... subsets and losses.npy instead.
interop_mini32_c5 holds weights/<i>.weight.npy, weights/<i>.bias.npy (PyTorch's own initialisation),
pictures.npy (uint16 [N, 1, 32, 32]) and probs.npy: the files of a PyTorch user's model.

The networks mirror reference.md A.1-A.3; Keras' asymmetric 'same' padding is ZeroPad2d(2, 3, 2, 3).
"""
import argparse
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


class SplitMix:
    """flowpic::nn::rng: splitmix64; uniform() = 24 random bits / 2^24 (exact in float)."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + GOLDEN) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self, lo, hi):
        u = (self.next() >> 40) * (1.0 / 16777216.0)
        return lo + (hi - lo) * u


def kaiming_init(model, seed):
    """flowpic's init(kaiming_uniform, seed): per layer with parameters, weights then biases,
    all U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn from one splitmix stream in that order."""
    r = SplitMix(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                a = 1.0 / math.sqrt(fan_in)
                w = np.array([r.uniform(-a, a) for _ in range(m.weight.numel())], dtype=np.float64)
                b = np.array([r.uniform(-a, a) for _ in range(m.bias.numel())], dtype=np.float64)
                m.weight.copy_(torch.from_numpy(w.astype(np.float32)).reshape(m.weight.shape))
                m.bias.copy_(torch.from_numpy(b.astype(np.float32)))


def keras_same(size, k=10, s=5):
    """ZeroPad2d of Keras' 'same' (odd pixel after) and the output size."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return nn.ZeroPad2d((total // 2, total - total // 2, total // 2, total - total // 2)), out


def shapira2019(classes, res=1500, channels=1):
    pad1, o1 = keras_same(res)
    pad2, o2 = keras_same(o1 // 2)
    return nn.Sequential(
        pad1, nn.Conv2d(channels, 10, 10, stride=5), nn.ReLU(), nn.MaxPool2d(2),
        pad2, nn.Conv2d(10, 20, 10, stride=5), nn.ReLU(), nn.Dropout(0.25), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(20 * (o2 // 2) ** 2, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, classes))


def network_stats(channels=1):
    return nn.Sequential(
        nn.Conv2d(channels, 10, 10, stride=5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(10, 20, 10, stride=5), nn.ReLU(), nn.Dropout(0.25), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3920, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 1))


def mini_flowpic(classes, res=32, dropout=True):
    flat = 16 * ((((res - 4) // 2) - 4) // 2) ** 2
    layers = [nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout2d(0.25))
    layers += [nn.MaxPool2d(2), nn.Flatten(), nn.Linear(flat, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(0.5))
    layers.append(nn.Linear(84, classes))
    return nn.Sequential(*layers)


def tensors(model):
    """(name, parameter) in flowpic's numbering: i counts the layers with parameters."""
    out, i = [], 0
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            out += [(f"{i}.weight", m.weight), (f"{i}.bias", m.bias)]
            i += 1
    return out


def save(d, name, a):
    np.save(os.path.join(d, name + ".npy"), np.ascontiguousarray(a))


def save_grads(d, model, rng, prefix="grad_"):
    for name, p in tensors(model):
        g = p.grad.detach().numpy().astype(np.float32).ravel()
        if g.size > 20000:
            idx = np.sort(rng.choice(g.size, 4096, replace=False)).astype(np.int32)
            save(d, prefix + name + ".idx", idx)
            save(d, prefix + name + ".val", g[idx])
        else:
            save(d, prefix + name, p.grad.detach().numpy().astype(np.float32))


def flowpic_like(rng, n, res, packets):
    """Sparse counts like a 1500x1500 FlowPic, with cells on every border to exercise padding."""
    rows = []
    for s in range(n):
        ys = np.concatenate([rng.integers(0, res, packets), [0, 1, res - 3, res - 2, res - 1, res // 2]])
        xs = np.concatenate([rng.integers(0, res, packets), [res - 1, 0, 2, res - 1, 1, res - 2]])
        for y, x in zip(ys, xs):
            rows.append((s, 0, int(y), int(x)))
    coo = np.unique(np.array(rows, dtype=np.int32), axis=0)
    values = rng.integers(1, 9, len(coo)).astype(np.float32)
    dense = np.zeros((n, 1, res, res), dtype=np.float32)
    dense[coo[:, 0], coo[:, 1], coo[:, 2], coo[:, 3]] = values
    return coo, values, dense


def case(out, name, model, seed, x, labels, binary=False, coo=None, with_dinput=False):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(0)
    kaiming_init(model, seed)
    model.eval()  # dropout off: the gradients are deterministic
    save(d, "seed", np.array([seed], dtype=np.uint64))
    if coo is not None:
        save(d, "input_coo", coo[0])
        save(d, "input_values", coo[1])
    else:
        save(d, "input", x)
    save(d, "labels", labels.astype(np.int32))
    xt = torch.from_numpy(x).requires_grad_(with_dinput)
    z = model(xt)
    if binary:
        probs = torch.sigmoid(z)
        loss = F.binary_cross_entropy_with_logits(z[:, 0], torch.from_numpy(labels.astype(np.float32)))
    else:
        probs = torch.softmax(z, dim=1)
        loss = F.cross_entropy(z, torch.from_numpy(labels.astype(np.int64)))
    model.zero_grad()
    loss.backward()
    save(d, "probs", probs.detach().numpy().astype(np.float32))
    save(d, "loss", np.array([loss.item()], dtype=np.float64))
    save_grads(d, model, np.random.default_rng(seed))
    if with_dinput:
        save(d, "dinput", xt.grad.numpy().astype(np.float32))
    print(f"{name}: loss {loss.item():.6f}")


def training_case(out, name, optimizer, seed, steps=3):
    """A few optimiser steps on the mini network without dropout, weighted classes."""
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    model = mini_flowpic(4, 32, dropout=False)
    kaiming_init(model, seed)
    rng = np.random.default_rng(seed)
    x = (rng.random((8, 1, 32, 32)) < 0.2).astype(np.float32) * rng.random((8, 1, 32, 32)).astype(np.float32)
    labels = np.array([0, 1, 2, 3, 0, 1, 2, 3], dtype=np.int32)
    weights = np.array([1.0, 2.0, 0.5, 1.5])
    save(d, "seed", np.array([seed], dtype=np.uint64))
    save(d, "input", x)
    save(d, "labels", labels)
    save(d, "class_weights", weights)
    opt = optimizer(model.parameters())
    loss_fn = nn.CrossEntropyLoss(weight=torch.from_numpy(weights.astype(np.float32)))
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(torch.from_numpy(x)), torch.from_numpy(labels.astype(np.int64)))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    save(d, "losses", np.array(losses, dtype=np.float64))
    sub = np.random.default_rng(seed + 1)
    for pname, p in tensors(model):
        v = p.detach().numpy().astype(np.float32).ravel()
        if v.size > 20000:
            idx = np.sort(sub.choice(v.size, 4096, replace=False)).astype(np.int32)
            save(d, "params_" + pname + ".idx", idx)
            save(d, "params_" + pname + ".val", v[idx])
        else:
            save(d, "params_" + pname, v)
    print(f"{name}: losses {losses}")


def interop_case(out, name, seed):
    """What a PyTorch user hands to `flowpic import-weights`: PyTorch's own initialisation saved as
    weights/<i>.weight.npy and weights/<i>.bias.npy, uint16 count pictures, and the probabilities
    PyTorch gives them (tests/cli: import-weights, predict, export-weights)."""
    d = os.path.join(out, name)
    os.makedirs(os.path.join(d, "weights"), exist_ok=True)
    torch.manual_seed(seed)
    model = mini_flowpic(5, 32)
    model.eval()
    rng = np.random.default_rng(seed)
    counts = (rng.poisson(0.8, (6, 1, 32, 32)) * (rng.random((6, 1, 32, 32)) < 0.25)).astype(np.uint16)
    for pname, p in tensors(model):
        save(os.path.join(d, "weights"), pname, p.detach().numpy().astype(np.float32))
    save(d, "pictures", counts)
    with torch.no_grad():
        probs = torch.softmax(model(torch.from_numpy(counts.astype(np.float32))), dim=1)
    save(d, "probs", probs.numpy().astype(np.float32))
    print(f"{name}: {len(counts)} pictures")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="tests/fixtures/nn")
    ap.add_argument("--only", help="make this case only (e.g. interop_mini32_c5)")
    a = ap.parse_args()
    torch.set_num_threads(2)
    if a.only == "interop_mini32_c5":
        interop_case(a.out, a.only, 108)
        return
    if a.only:
        ap.error("--only knows interop_mini32_c5")
    rng = np.random.default_rng(20240601)

    coo, values, dense = flowpic_like(rng, 2, 1500, 1500)
    case(a.out, "shapira2019_c5", shapira2019(5), 101, dense, np.array([3, 1]), coo=(coo, values))
    coo, values, dense = flowpic_like(rng, 2, 1500, 1500)
    case(a.out, "network_stats", network_stats(), 102, dense, np.array([1, 0]), binary=True, coo=(coo, values))

    x = (rng.random((3, 1, 32, 32)) * (rng.random((3, 1, 32, 32)) < 0.3)).astype(np.float32)
    case(a.out, "mini_flowpic32_c5", mini_flowpic(5, 32), 103, x, np.array([4, 0, 2]), with_dinput=True)
    x = (rng.random((2, 1, 64, 64)) * (rng.random((2, 1, 64, 64)) < 0.3)).astype(np.float32)
    case(a.out, "mini_flowpic64_c3", mini_flowpic(3, 64), 104, x, np.array([2, 1]), with_dinput=True)
    # the FlowPic layers on a small picture ('same' pads 4 and 5 in the second conv), the input's
    # gradient included
    x = rng.random((2, 1, 160, 160)).astype(np.float32)
    case(a.out, "shapira2019_160_c4", shapira2019(4, 160), 105, x, np.array([0, 3]), with_dinput=True)

    training_case(a.out, "train_adam", lambda p: torch.optim.Adam(p, lr=1e-3), 106)
    training_case(a.out, "train_sgd", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9), 107)
    interop_case(a.out, "interop_mini32_c5", 108)


if __name__ == "__main__":
    main()
