#!/usr/bin/python3
"""Makes tests/fixtures/pictures: FlowPic pictures computed with numpy.histogram2d exactly as
../shared/docs/reference.md defines each variant, on real blocks of ../shared/data and on
edge-case blocks. The C++ tests compare every backend of flowpic's picture stage with them.

Independent of flowpic: pcaps are read by a few lines of struct code here (IP total length
from the IP header, also in truncated captures), flows and blocks are cut the way the
reference code cuts them, and each picture is the reference's own numpy expression.

Output, per block NAME:
  NAME.packets.npy   int64 (n, 3): time_ns, size, dir (0 up / forward, 1 down / reverse)
  NAME.expected.npy  float64 (rows, 4): variant id, flat cell (row * width + col),
                     channel 0 value, channel 1 value (NaN when the variant has one channel);
                     one row per cell that received at least one packet, sorted by cell
  blocks.csv         name, origin, session_start_ns, window_start_ns, window_end_ns, packets,
                     and for real blocks the capture, flow key and window index
  variants.csv       id, name, height, width, channels, what it is

Run from the repository root with Debian's python3 (numpy 1.24):
  /usr/bin/python3 scripts/make_picture_fixtures.py [--shared ../shared/data] [--out tests/fixtures/pictures]
"""
import argparse
import csv
import os
import socket
import struct
import sys

import numpy as np

MTU = 1500

# ----------------------------------------------------------------------------- pcap reading


def read_pcap(path):
    """Yields (time_ns, src, dst, sport, dport, proto, ip_total_length) of TCP/UDP packets."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise ValueError(f"{path}: not a classic pcap file")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(end + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        frame = data[off:off + caplen]
        off += caplen
        t_ns = sec * 1_000_000_000 + (frac if nano else frac * 1000)
        pkt = decode(linktype, frame)
        if pkt is not None:
            yield (t_ns,) + pkt


def decode(linktype, frame):
    if linktype == 1:  # Ethernet, with VLAN tags
        if len(frame) < 14:
            return None
        etype = struct.unpack(">H", frame[12:14])[0]
        p = 14
        while etype in (0x8100, 0x88A8) and len(frame) >= p + 4:
            etype = struct.unpack(">H", frame[p + 2:p + 4])[0]
            p += 4
        ip = frame[p:]
    elif linktype in (101, 228):
        ip = frame
        etype = 0x0800 if ip and ip[0] >> 4 == 4 else 0x86DD
    else:
        return None
    if etype == 0x0800 and len(ip) >= 20:
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        frag = struct.unpack(">H", ip[6:8])[0] & 0x1FFF
        proto = ip[9]
        src, dst = socket.inet_ntop(socket.AF_INET, ip[12:16]), socket.inet_ntop(socket.AF_INET, ip[16:20])
        l4 = ip[ihl:]
        if frag != 0:
            return None
    elif etype == 0x86DD and len(ip) >= 40:
        total = struct.unpack(">H", ip[4:6])[0] + 40
        proto = ip[6]
        src, dst = socket.inet_ntop(socket.AF_INET6, ip[8:24]), socket.inet_ntop(socket.AF_INET6, ip[24:40])
        l4 = ip[40:]
    else:
        return None
    if proto not in (6, 17) or len(l4) < 4:
        return None
    sport, dport = struct.unpack(">HH", l4[:4])
    return src, dst, sport, dport, proto, total


def unidirectional_flows(packets):
    flows = {}
    for t, src, dst, sp, dp, pr, size in packets:
        flows.setdefault((src, dst, sp, dp, pr), []).append((t, size))
    return flows


# ----------------------------------------------------------------------------- the variants
#
# Each variant takes the block's packets (time_ns int64, size int64, dir int64) and its meta
# (session_start_ns, window_start_ns, window_end_ns) and returns (H, W, C, occupied, channels)
# with channels a list of float64 (H, W) arrays.


def authors_seconds(t_ns, session):
    """The authors' CSV times: round(t - t_session, 6) seconds (Python 2 round: ties away from
    zero), read back as float64 = the nearest double to k / 1e6."""
    d = t_ns - session
    k = np.sign(d) * ((np.abs(d) + 500) // 1000)
    return k / 1e6


def session_2d_histogram(ts, sizes, tps=None):
    """FlowPic TrafficParser/sessions_plotter.py, verbatim."""
    if tps is None:
        max_delta_time = ts[-1] - ts[0]
    else:
        max_delta_time = tps
    ts_norm = ((np.array(ts) - ts[0]) / max_delta_time) * MTU
    H, xedges, yedges = np.histogram2d(sizes, ts_norm, bins=(range(0, MTU + 1, 1), range(0, MTU + 1, 1)))
    return H.astype(np.uint16)


def a1_counts(t, s, meta, tps=None):
    if t.size == 0:
        return np.zeros((MTU, MTU))
    with np.errstate(invalid="ignore", divide="ignore"):  # zero span: 0/0 = NaN, which numpy drops
        return session_2d_histogram(authors_seconds(t, meta[0]), s, tps).astype(np.float64)


def v_a1(t, s, d, meta):
    h = a1_counts(t, s, meta)
    return MTU, MTU, 1, h > 0, [h]


def v_a1_tps60(t, s, d, meta):
    h = a1_counts(t, s, meta, tps=60)
    return MTU, MTU, 1, h > 0, [h]


def v_a1_log1p(t, s, d, meta):
    h = a1_counts(t, s, meta)
    return MTU, MTU, 1, h > 0, [np.log1p(h).astype(np.float32).astype(np.float64)]


def v_a1_bydir(t, s, d, meta):
    # counts of each direction on the axes of the whole block (the span of all its packets)
    if t.size == 0:
        z = np.zeros((MTU, MTU))
        return MTU, MTU, 2, z > 0, [z, z]
    ts = authors_seconds(t, meta[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        ts_norm = ((ts - ts[0]) / (ts[-1] - ts[0])) * MTU
    edges = range(0, MTU + 1)
    up = np.histogram2d(s[d == 0], ts_norm[d == 0], bins=(edges, edges))[0].astype(np.uint16).astype(np.float64)
    down = np.histogram2d(s[d == 1], ts_norm[d == 1], bins=(edges, edges))[0].astype(np.uint16).astype(np.float64)
    return MTU, MTU, 2, (up + down) > 0, [up, down]


def get_flowpic(timetofirst, pkts_size, dim, max_block_duration):
    """tcbench modeling/augmentation.py get_flowpic, verbatim but for the duration argument."""
    indexes = np.where(timetofirst < max_block_duration)[0]
    timetofirst = timetofirst[indexes]
    pkts_size = np.clip(pkts_size[indexes], a_min=0, a_max=MTU)
    timetofirst_norm = (timetofirst / max_block_duration) * dim
    pkts_size_norm = (pkts_size / MTU) * dim
    bins = range(dim + 1)
    mtx, _, _ = np.histogram2d(x=pkts_size_norm, y=timetofirst_norm, bins=(bins, bins))
    mtx = np.clip(mtx, a_min=0, a_max=255).astype("uint8")
    return mtx


def make_a2(dim):
    def v(t, s, d, meta):
        # the block's own window is mini-FlowPic's "first 15 s" (flowpic's blocks of that preset
        # are 15 s long); timetofirst = float64 seconds since the window start
        length = (meta[2] - meta[1]) / 1e9
        ttf = (t - meta[1]).astype(np.float64) / 1e9
        mtx = get_flowpic(ttf, s, dim, length)
        img = mtx.astype(np.float32) / np.float32(255)  # torchvision ToTensor on uint8
        return dim, dim, 1, mtx > 0, [img.astype(np.float64)]
    return v


def network_stats_flowpic(ms, sizes, dirs):
    """parkeraddison/flowpic-replication src/features/flowpic.py (d373418), on arrays.
    dirs: 1 = sent by the local host, 2 = received (network-stats)."""
    keep = sizes <= 1500
    ms, sizes, dirs = ms[keep], sizes[keep], dirs[keep]
    if ms.size == 0:
        return np.zeros((1500, 1500)), np.zeros((1500, 1500)), np.full((1500, 1500), 0.5)
    times = ms - ms.min()
    with np.errstate(invalid="ignore", divide="ignore"):
        times = times / times.max() * 1500
    hist = np.histogram2d(times, sizes, bins=1500, range=[[0, 1500], [0, 1500]])
    assert np.array_equal(hist[1], np.arange(1501)) and np.array_equal(hist[2], np.arange(1501))
    counts = hist[0]
    # h / h.max(): an all-empty picture (every time NaN) would be NaN everywhere; flowpic keeps it
    # all zero, a documented choice
    h = counts / counts.max() if counts.max() > 0 else np.zeros_like(counts)
    cut_bins = np.arange(1500)
    timebins = np.searchsorted(cut_bins, times, side="right") - 1
    sizebins = np.digitize(sizes, cut_bins, right=False) - 1
    ok = ~np.isnan(times)
    down = dirs - 1
    dc = np.full((1500, 1500), 0.5)
    # groupby('bin').mean(): per occupied bin, sum / count in float64
    tot = np.zeros((1500, 1500))
    dn = np.zeros((1500, 1500))
    np.add.at(tot, (timebins[ok], sizebins[ok]), 1)
    np.add.at(dn, (timebins[ok], sizebins[ok]), down[ok])
    occ = tot > 0
    dc[occ] = dn[occ] / tot[occ]
    return counts, h, dc


def make_a3(to_f32):
    def v(t, s, d, meta):
        ms = t // 1_000_000  # network-stats: integer milliseconds since the epoch
        counts, h, dc = network_stats_flowpic(ms, s, d + 1)
        if to_f32:
            h, dc = h.astype(np.float32).astype(np.float64), dc.astype(np.float32).astype(np.float64)
        return 1500, 1500, 2, counts > 0, [h, dc]
    return v


VARIANTS = [
    ("a1", v_a1, "shapira2019: authors' us clock, stretched span, 1500x1500 uint16 counts"),
    ("a1_tps60", v_a1_tps60, "A.1 as written: 60 s from the block's first packet -> 1500 (authors' tps)"),
    ("a1_log1p", v_a1_log1p, "A.1 axes, log1p(count) as float32"),
    ("a1_bydir", v_a1_bydir, "A.1 axes, uint16 counts of up (dir 0) and down (dir 1) packets"),
    ("a2_32", make_a2(32), "mini_flowpic 32: tcbench get_flowpic over the block window, clip 255, /255 float32"),
    ("a2_64", make_a2(64), "mini_flowpic 64"),
    ("a2_1500", make_a2(1500), "mini_flowpic 1500"),
    ("a3", make_a3(False), "network_stats: rows = time, ms clock, h / h.max() float64 + download fraction"),
    ("a3_f32", make_a3(True), "network_stats as float32"),
]


def expected_rows(t, s, d, meta):
    rows = []
    for vid, (name, fn, _) in enumerate(VARIANTS):
        H, W, C, occ, chans = fn(t, s, d, meta)
        assert occ.shape == (H, W)
        cells = np.flatnonzero(occ.reshape(-1))
        r = np.full((cells.size, 4), np.nan)
        r[:, 0] = vid
        r[:, 1] = cells
        for c in range(C):
            r[:, 2 + c] = chans[c].reshape(-1)[cells]
        rows.append(r)
    return np.concatenate(rows) if rows else np.zeros((0, 4))


# ----------------------------------------------------------------------------- blocks


def authors_blocks(flow, tps=60, delta_t=60, min_tps=50):
    """traffic_csv_converter.py: windows of the session's relative (us-rounded) times."""
    t = np.array([p[0] for p in flow], dtype=np.int64)
    ts = authors_seconds(t, t[0])
    out = []
    if len(t) <= 10:
        return out
    for w in range(int(ts[-1] / delta_t - tps / delta_t) + 1):
        mask = (ts >= w * delta_t) & (ts <= (w * delta_t + tps))
        tm = ts[mask]
        if len(tm) > 10 and tm[-1] - tm[0] > min_tps:
            out.append((w, np.flatnonzero(mask)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "pictures"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    blocks = []  # (name, origin, meta, packets (n,3), extra dict)

    # --- A.1 blocks: unidirectional flows, the authors' 60 s windows (some later than window 0)
    def a1_from(rel, want, min_pk, max_pk, later=False):
        flows = unidirectional_flows(read_pcap(os.path.join(a.shared, rel)))
        picked = []
        for key in sorted(flows):
            fl = flows[key]
            for w, idx in authors_blocks(fl):
                if not (min_pk <= idx.size <= max_pk) or (later and w == 0):
                    continue
                picked.append((key, fl, w, idx))
        picked.sort(key=lambda x: (-x[3].size, x[0], x[2]))
        return picked[:want], rel

    sel = []
    for rel, want, lo, hi, later in [("fixtures/requet_youtube_C_exp343.pcap", 2, 11, 2500, False),
                                     ("fixtures/requet_youtube_C_exp343.pcap", 1, 11, 2500, True),
                                     ("requet-youtube-b2/baseline_May03_exp_300.pcap", 1, 1000, 2500, False),
                                     ("requet-youtube-b2/baseline_May03_exp_311.pcap", 1, 300, 2500, True)]:
        p, rel = a1_from(rel, want, lo, hi, later)
        sel += [(rel, x) for x in p]
    for i, (rel, (key, fl, w, idx)) in enumerate(sel):
        t = np.array([fl[j][0] for j in idx], dtype=np.int64)
        s = np.array([fl[j][1] for j in idx], dtype=np.int64)
        session = fl[0][0]
        ws = session + w * 60_000_000_000
        meta = (session, ws, ws + 60_000_000_000)
        blocks.append((f"real_a1_{i}", "authors_window", meta, np.stack([t, s, np.zeros_like(t)], 1),
                       dict(capture=rel, src=key[0], dst=key[1], sport=key[2], dport=key[3], proto=key[4], index=w)))

    # --- A.2 blocks: both directions of a connection, its first 15 s; dir 1 = towards the initiator
    def bidir_first15(rel, want, min_pk, max_pk):
        pk = list(read_pcap(os.path.join(a.shared, rel)))
        conns = {}
        for t, src, dst, sp, dp, pr, size in pk:
            k = (src, dst, sp, dp, pr)
            r = (dst, src, dp, sp, pr)
            if r in conns:
                conns[r].append((t, size, 1))
            else:
                conns.setdefault(k, []).append((t, size, 0))
        out = []
        for k in sorted(conns):
            c = conns[k]
            t0 = c[0][0]
            win = [x for x in c if x[0] < t0 + 15_000_000_000]
            if min_pk <= len(win) <= max_pk and len({x[2] for x in win}) == 2:
                out.append((k, t0, win))
        out.sort(key=lambda x: (-len(x[2]), x[0]))
        return out[:want]

    for i, (rel, lo) in enumerate([("fixtures/ndpi_netflix.pcap", 50), ("fixtures/requet_youtube_C_exp343.pcap", 200)]):
        for k, t0, win in bidir_first15(rel, 1, lo, 3000):
            arr = np.array(win, dtype=np.int64)
            meta = (t0, t0, t0 + 15_000_000_000)
            blocks.append((f"real_a2_{i}", "first_15s_bidirectional", meta, arr,
                           dict(capture=rel, src=k[0], dst=k[1], sport=k[2], dport=k[3], proto=k[4], index=0)))

    # --- A.3 block: every flow of a capture mixed, the first 60 s chunk; dir 1 = received by the
    # side that did not open the connection's first packet
    rel = "fixtures/ndpi_netflix.pcap"
    pk = list(read_pcap(os.path.join(a.shared, rel)))
    seen = set()
    rows = []
    for t, src, dst, sp, dp, pr, size in pk:
        k, r = (src, dst, sp, dp, pr), (dst, src, dp, sp, pr)
        if k not in seen and r not in seen:
            seen.add(k)
        rows.append((t, size, 0 if k in seen else 1))
    arr = np.array(rows, dtype=np.int64)
    arr = arr[np.argsort(arr[:, 0], kind="stable")]
    t0 = int(arr[0, 0])
    arr = arr[arr[:, 0] < t0 + 60_000_000_000]
    blocks.append(("real_a3_0", "all_flows_60s_chunk", (t0, t0, t0 + 60_000_000_000), arr, dict(capture=rel, index=0)))

    # --- edge cases
    base = 1_600_000_000_000_000_000
    sec = 1_000_000_000
    rng = np.random.default_rng(20240601)

    def edge(name, t, s, d, meta):
        blocks.append((name, "edge", meta, np.stack([np.asarray(t, np.int64), np.asarray(s, np.int64),
                                                      np.asarray(d, np.int64)], 1), {}))

    edge("edge_empty", [], [], [], (base, base, base + 60 * sec))
    edge("edge_one_packet", [base + 7 * sec], [700], [1], (base, base, base + 60 * sec))
    # all packets at one instant: zero span
    edge("edge_zero_span", [base + 3 * sec] * 6, [40, 40, 1500, 1501, 0, 900], [0, 1, 1, 0, 0, 1],
         (base, base, base + 60 * sec))
    # sizes 0, 1, 1499, 1500, 1501, 65535 spread over the span, twice
    sz = [0, 1, 1499, 1500, 1501, 65535] * 2
    edge("edge_sizes", [base + i * 5 * sec for i in range(len(sz))], sz, [i % 2 for i in range(len(sz))],
         (base, base, base + 60 * sec))
    # times on bin edges: a 1.5 s span in steps of 3 ms -> ts_norm 3k (+- rounding);
    # the last packet at exactly 1500 (closed last bin); then a 60 s span on 120 ms steps
    t = [base + k * 3_000_000 for k in range(501)]
    edge("edge_time_edges_1500ms", t, [(k * 7) % 1501 for k in range(501)], [k % 2 for k in range(501)],
         (base, base, base + 15 * sec))
    t = [base + k * 120_000_000 for k in range(501)]
    edge("edge_time_edges_60s", t, [1500 - (k % 3) for k in range(501)], [0] * 501, (base, base, base + 60 * sec))
    # the window's end exactly (open end drops it), packets before the window start (dropped by
    # fixed windows), sub-microsecond times with ties at 500 ns
    t = [base - 2 * sec, base - 1, base, base + 500, base + 1500, base + 14 * sec + 999_999_500, base + 15 * sec,
         base + 15 * sec + 1]
    edge("edge_window_ends", t, [100, 200, 300, 400, 500, 600, 700, 800], [0, 1] * 4, (base - 2 * sec, base, base + 15 * sec))
    # a dense random 60 s block with ns times (tests the us rounding)
    n = 1500
    t = np.sort(base + rng.integers(0, 60 * sec, n))
    s = np.where(rng.random(n) < 0.5, rng.integers(40, 101, n), rng.integers(1300, 1601, n))
    edge("edge_random_ns", t, s, rng.integers(0, 2, n), (base - 123_456_789, base, base + 60 * sec))

    with open(os.path.join(a.out, "variants.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["id", "name", "what"])
        for vid, (name, _, what) in enumerate(VARIANTS):
            w.writerow([vid, name, what])
    with open(os.path.join(a.out, "blocks.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["name", "origin", "session_start_ns", "window_start_ns", "window_end_ns", "packets", "capture",
                    "src", "dst", "sport", "dport", "proto", "index"])
        for name, origin, meta, arr, extra in blocks:
            t, s, d = arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].copy()
            np.save(os.path.join(a.out, f"{name}.packets.npy"), arr.astype(np.int64))
            np.save(os.path.join(a.out, f"{name}.expected.npy"), expected_rows(t, s, d, meta))
            w.writerow([name, origin, *meta, len(arr), extra.get("capture", ""), extra.get("src", ""),
                        extra.get("dst", ""), extra.get("sport", ""), extra.get("dport", ""),
                        extra.get("proto", ""), extra.get("index", "")])
            print(f"{name}: {len(arr)} packets", flush=True)
    total = sum(os.path.getsize(os.path.join(a.out, x)) for x in os.listdir(a.out))
    print(f"# {len(blocks)} blocks, {len(VARIANTS)} variants, {total} bytes in {a.out}")


if __name__ == "__main__":
    sys.exit(main())
