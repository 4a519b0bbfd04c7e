"""A stand-in for ``cupy.cuda.nccl`` over MPI, so that tinygan's NCCL code path runs in CI.

Each collective reads and writes the device arrays' memory at the addresses it is given (the
stand-in's device memory is host memory) and moves it with mpi4py over MPI.COMM_WORLD. As
NCCL, it takes raw addresses, element counts, NCCL's type and operation codes and a stream;
it checks what NCCL's own checks would catch (ranks and id, types, the operation). CALLS
counts the collectives by name.
"""
import collections
import ctypes
import os

import numpy as np

NCCL_SUM = 0
NCCL_FLOAT32, NCCL_FLOAT64 = 7, 8  # ncclDataType_t
TYPES = {NCCL_FLOAT32: ctypes.c_float, NCCL_FLOAT64: ctypes.c_double}
CALLS = collections.Counter()


class NcclError(RuntimeError):
    """cupy.cuda.nccl.NcclError."""


def get_unique_id():
    """A fresh communicator id: 128 bytes as a tuple of ints, as CuPy gives it."""
    return tuple(os.urandom(128))


class NcclCommunicator:
    """cupy.cuda.nccl.NcclCommunicator(ndev, commId, rank) over the MPI ranks."""

    def __init__(self, ndev, commId, rank):  # noqa: N803 (CuPy's names)
        from mpi4py import MPI
        self.comm, self.mpi = MPI.COMM_WORLD, MPI
        ids = self.comm.allgather(tuple(commId))
        if (ndev, rank) != (self.comm.Get_size(), self.comm.Get_rank()) or len(set(ids)) != 1:
            raise NcclError(f"ncclCommInitRank: ndev {ndev} and rank {rank} must be the MPI "
                            f"world's size and rank, and every rank must pass one id")

    def allReduce(self, sendbuf, recvbuf, count, datatype, op, stream):  # noqa: N802
        """recvbuf[:count] = the sum over the ranks of sendbuf[:count]."""
        if op != NCCL_SUM:
            raise NotImplementedError(f"the stand-in reduces with NCCL_SUM only, got {op}")
        CALLS["allReduce"] += 1
        total = np.empty(count, np.dtype(TYPES[datatype]))
        self.comm.Allreduce(memory(sendbuf, count, datatype), total, op=self.mpi.SUM)
        memory(recvbuf, count, datatype)[...] = total

    def bcast(self, buff, count, datatype, root, stream):
        """buff[:count] = rank root's buff[:count] on every rank."""
        CALLS["bcast"] += 1
        self.comm.Bcast(memory(buff, count, datatype), root=root)


def memory(address, count, datatype):
    """The ``count`` elements of NCCL type ``datatype`` at ``address``, as a NumPy view."""
    if datatype not in TYPES:
        raise NcclError(f"the stand-in knows NCCL types {sorted(TYPES)}, got {datatype}")
    pointer = ctypes.cast(address, ctypes.POINTER(TYPES[datatype]))
    return np.ctypeslib.as_array(pointer, (count,))
