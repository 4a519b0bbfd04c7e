"""nn.parallel.DistributedDataParallel: gradients averaged once per backward over the ranks, in
one process (a counting communicator) and in two MPI ranks (this file run by mpiexec)."""
import re
import sys
import traceback

import numpy as np
import pytest

import tinygan as tg
from support import finish_ranks, start_ranks
from test_distributed import CountingComm
from tinygan import distributed, nn, optim

pytest.importorskip("mpi4py", reason="pip install -e '.[mpi]' (the test extra includes it)")
DDP = nn.parallel.DistributedDataParallel


class TwoRankComm(CountingComm):
    """CountingComm as rank 0 of 2 whose other rank holds zeros (a mean is half the value)."""

    def Get_size(self):
        return 2


def counted(module, **options):
    """(DDP of module over a TwoRankComm, that TwoRankComm)."""
    comm = TwoRankComm()
    return DDP(module, process_group=distributed.Communicator(comm), **options), comm


def names(comm):
    """The names of a CountingComm's collectives so far."""
    return [name for name, _ in comm.calls]


def batch(seed, shape=(6, 4)):
    return tg.tensor(np.random.default_rng(seed).standard_normal(shape))


def small_model(seed=0):
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.Tanh(),
                         nn.Linear(5, 1)).to(dtype=np.float64)


def test_one_process_wraps_the_module_as_pytorch_names_it():
    net = nn.Linear(4, 2)
    ddp = DDP(net)  # this test process: rank 0 of 1, nothing to average
    assert ddp.module is net and ddp.process_group.size == 1
    x = batch(0).float()
    np.testing.assert_array_equal(ddp(x).numpy(), net(x).numpy())
    assert list(ddp.state_dict()) == ["module.weight", "module.bias"]
    ddp.load_state_dict({"module.weight": np.zeros((2, 4), np.float32),
                         "module.bias": np.ones(2, np.float32)})
    assert (net.weight.numpy() == 0).all() and ddp.parameters()[0] is net.weight
    ddp.eval()
    assert not net.training


def test_forwards_before_one_backward_average_once_and_grad_averages_none():
    ddp, comm = counted(small_model())
    assert names(comm) == ["Bcast"]  # parameters and buffers from rank 0, at construction
    out = ddp(batch(1)).sum() + (ddp(batch(2)) ** 2).sum()  # D(real), D(fake)
    assert names(comm) == ["Bcast"] * 3  # buffers before each forward
    tg.autograd.grad(out, ddp.module[0].weight, retain_graph=True)
    assert names(comm).count("Allreduce") == 0
    out.backward()
    assert names(comm).count("Allreduce") == 1
    (ddp(batch(3)).sum()).backward()
    ddp(batch(4)).sum().backward()
    assert names(comm).count("Allreduce") == 3
    tg.autograd.backward(ddp(batch(5)).sum())  # torch.autograd.backward averages too
    assert names(comm).count("Allreduce") == 4


def test_a_backward_that_misses_the_module_leaves_its_averaging_for_one_that_reaches_it():
    """The GAN step: G's output detached for D's loss; G's averaging waits for G's loss."""
    ddp_g, comm = counted(nn.Linear(3, 4), broadcast_buffers=False)
    images = ddp_g(batch(0, (2, 3)).float())
    d = nn.Linear(4, 1)
    d(images.detach()).sum().backward()
    assert names(comm).count("Allreduce") == 0
    d(images).sum().backward()
    assert names(comm).count("Allreduce") == 1


def test_no_grad_and_no_sync_forwards_queue_nothing():
    ddp, comm = counted(nn.Linear(3, 1), broadcast_buffers=False)
    with tg.no_grad():
        ddp(batch(0, (2, 3)).float())
    x = batch(1, (2, 3)).float().requires_grad_()
    (ddp.module(x).sum()).backward()
    with ddp.no_sync():
        ddp(x).sum().backward()
    assert names(comm) == ["Bcast"]
    ddp(x).sum().backward()
    assert names(comm) == ["Bcast", "Allreduce"]


def test_frozen_parameters_are_not_averaged():
    ddp, comm = counted(nn.Linear(3, 1))
    ddp.module.weight.requires_grad_(False)
    ddp.module.weight.grad = tg.ones(1, 3)
    ddp(batch(0, (2, 3)).float()).sum().backward()
    assert names(comm).count("Allreduce") == 1
    assert (ddp.module.weight.grad.numpy() == 1).all()
    assert ddp.module.bias.grad.numpy() == [1.0]  # d(sum of 2 rows)/d bias = 2, halved


def test_devices_other_than_the_modules_are_refused_in_one_line():
    with pytest.raises(ValueError, match="must be None for a module on the CPU, got "
                                         "device_ids=\\[0\\]") as info:
        DDP(nn.Linear(2, 2), device_ids=[0])
    assert "\n" not in str(info.value)
    with pytest.raises(TypeError, match="module must be an nn.Module, got function"):
        DDP(lambda x: x)


def test_data_parallel_runs_the_module_on_its_one_device():
    net = nn.Linear(4, 2)
    x = batch(0).float()
    np.testing.assert_array_equal(nn.parallel.data_parallel(net, x).numpy(), net(x).numpy())
    with pytest.raises(ValueError, match="data_parallel: device_ids and output_device"):
        nn.parallel.data_parallel(net, x, output_device=0)


def test_two_ranks_average_their_gradients_and_keep_their_weights_equal():
    status, printed, errors = finish_ranks(
        start_ranks([sys.executable, __file__], labelled=True), timeout=120)
    assert status == 0, printed + errors
    assert sorted(re.findall(r"rank (\d) of 2: ok", printed)) == ["0", "1"], printed


def loss_of(model, rank):
    """Two forwards (as D(real), D(fake)) on this rank's own batches, one loss."""
    return model(batch(10 + rank)).mean() + (model(batch(20 + rank)) ** 2).mean()


def rank_main():
    """Under mpiexec: each rank its own batch; after backward the grads are the mean of the
    ranks' one-process grads (computed here for every rank); SGD steps keep the parameters
    equal (buffers too, as PyTorch's, only as each forward broadcasts rank 0's)."""
    comm = distributed.default_world()
    ddp = DDP(small_model(seed=comm.rank))  # different on every rank until rank 0's is sent
    references = [small_model(seed=0) for _ in range(comm.size)]
    for rank, reference in enumerate(references):
        loss_of(reference, rank).backward()
    loss_of(ddp, comm.rank).backward()
    for name, p in ddp.module.named_parameters():
        expected = np.mean([dict(r.named_parameters())[name].grad.numpy() for r in references],
                           axis=0)
        np.testing.assert_allclose(p.grad.numpy(), expected, rtol=1e-12, atol=1e-15,
                                   err_msg=name)
    sgd = optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    for step in range(3):
        sgd.zero_grad()
        loss_of(ddp, comm.rank + 2 * step).backward()
        sgd.step()
    names, weights = zip(*((name, p.numpy()) for name, p in ddp.named_parameters()))
    for name, mine, rank0 in zip(names, weights, comm.broadcast(list(weights))):
        np.testing.assert_array_equal(mine, rank0, err_msg=name)
    print(f"rank {comm.rank} of {comm.size}: ok", flush=True)


if __name__ == "__main__":
    try:
        rank_main()
    except BaseException:
        traceback.print_exc()
        distributed.abort_job(1)
