"""Data parallelism: every rank runs the same model on its own share of the batch; gradients
are averaged over the ranks, one allreduce of a flat buffer per model, and rank 0's weights
and optimizer state are broadcast at the start so that every rank begins from the same state.

Launched as ``mpiexec -n N python script.py``; without mpiexec a script is rank 0 of 1.
``Communicator`` moves arrays of any backend through host memory with MPI (mpi4py);
``NcclCommunicator`` moves CuPy arrays GPU to GPU with NCCL, MPI handing out NCCL's id.
``for_device`` (or ``world``) gives the one for a backend.
"""
import contextlib
import os
import sys
import threading
import time

import numpy as np

from .backend import backend_of

MPI_MISSING = ('tinygan.distributed needs mpi4py and an MPI library: pip install -e ".[mpi]" '
               "(mpi4py with MPICH's wheel, mpiexec included), or mpi4py built against your "
               "cluster's MPI")
THREADPOOLCTL_MISSING = ("tinygan.distributed.share_cores needs threadpoolctl: pip install -e "
                         '".[mpi]" (or pip install threadpoolctl)')
NCCL_MISSING = ("tinygan.distributed on GPUs needs CuPy's NCCL binding (cupy.cuda.nccl) and the "
                "NCCL library: pip install nvidia-nccl-cu12 (or -cu13, as your CuPy)")
ABORT_GRACE_S = 0.5  # for a rank's last lines to reach mpiexec before MPI_Abort
TIMEOUT_EXIT = 4  # the exit status of a job ended by a collective that waited too long
LAUNCH_SIZES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")  # set by MPICH's and Open MPI's mpiexec
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS")


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError:
        raise RuntimeError(MPI_MISSING) from None
    return MPI


class Communicator:
    """The ranks of an MPI communicator (MPI.COMM_WORLD unless another is given). With a
    ``timeout`` (seconds) a rank that waits longer in one collective ends the whole job
    (MPI_Abort) with one line: another rank has hung or left without MPI noticing."""
    transport = "MPI"

    def __init__(self, comm=None, timeout=None):
        self.mpi = _mpi()
        self.comm = self.mpi.COMM_WORLD if comm is None else comm
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.timeout, self._waiting = None, None  # _waiting: (what, since) in a collective
        self.watch(timeout)

    def watch(self, timeout):
        """From now on end the job when one collective waits more than ``timeout`` seconds
        (None: no change; a communicator never given one waits forever). One watch thread per
        communicator, started by the first timeout."""
        if timeout is None:
            return
        watched, self.timeout = self.timeout is not None, timeout
        if not watched:
            threading.Thread(target=self._watch, daemon=True).start()

    def allreduce_sum(self, arrays):
        """The sum over the ranks of each array (all ranks give arrays of the same shapes and
        one dtype, on one backend), in a single allreduce of their concatenation."""
        return _split(self._allreduce(arrays), arrays)

    def allreduce_mean(self, arrays):
        """The mean over the ranks of each array: sum_r a_r / size, as allreduce_sum."""
        return _split(self._allreduce(arrays) / self.size, arrays)

    def batch_statistics(self, mean, var):
        """Per-channel (mean, biased var) of the union of every rank's batch from each rank's
        own, all ranks having as many values per channel: M = mean_r m_r and V = mean_r (v_r +
        (m_r - M)^2), two allreduces (the parallel-variance formula, free of the cancellation
        in E[x^2] - M^2)."""
        global_mean, = self.allreduce_mean([mean])
        spread, = self.allreduce_mean([var + (mean - global_mean) ** 2])
        return global_mean, spread

    def broadcast(self, arrays, root=0):
        """Rank ``root``'s arrays on every rank, in a single broadcast."""
        flat = _concatenate(arrays)
        with self._collective("broadcast"):
            flat = self._broadcast_flat(flat, root)
        return _split(flat, arrays)

    def share(self, value, root=0):
        """Rank ``root``'s Python object (pickled) on every rank."""
        with self._collective("broadcast"):
            return self.comm.bcast(value, root=root)

    def agree(self, failure=None):
        """Every rank's ``failure`` (None where all went well) gathered: the first (rank,
        failure) in rank order, or None if no rank failed."""
        with self._collective("agreement"):
            failures = self.comm.allgather(failure)
        return next(((rank, f) for rank, f in enumerate(failures) if f is not None), None)

    def machine(self):
        """(this rank's place among the ranks on its machine, how many they are); collective."""
        local = self.comm.Split_type(self.mpi.COMM_TYPE_SHARED)
        return local.Get_rank(), local.Get_size()

    def abort(self, status):
        """End every rank of the job now with exit ``status`` (MPI_Abort)."""
        abort_job(status, self.comm)

    def _allreduce(self, arrays):
        """The flat concatenation of ``arrays`` summed over the ranks."""
        flat = _concatenate(arrays)  # (sum of sizes,)
        with self._collective("allreduce"):
            return self._allreduce_flat(flat)

    def _allreduce_flat(self, flat):
        """Sum a flat array over the ranks, through host memory."""
        return _via_host(flat, lambda host: self.comm.Allreduce(self.mpi.IN_PLACE, host,
                                                                op=self.mpi.SUM))

    def _broadcast_flat(self, flat, root):
        """Rank ``root``'s flat array on every rank, through host memory."""
        return _via_host(flat, lambda host: self.comm.Bcast(host, root=root))

    @contextlib.contextmanager
    def _collective(self, what):
        """Mark this rank as waiting in a collective (for the timeout's watch)."""
        self._waiting = (what, time.monotonic())
        try:
            yield
        finally:
            self._waiting = None

    def _watch(self):
        """Abort the job once one collective has waited more than ``timeout`` seconds."""
        while True:
            time.sleep(min(1.0, self.timeout / 10))  # read anew: watch() may change it
            waiting = self._waiting
            if waiting is not None and time.monotonic() - waiting[1] > self.timeout:
                print(f"error: rank {self.rank} of {self.size} waited {self.timeout:g} s in an "
                      f"{waiting[0]} for the other ranks: one of them has hung or ended without "
                      "MPI noticing; ending the job", file=sys.stderr)
                self.abort(TIMEOUT_EXIT)


class NcclCommunicator(Communicator):
    """An MPI communicator whose collectives on CuPy arrays run on the GPUs with NCCL (one
    NCCL communicator over the same ranks, its id sent from rank 0 over MPI); host arrays and
    Python objects still go over MPI. NCCL's calls are queued on the device: a rank that
    hangs shows at the next wait for the device, which the timeout does not watch."""
    transport = "NCCL"

    def __init__(self, comm=None, timeout=None):
        super().__init__(comm, timeout)
        self.nccl = _nccl()
        unique_id = self.share(self.nccl.get_unique_id() if self.rank == 0 else None)
        self.nccl_comm = self.nccl.NcclCommunicator(self.size, unique_id, self.rank)

    def _allreduce_flat(self, flat):
        backend = backend_of(flat)
        if backend.name == "cpu":
            return super()._allreduce_flat(flat)
        self.nccl_comm.allReduce(flat.data.ptr, flat.data.ptr, flat.size,
                                 self._nccl_type(flat), self.nccl.NCCL_SUM, _stream(backend))
        return flat

    def _broadcast_flat(self, flat, root):
        backend = backend_of(flat)
        if backend.name == "cpu":
            return super()._broadcast_flat(flat, root)
        self.nccl_comm.bcast(flat.data.ptr, flat.size, self._nccl_type(flat), root,
                             _stream(backend))
        return flat

    def _nccl_type(self, flat):
        """NCCL's code for the array's dtype."""
        types = {np.dtype(np.float32): self.nccl.NCCL_FLOAT32,
                 np.dtype(np.float64): self.nccl.NCCL_FLOAT64}
        if flat.dtype not in types:
            raise ValueError(f"distributed: NCCL collectives take float32 or float64 arrays, "
                             f"got {flat.dtype}")
        return types[flat.dtype]


def _via_host(flat, collective):
    """Run an MPI ``collective`` in place on a host copy of a flat array of any backend; the
    result on the array's backend."""
    backend = backend_of(flat)
    host = np.ascontiguousarray(backend.to_numpy(flat))
    collective(host)
    return backend.asarray(host)


def _nccl():
    try:
        from cupy.cuda import nccl
    except ImportError:
        raise RuntimeError(NCCL_MISSING) from None
    return nccl


def _cupy():
    """CuPy, or a RuntimeError saying how to install it."""
    try:
        import cupy
    except ImportError:
        from .backend.cuda import INSTALL_HINT
        raise RuntimeError(f"tinygan.distributed on GPUs needs CuPy: {INSTALL_HINT}") from None
    return cupy


def check_device(device):
    """Raise a RuntimeError saying what to install where this process cannot run collectives
    on ``device``'s arrays (CuPy or its NCCL binding missing); touches no GPU, not collective."""
    if device == "cuda":
        _cupy()
        _nccl()


def _stream(backend):
    """The CuPy stream that tinygan's work is queued on, as NCCL takes it."""
    return backend.xp.cuda.get_current_stream().ptr


def for_device(communicator, device, timeout=None):
    """The communicator for a backend's arrays over ``communicator``'s ranks, watched with
    ``timeout``: ``communicator`` itself for the CPU; for "cuda" an NcclCommunicator over the
    same ranks, after making this rank use the GPU of its place on its machine. Collective."""
    if device != "cuda":
        communicator.watch(timeout)
        return communicator
    local_rank, _ = communicator.machine()
    cupy = _cupy()
    cupy.cuda.Device(local_rank % cupy.cuda.runtime.getDeviceCount()).use()
    return NcclCommunicator(communicator.comm, timeout)


def world(device="cpu", timeout=None):
    """Every rank of the job (MPI.COMM_WORLD), as for_device gives it for ``device``."""
    return for_device(Communicator(), device, timeout)


_worlds = {}  # device -> the run's world communicator, made by default_world


def default_world(device="cpu"):
    """The run's world communicator for ``device``'s arrays, made by the first call (then
    collective) and the same after; None in a process that mpiexec did not start and that
    cannot make one (no mpi4py): a single process."""
    if device not in _worlds:
        try:
            _worlds[device] = world(device)
        except RuntimeError:
            if any(os.environ.get(name, "1") != "1" for name in LAUNCH_SIZES):
                raise
            _worlds[device] = None
    return _worlds[device]


def share_cores(communicator):
    """Limit this rank's thread pools (BLAS and OpenMP through threadpoolctl, numba's) to its
    share of its machine's cores, as torchrun does, unless a *_NUM_THREADS variable is set;
    returns the threads per rank (None where left alone). Collective."""
    _, ranks_here = communicator.machine()
    if any(name in os.environ for name in THREAD_VARIABLES):
        return None
    threads = max(1, len(os.sched_getaffinity(0)) // ranks_here)
    try:
        import threadpoolctl
    except ImportError:
        raise RuntimeError(THREADPOOLCTL_MISSING) from None
    import numba
    threadpoolctl.threadpool_limits(threads)
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    return threads


def abort_job(status, comm=None):
    """End every rank of the job with exit ``status`` (MPI_Abort on ``comm``, else the world's),
    once what this rank printed has had time to reach mpiexec: MPICH's forwarding of a rank's
    output is cut off by the abort, and once in 20 tries here the traceback printed just before
    it was lost."""
    sys.stdout.flush()
    sys.stderr.flush()
    time.sleep(ABORT_GRACE_S)
    (comm or _mpi().COMM_WORLD).Abort(status)


def _concatenate(arrays):
    """The arrays (one backend, one dtype) raveled into one contiguous buffer."""
    dtypes = {a.dtype for a in arrays}
    if len(dtypes) != 1:
        raise ValueError("distributed: arrays of one dtype expected, got "
                         f"{sorted(map(str, dtypes))}")
    return backend_of(arrays[0]).xp.concatenate([a.ravel() for a in arrays])


def _split(flat, like):
    """flat cut back into arrays of the shapes of ``like``."""
    parts, start = [], 0
    for a in like:
        parts.append(flat[start:start + a.size].reshape(a.shape))
        start += a.size
    return parts


def average_gradients(module, communicator):
    """Replace the gradient of every parameter that requires grad by its mean over the ranks
    (one allreduce)."""
    params = [p for p in module.parameters() if p.requires_grad and p.grad is not None]
    for p, mean in zip(params, communicator.allreduce_mean([p.grad.array for p in params])):
        p.grad.array = mean


def broadcast_module(module, communicator, root=0):
    """Give every rank rank ``root``'s parameters and buffers (one broadcast)."""
    broadcast_tensors(module.parameters() + module.buffers(), communicator, root)


def broadcast_tensors(tensors, communicator, root=0):
    """Give every rank rank ``root``'s values of ``tensors`` (one broadcast; none if empty)."""
    if not tensors:
        return
    for tensor, value in zip(tensors, communicator.broadcast([t.array for t in tensors], root)):
        tensor.array = value


def broadcast_optimizer(optimizer, communicator, root=0):
    """Give every rank rank ``root``'s optimizer state (step counts, moments)."""
    state = optimizer.state_dict() if communicator.rank == root else None
    optimizer.load_state_dict(communicator.share(state, root))


def _batch_norms(module):
    from .nn import BatchNorm2d
    return [layer for layer in module.modules() if isinstance(layer, BatchNorm2d)]


def sync_batch_norm(module, communicator):
    """Make every BatchNorm2d in ``module`` normalise with the statistics of all ranks' batches
    together (SyncBatchNorm): N ranks with batch B / N then compute what one process with
    batch B does. Returns the module."""
    for layer in _batch_norms(module):
        layer.group = communicator
    return module


@contextlib.contextmanager
def local_batch_norm(module):
    """Within the block ``module``'s batch norms use this rank's batch alone: for work that one
    rank does by itself (sampling or measuring on rank 0), where a collective would wait for
    ranks that are not there."""
    layers = _batch_norms(module)
    groups = [layer.group for layer in layers]
    for layer in layers:
        layer.group = None
    try:
        yield module
    finally:
        for layer, group in zip(layers, groups):
            layer.group = group
