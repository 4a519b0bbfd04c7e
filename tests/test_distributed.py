"""tinygan.distributed: averaging and broadcast over MPI ranks, in one process and in two."""
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from support import finish_ranks, start_ranks
from tinygan import distributed

pytest.importorskip("mpi4py", reason="pip install -e '.[mpi]' (the test extra includes it)")
WORKER = Path(__file__).with_name("distributed_worker.py")


def test_one_process_is_rank_0_of_1_and_its_mean_is_itself():
    comm = distributed.Communicator()
    assert (comm.rank, comm.size) == (0, 1)
    arrays = [np.arange(6, dtype=np.float32).reshape(2, 3), np.ones(4, np.float32)]
    for mean, array in zip(comm.allreduce_mean(arrays), arrays):
        np.testing.assert_array_equal(mean, array)
    with pytest.raises(ValueError, match="one dtype expected, got \\['float32', 'float64'\\]"):
        comm.allreduce_mean([np.ones(2, np.float32), np.ones(2, np.float64)])


def test_two_ranks_average_gradients_share_weights_and_sync_batch_norm():
    status, printed, errors = finish_ranks(
        start_ranks([sys.executable, WORKER], labelled=True), timeout=240)
    # every line carries its rank: a failure shows each rank's whole traceback
    assert status == 0, printed + errors
    assert sorted(re.findall(r"rank (\d) of 2: ok", printed)) == ["0", "1"], printed


def test_an_exception_on_one_rank_ends_the_job_at_once_with_its_traceback():
    """The worker's own guard: rank 1 raises while rank 0 waits in a collective; the job ends
    with rank 1's whole traceback instead of hanging until the test's timeout."""
    status, printed, errors = finish_ranks(
        start_ranks([sys.executable, WORKER, "--fail-on-rank", "1"], labelled=True), timeout=60)
    assert status != 0, printed + errors
    assert "[1] Traceback (most recent call last):" in errors, errors
    assert "[1] RuntimeError: rank 1 failed on purpose" in errors, errors


def test_without_mpi4py_the_message_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(RuntimeError, match='pip install -e "\\.\\[mpi\\]"'):
        distributed.Communicator()


class CountingComm:
    """A one-rank communicator that counts its collectives."""

    def __init__(self):
        self.calls = []

    def Get_rank(self):
        return 0

    def Get_size(self):
        return 1

    def Allreduce(self, send, buffer, op):
        self.calls.append(("Allreduce", buffer.size))

    def Bcast(self, buffer, root):
        self.calls.append(("Bcast", buffer.size))


def test_one_collective_per_model_carries_every_parameter():
    from tinygan import tensor
    from tinygan.gan import dcgan
    D = dcgan.Discriminator(ndf=4)
    for p in D.parameters():
        p.grad = tensor(np.ones(p.shape, np.float32))
    counting = CountingComm()
    comm = distributed.Communicator(counting)
    distributed.average_gradients(D, comm)
    distributed.broadcast_module(D, comm)
    sizes = (sum(p.numel() for p in D.parameters()),
             sum(t.numel() for t in D.parameters() + D.buffers()))
    assert counting.calls == [("Allreduce", sizes[0]), ("Bcast", sizes[1])]


def test_device_tensors_travel_through_the_host_and_come_back_on_their_device():
    from cuda_emulation import installed
    from tinygan import backend, tensor
    from tinygan.gan import dcgan
    with installed():
        D = dcgan.Discriminator(ndf=4).to("cuda")
        cuda = backend.get("cuda")
        for p in D.parameters():
            p.grad = tensor(cuda.asarray(np.full(p.shape, 2, np.float32)))
        distributed.average_gradients(D, distributed.Communicator(CountingComm()))
        assert all(p.grad.device == "cuda" and (p.grad.numpy() == 2).all()
                   for p in D.parameters())


def test_sync_batch_norm_refuses_a_double_backward_with_a_clear_message():
    from tinygan import grad, nn, tensor
    layer = distributed.sync_batch_norm(nn.BatchNorm2d(2), distributed.Communicator())
    x = tensor(np.random.default_rng(0).standard_normal((4, 2, 3, 3)).astype(np.float32),
               requires_grad=True)
    with pytest.raises(NotImplementedError, match="SyncBatchNorm\\) has no double backward"):
        grad((layer(x) ** 2).sum(), x, create_graph=True)


def test_the_cpu_communicator_is_the_one_joined_now_watched():
    comm = distributed.Communicator()
    assert comm.timeout is None
    assert distributed.for_device(comm, "cpu", timeout=30) is comm and comm.timeout == 30


def test_without_threadpoolctl_sharing_cores_says_how_to_install_it(monkeypatch):
    for name in distributed.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)
    with pytest.raises(RuntimeError, match='needs threadpoolctl: pip install -e "\\.\\[mpi\\]"'):
        distributed.share_cores(distributed.Communicator())
