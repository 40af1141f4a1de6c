#!/usr/bin/python3
"""The end-to-end FlowPic pipeline made of the peers, for `flowpic classify` side by side:
dpkt reads the capture (Ethernet, SLL or raw IP) and groups packets into flows, numpy makes the
pictures (numpy.histogram2d, as ../shared/peers/hist_peer.py), PyTorch (2 threads) runs the
network (../shared/peers/cnn_peer.py's nets, random weights: throughput only).

  mini_flowpic:  bidirectional flows, their first 15 s, 32x32, sizes clipped to 1500, counts
                 clipped at 255 / 255, LeNet-5 (reference.md A.2)
  shapira2019:   unidirectional flows, 60 s windows with > 10 packets and a span > 50 s,
                 1500x1500 raw counts, the FlowPic network (A.1)

Usage: classify_peer.py --preset mini_flowpic|shapira2019 [--batch 32] CAPTURE...
Prints: peer=python_classify preset=... packets=... blocks=... seconds=... packets_per_s=... blocks_per_s=...
"""
import argparse
import socket
import sys
import time

import dpkt
import numpy as np
import torch
import torch.nn as nn


def lenet(classes=5):
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, classes))


def flowpic_net(classes=5):
    return nn.Sequential(nn.ZeroPad2d((2, 3, 2, 3)), nn.Conv2d(1, 10, 10, stride=5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.ZeroPad2d((2, 3, 2, 3)), nn.Conv2d(10, 20, 10, stride=5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4500, 64), nn.ReLU(), nn.Linear(64, classes))


def packets(path):
    """(key, time, size) of every TCP/UDP packet over IPv4/IPv6."""
    with open(path, "rb") as fh:
        try:
            rd = dpkt.pcap.Reader(fh)
        except ValueError:
            fh.seek(0)
            rd = dpkt.pcapng.Reader(fh)
        dl = rd.datalink()
        for ts, buf in rd:
            try:
                if dl == 1:
                    ip = dpkt.ethernet.Ethernet(buf).data
                elif dl == 113:
                    ip = dpkt.sll.SLL(buf).data
                else:
                    ip = dpkt.ip.IP(buf)
            except Exception:
                continue
            if isinstance(ip, dpkt.ip.IP):
                size, src, dst = ip.len, ip.src, ip.dst
            elif isinstance(ip, dpkt.ip6.IP6):
                size, src, dst = ip.plen + 40, ip.src, ip.dst
            else:
                continue
            l4 = ip.data
            if not isinstance(l4, (dpkt.tcp.TCP, dpkt.udp.UDP)):
                continue
            yield (src, dst, l4.sport, l4.dport, ip.p), float(ts), size


class Mini:
    res, window = 32, 15.0

    def __init__(self):
        self.flows = {}  # canonical key -> (start, times, sizes) of the first 15 s

    def add(self, key, t, size, out):
        a, b = (key[0], key[2]), (key[1], key[3])
        k = (min(a, b), max(a, b), key[4])
        f = self.flows.get(k)
        if f is None:
            f = self.flows[k] = [t, [], [], False]
        if f[3]:
            return
        if t - f[0] >= self.window:
            f[3] = True
            out.append((f[0], f[1], f[2]))
            return
        f[1].append(t)
        f[2].append(size)

    def finish(self, out):
        for f in self.flows.values():
            if not f[3]:
                out.append((f[0], f[1], f[2]))

    def picture(self, start, ts, sizes):
        h, _, _ = np.histogram2d(np.minimum(np.asarray(sizes), 1500), np.asarray(ts) - start,
                                 bins=self.res, range=[[0, 1500], [0, self.window]])
        return np.minimum(h, 255) / 255.0


class Shapira:
    res, window = 1500, 60.0

    def __init__(self):
        self.flows = {}  # key -> (first, window index, times, sizes)

    def _close(self, f, out):
        ts, sizes = f[2], f[3]
        if len(ts) > 10 and ts[-1] - ts[0] > 50:
            out.append((ts[0], ts, sizes))

    def add(self, key, t, size, out):
        f = self.flows.get(key)
        if f is None:
            f = self.flows[key] = [t, 0, [], []]
        w = int((t - f[0]) // self.window)
        if w != f[1]:
            self._close(f, out)
            f[1], f[2], f[3] = w, [], []
        f[2].append(t)
        f[3].append(size)

    def finish(self, out):
        for f in self.flows.values():
            self._close(f, out)

    def picture(self, start, ts, sizes):
        ts, sizes = np.asarray(ts), np.asarray(sizes)
        keep = sizes <= 1500
        ts, sizes = ts[keep], sizes[keep]
        span = max(ts[-1] - ts[0], 1e-9) if len(ts) else 1.0
        h, _, _ = np.histogram2d(sizes, (ts - ts[0]) / span * 1500 if len(ts) else ts,
                                 bins=self.res, range=[[0, 1500], [0, 1500]])
        return h


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", choices=["mini_flowpic", "shapira2019"], default="mini_flowpic")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("captures", nargs="+")
    a = ap.parse_args()
    torch.set_num_threads(2)
    stage = Mini() if a.preset == "mini_flowpic" else Shapira()
    net = (lenet() if a.preset == "mini_flowpic" else flowpic_net()).eval()
    t0 = time.perf_counter()
    n_packets = n_blocks = 0
    pending, labels = [], []

    def run(blocks):
        nonlocal n_blocks
        while len(blocks) >= a.batch or (blocks and run.final):
            chunk, blocks[:] = blocks[: a.batch], blocks[a.batch:]
            x = torch.from_numpy(np.stack([stage.picture(*b) for b in chunk]).astype(np.float32)[:, None])
            with torch.inference_mode():
                p = torch.softmax(net(x), dim=1)
            labels.extend(p.argmax(1).tolist())
            n_blocks += len(chunk)

    run.final = False
    for path in a.captures:
        for key, t, size in packets(path):
            n_packets += 1
            stage.add(key, t, size, pending)
            if len(pending) >= a.batch:
                run(pending)
    stage.finish(pending)
    run.final = True
    run(pending)
    s = time.perf_counter() - t0
    print(f"peer=python_classify preset={a.preset} packets={n_packets} blocks={n_blocks} seconds={s:.3f} "
          f"packets_per_s={n_packets / s:.0f} blocks_per_s={n_blocks / s:.1f}")


if __name__ == "__main__":
    sys.exit(main())
