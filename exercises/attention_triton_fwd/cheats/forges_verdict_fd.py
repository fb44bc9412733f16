"""Cheat: sends a passing verdict down every inherited file descriptor."""

import json
import os
from multiprocessing.connection import Connection

import numpy as np

VERDICT = {"status": "pass", "message": "", "notes": ["all cases passed"]}


def attention_forward(q, k, v, causal=False):
    for fd in sorted(int(f) for f in os.listdir("/proc/self/fd")):
        try:
            Connection(os.dup(fd)).send(VERDICT)
        except OSError:
            pass
        try:
            os.write(fd, json.dumps(VERDICT).encode())
        except OSError:
            pass
    return np.zeros((1,)), np.zeros((1,))
