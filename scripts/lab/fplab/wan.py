"""Per-session WAN profiles: the user's access line and the path to the server, drawn from the
session's seed, independently of the category (the line belongs to the user, not to the
application). docs/lab.md ("WAN profiles") gives the distributions and why.

The flowpic-link-emulator runs them: delay rtt/2 each way, jitter +-jitter/2 each way (the RTT
varies within rtt +- jitter), loss per direction, rate per direction with a tail-drop queue of
queue_ms at that rate, reordering on mobile lines.
"""

import math
import random
from collections import namedtuple

Wan = namedtuple("Wan", "access rtt_ms jitter_ms loss down_mbit up_mbit queue_ms reorder burst")

# name: (share of sessions, down Mbit/s range, up Mbit/s range, median RTT ms, jitter fraction of RTT
# range, mean loss, reorder range, mean loss run)
ACCESS = {
    "fibre": (0.30, (50, 300), (20, 100), 25, (0.0, 0.05), 0.001, (0, 0), 1),
    "cable": (0.30, (20, 100), (5, 20), 35, (0.02, 0.10), 0.002, (0, 0), 1),
    "dsl": (0.15, (4, 16), (0.5, 1.5), 45, (0.02, 0.10), 0.002, (0, 0), 1),
    "mobile": (0.25, (2, 40), (1, 10), 65, (0.05, 0.20), 0.005, (0.0, 0.005), 2),
}
ORDER = ["fibre", "cable", "dsl", "mobile"]
RATE_CAP = 100.0      # Mbit/s: the lab runs many emulators on few cores (docs/benchmarks.md)
RTT_RANGE = (5.0, 300.0)
RTT_SIGMA = 0.6       # log-normal spread around the access's median
LOSS_MAX = 0.02
BLOAT_SHARE = 0.10    # sessions behind a bloated buffer
BLOAT_MS = (500, 1000)
QUEUE_MS = (50, 150)  # an ordinary buffer


def _log_uniform(r, lo, hi):
    return math.exp(r.uniform(math.log(lo), math.log(hi)))


def profile(seed, max_rate=0):
    """The session's WAN: a function of its seed (and of the --max-rate cap) alone."""
    r = random.Random((seed ^ 0x3a11) * 2654435761 % (1 << 64))
    x, access = r.random(), ORDER[-1]
    for name in ORDER:
        x -= ACCESS[name][0]
        if x < 0:
            access = name
            break
    _, down_r, up_r, rtt_median, jit_r, loss_mean, reorder_r, burst = ACCESS[access]
    down = _log_uniform(r, *down_r)
    up = min(down, _log_uniform(r, *up_r))  # no line sends faster than it receives
    rtt = min(RTT_RANGE[1], max(RTT_RANGE[0], r.lognormvariate(math.log(rtt_median), RTT_SIGMA)))
    jitter = rtt * r.uniform(*jit_r)
    loss = min(LOSS_MAX, r.expovariate(1.0 / loss_mean))
    queue = r.randint(*BLOAT_MS) if r.random() < BLOAT_SHARE else r.randint(*QUEUE_MS)
    reorder = r.uniform(*reorder_r)
    cap = min(RATE_CAP, max_rate) if max_rate else RATE_CAP
    return Wan(access, round(rtt, 1), round(jitter, 1), round(loss, 4), round(min(down, cap), 2),
               round(min(up, cap), 2), queue, round(reorder, 4), burst)


def specs(w):
    """The emulator's --up and --down SPECs for a profile."""
    def one(rate):
        return "delay=%gms,jitter=%gms,loss=%g,rate=%gmbit,queue=%dms,reorder=%g,burst=%d" % (
            w.rtt_ms / 2, w.jitter_ms / 2, w.loss, rate, w.queue_ms, w.reorder, w.burst)
    return one(w.up_mbit), one(w.down_mbit)


def columns(w):
    """The manifest's rtt_ms,jitter_ms,loss,down_mbit,up_mbit,access,queue_ms."""
    return ["%.1f" % w.rtt_ms, "%.1f" % w.jitter_ms, "%.4f" % w.loss, "%.2f" % w.down_mbit, "%.2f" % w.up_mbit,
            w.access, "%d" % w.queue_ms]
