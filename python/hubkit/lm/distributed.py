"""One process or N: the torch.distributed pieces the language-model trainer uses.

`torchrun` starts N copies of the same script and sets RANK, LOCAL_RANK and
WORLD_SIZE in each one's environment; `setup()` reads them and joins the process
group (gloo on CPU, NCCL on CUDA), or, without them, describes a plain single
process. Every collective is torch.distributed's own: DistributedDataParallel
averages the gradients, `mean` all-reduces a number, `broadcast` sends rank 0's
Python objects to the others. Nothing here talks to the network itself.

    torchrun --nproc_per_node=2 -m hubkit.lm.train --out runs/gpt-ddp      # 2 processes
    torchrun --nnodes=2 --node_rank=0 --nproc_per_node=8 \\
        --rdzv_backend=c10d --rdzv_endpoint=HOST:29500 -m hubkit.lm.train   # node 0 of 2
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class World:
    """Where this process stands: its rank among `size` processes and its device."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        """True on rank 0, the process that prints, logs and writes files."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def setup(device: str | None = None) -> World:
    """Join the process group torchrun describes in the environment (if any).

    Args:
        device: "cpu" or "cuda"; None picks CUDA when available.
    """
    kind = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if "WORLD_SIZE" not in os.environ or int(os.environ["WORLD_SIZE"]) == 1:
        return World(device=torch.device(kind))
    rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", 0))
    if kind == "cuda":
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if kind == "cuda" else "gloo")
    return World(rank, size, local, torch.device(kind, local) if kind == "cuda"
                 else torch.device("cpu"))


def teardown(world: World) -> None:
    if world.distributed and dist.is_initialized():
        dist.destroy_process_group()


def wrap(model: torch.nn.Module, world: World) -> torch.nn.Module:
    """The model under DistributedDataParallel when there are several processes."""
    if not world.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [world.local_rank] if world.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The plain model inside a DDP wrapper (for saving, evaluating, generating)."""
    return getattr(model, "module", model)


def mean(value: float, world: World) -> float:
    """The average of `value` over all processes (the value itself on one process)."""
    if not world.distributed:
        return value
    t = torch.tensor([value], dtype=torch.float64,
                     device=world.device if world.device.type == "cuda" else "cpu")
    dist.all_reduce(t)
    return float(t) / world.size


def broadcast(objects: list, world: World) -> list:
    """Rank 0's list of picklable objects, on every rank (others pass placeholders)."""
    if world.distributed:
        dist.broadcast_object_list(objects, src=0)
    return objects


def shard(batch: torch.Tensor, world: World) -> torch.Tensor:
    """This rank's contiguous slice of a global batch (B, ...) -> (B / size, ...)."""
    if batch.shape[0] % world.size:
        raise ValueError(f"batch_size: the global batch {batch.shape[0]} must divide by the "
                         f"{world.size} processes")
    per = batch.shape[0] // world.size
    return batch[world.rank * per:(world.rank + 1) * per]
