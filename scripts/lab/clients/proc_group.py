"""Stops a client's child started with start_new_session=True: the whole group (lftp's and
transmission's helpers), politely first."""

import os
import signal
import subprocess


def stop_group(p, wait=3.0):
    if p is None or p.poll() is not None:
        return
    os.killpg(p.pid, signal.SIGTERM)
    try:
        p.wait(wait)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
