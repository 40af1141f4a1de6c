"""Per-session client TCP stacks: whether the client's TCP uses RFC 7323 timestamps, drawn from the
session's seed, independently of the category and of the WAN line (the stack belongs to the
user's device, not to the application). docs/lab.md ("Client TCP stacks") says why.

Windows leaves timestamps off by default; Linux, Android, macOS and iOS turn them on. Without
them a pure ACK is 40 bytes instead of 52 and every segment's header 12 bytes shorter, which a
FlowPic sees: at 32 rows of 47 bytes, the ACKs move from row 1 to row 0. Real captures hold
both (62 of the 154 TCP windows of nDPI's labelled captures have 40-byte ACKs); a lab of Linux
clients only holds one.
"""

import random

OFF_SHARE = 0.4  # sessions on a Windows-like stack (timestamps off)
CHOICES = ("mixed", "on", "off")


def timestamps(seed, choice="mixed"):
    """'on' or 'off' for the session's client: a function of its seed (and of --tcp-timestamps) alone."""
    if choice in ("on", "off"):
        return choice
    r = random.Random((seed ^ 0x7c95) * 2654435761 % (1 << 64))
    return "off" if r.random() < OFF_SHARE else "on"


def apply(ns, value):
    """Sets the client namespace's stack; the server follows (the option is negotiated in the handshake)."""
    ns.sysctl("net.ipv4.tcp_timestamps", "1" if value == "on" else "0")
