"""Distributed training: the stage re-launched under torchrun when more than one process is asked for, each rank
joining the process group, and which rank this process is."""
from __future__ import annotations

import os
import sys

import torch


def init_distributed(gpus: int, module: str):
    """Re-exec under torchrun when more than one process is asked for; returns the device of this rank.

    ``gpus > 1`` without ``LOCAL_RANK`` re-launches ``module`` as ``gpus`` processes on this machine
    (``python -m torch.distributed.run --standalone``: the same interpreter, a free rendezvous port). Under
    torchrun (``LOCAL_RANK`` set, also when started by hand for several nodes) each rank joins the process group:
    NCCL on CUDA device ``LOCAL_RANK``, or gloo on the CPU where CUDA is unavailable (how tests/test_ddp.py runs
    it). ``batch_size`` is per process: one optimizer step sees ``batch_size * world size`` images. Returns None
    outside torchrun with one process (the stage picks its device itself)."""
    if gpus > 1 and "LOCAL_RANK" not in os.environ:
        relaunch_under_torchrun(gpus, module)
    if "LOCAL_RANK" in os.environ:
        return join_process_group(int(os.environ["LOCAL_RANK"]))
    return None


def relaunch_under_torchrun(processes: int, module: str):
    """Replace this process by ``python -m torch.distributed.run`` running ``module`` (with this process's
    arguments) as ``processes`` ranks on this machine; never returns."""
    os.execv(sys.executable, [sys.executable, "-m", "torch.distributed.run", "--standalone",
                              f"--nproc_per_node={processes}", "-m", module, *sys.argv[1:]])


def join_process_group(local_rank: int) -> torch.device:
    """Join torchrun's process group: NCCL on CUDA device ``local_rank``, gloo on the CPU without CUDA."""
    if not torch.cuda.is_available():
        torch.distributed.init_process_group("gloo")
        return torch.device("cpu")
    torch.distributed.init_process_group("nccl")
    torch.cuda.set_device(local_rank)
    return torch.device("cuda", local_rank)


def leave_process_group() -> None:
    """Leave the process group at the end of a stage run under torchrun (nothing to do otherwise)."""
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def rank_and_world() -> tuple[int, int]:
    """(this process's rank, the number of processes): (0, 1) outside an initialised process group."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def is_rank0() -> bool:
    """Whether this process writes the outputs: rank 0, or the only process."""
    return rank_and_world()[0] == 0
