"""Data parallelism over MPI (mpi4py): every rank runs the same model on its own share of the
batch; gradients are averaged over the ranks, one allreduce of a flat buffer per model, and
rank 0's weights are broadcast at the start so that every rank begins from the same state.

Launched as ``mpiexec -n N python script.py``; without mpiexec a script is rank 0 of 1.
The collectives take NumPy arrays; the module helpers copy device tensors through the host.
"""
import numpy as np

MPI_MISSING = ('tinygan.distributed needs mpi4py and an MPI library: pip install -e ".[mpi]" '
               "(mpi4py with MPICH's wheel, mpiexec included), or mpi4py built against your "
               "cluster's MPI")


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError:
        raise RuntimeError(MPI_MISSING) from None
    return MPI


class Communicator:
    """The ranks of an MPI communicator (MPI.COMM_WORLD unless another is given)."""

    def __init__(self, comm=None):
        self.mpi = _mpi()
        self.comm = self.mpi.COMM_WORLD if comm is None else comm
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()

    def allreduce_sum(self, arrays):
        """The sum over the ranks of each array (all ranks give arrays of the same shapes and
        one dtype), as host arrays, in a single allreduce of their concatenation."""
        flat = _concatenate(arrays)  # (sum of sizes,)
        self.comm.Allreduce(self.mpi.IN_PLACE, flat, op=self.mpi.SUM)
        return _split(flat, arrays)

    def allreduce_mean(self, arrays):
        """The mean over the ranks of each array: sum_r a_r / size, as allreduce_sum."""
        return [total / self.size for total in self.allreduce_sum(arrays)]

    def batch_statistics(self, mean, var, count):
        """(mean, biased var, count) per channel of the union of every rank's batch, from each
        rank's own (host arrays): M = sum c_r m_r / C, V = sum c_r (v_r + (m_r - M)^2) / C,
        two allreduces (the parallel-variance formula, free of E[x^2] - M^2's cancellation)."""
        weighted, counts = self.allreduce_sum([mean * count, np.full(1, count, mean.dtype)])
        total = counts[0]
        global_mean = weighted / total
        spread, = self.allreduce_sum([count * (var + (mean - global_mean) ** 2)])
        return global_mean, spread / total, int(round(float(total)))

    def broadcast(self, arrays, root=0):
        """Rank ``root``'s arrays on every rank, as host arrays, in a single broadcast."""
        flat = _concatenate(arrays)
        self.comm.Bcast(flat, root=root)
        return _split(flat, arrays)


def _concatenate(arrays):
    """The NumPy arrays raveled into one contiguous buffer."""
    host = [np.asarray(a) for a in arrays]
    dtypes = {a.dtype for a in host}
    if len(dtypes) != 1:
        raise ValueError("distributed: arrays of one dtype expected, got "
                         f"{sorted(map(str, dtypes))}")
    return np.concatenate([a.ravel() for a in host])


def _split(flat, like):
    """flat cut back into arrays of the shapes of ``like``."""
    ends = np.cumsum([a.size for a in like])
    return [part.reshape(a.shape) for part, a in zip(np.split(flat, ends[:-1]), like)]


def average_gradients(module, communicator):
    """Replace every parameter's gradient by its mean over the ranks (one allreduce)."""
    params = [p for p in module.parameters() if p.grad is not None]
    means = communicator.allreduce_mean([p.grad.numpy() for p in params])
    for p, mean in zip(params, means):
        p.grad.data = p.backend.asarray(mean)


def broadcast_module(module, communicator, root=0):
    """Give every rank rank ``root``'s parameters and buffers (one broadcast)."""
    tensors = module.parameters() + module.buffers()
    for tensor, value in zip(tensors, communicator.broadcast([t.numpy() for t in tensors], root)):
        tensor.data = tensor.backend.asarray(value)


def sync_batch_norm(module, communicator):
    """Make every BatchNorm2d in ``module`` normalise with the statistics of all ranks' batches
    together (SyncBatchNorm): N ranks with batch B / N then compute what one process with
    batch B does. Returns the module."""
    from .nn import BatchNorm2d
    for layer in module.modules():
        if isinstance(layer, BatchNorm2d):
            layer.group = communicator
    return module
