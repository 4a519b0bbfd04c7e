"""Run by tests/test_distributed.py under mpiexec: each rank checks the collectives against
what it can compute alone (every rank's inputs come from its rank number) and prints one line.

Any exception on a rank prints that rank's whole traceback and ends the job (MPI_Abort): no rank
waits in a collective for one that has failed. ``--fail-on-rank R`` makes rank R raise at the
start, to test exactly that."""
import argparse
import faulthandler
import signal
import sys
import traceback

import numpy as np

import tinygan as tg
from tinygan import backend, distributed, gan, nn, optim
from tinygan.gan import dcgan


def rank_arrays(rank):
    rng = np.random.default_rng(rank)
    return [rng.standard_normal(shape).astype(np.float32) for shape in ((3, 4), (5,), (2, 1, 2))]


def main(argv):
    options = argparse.ArgumentParser()
    options.add_argument("--fail-on-rank", type=int)
    comm = distributed.Communicator()
    if comm.rank == options.parse_args(argv).fail_on_rank:
        raise RuntimeError(f"rank {comm.rank} failed on purpose")
    means = comm.allreduce_mean(rank_arrays(comm.rank))
    everyone = [rank_arrays(r) for r in range(comm.size)]
    for i, mean in enumerate(means):
        expected = np.mean([arrays[i] for arrays in everyone], axis=0)
        np.testing.assert_allclose(mean, expected, rtol=1e-6, atol=1e-7)
    tg.manual_seed(comm.rank)  # a different D on every rank, until rank 0's is broadcast
    D = dcgan.Discriminator(ndf=4)
    distributed.broadcast_module(D, comm)
    tg.manual_seed(0)
    reference = dcgan.Discriminator(ndf=4).state_dict()
    for name, value in D.state_dict().items():
        np.testing.assert_array_equal(value, reference[name], err_msg=name)
    for p in D.parameters():
        p.grad = tg.tensor(np.full(p.shape, comm.rank, np.float32))
    distributed.average_gradients(D, comm)
    for p in D.parameters():
        np.testing.assert_array_equal(p.grad.numpy(), (comm.size - 1) / 2)
    check_sync_batch_norm(comm)
    check_dcgan_steps(comm, np.float64, rtol=1e-9, atol=1e-12)
    check_dcgan_steps(comm, np.float32, rtol=1e-5, atol=1e-6)  # passes at 1e-7 here
    check_only_batch_statistics_differ(comm)
    check_nccl_steps()
    print(f"rank {comm.rank} of {comm.size}: ok", flush=True)


def check_sync_batch_norm(comm):
    """Each rank normalises its share of one batch: outputs, input gradients and running
    statistics equal one process's on the whole batch; gamma's and beta's gradients add up."""
    rng = np.random.default_rng(42)
    x = rng.standard_normal((4 * comm.size, 3, 5, 5)) * 2 + 1
    weights = rng.standard_normal(x.shape)
    share = slice(4 * comm.rank, 4 * (comm.rank + 1))
    results = []
    for inputs, group in ((x, None), (x[share], comm)):
        layer = nn.BatchNormAct2d(3, negative_slope=0.2).to(dtype=np.float64)
        if group is not None:
            distributed.sync_batch_norm(layer, group)
        xs = tg.tensor(inputs, requires_grad=True)
        y = layer(xs)
        (y * tg.tensor(weights[share] if group else weights)).sum().backward()
        results.append((y.numpy(), xs.grad.numpy(), layer))
    (y_all, gx_all, whole), (y, gx, part) = results
    np.testing.assert_allclose(y, y_all[share], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gx, gx_all[share], rtol=1e-9, atol=1e-12)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(part, name).numpy(), getattr(whole, name).numpy(),
                                   rtol=1e-10)
    local = [part.weight.grad.numpy(), part.bias.grad.numpy()]
    for total, expected in zip(comm.allreduce_sum(local), (whole.weight.grad, whole.bias.grad)):
        np.testing.assert_allclose(total, expected.numpy(), rtol=1e-9, atol=1e-12)


def small_dcgan(dtype, group=None, device="cpu", sync_bn=True, bn_training=True):
    """Small DCGAN models from seed 0 and their Adam, the weights broadcast over group, with
    SyncBatchNorm over it if sync_bn; batch norm in eval mode (running statistics) unless
    bn_training."""
    tg.manual_seed(0)
    G, D = (m.to(dtype=dtype).to(device) for m in dcgan.models({"nz": 8, "ngf": 4, "ndf": 4}))
    if not bn_training:
        G.eval(), D.eval()
    if group is not None:
        distributed.broadcast_module(G, group), distributed.broadcast_module(D, group)
    if group is not None and sync_bn:
        distributed.sync_batch_norm(G, group), distributed.sync_batch_norm(D, group)
    return G, D, *(optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999)) for m in (G, D))


def check_dcgan_steps(comm, dtype, rtol, atol, steps=3, per_rank=8, device="cpu",
                      counters=None, **batch_norm):
    """``steps`` DCGAN steps on N ranks x per_rank images equal one process's steps on the N x
    per_rank images, to the tolerances of ``dtype`` (``batch_norm``: small_dcgan's sync_bn and
    bn_training). Returns the distributed models and, per step, how much each of
    ``counters()`` grew during the distributed step."""
    whole = small_dcgan(dtype, device=device, **batch_norm)
    split = small_dcgan(dtype, comm, device, **batch_norm)
    share = slice(per_rank * comm.rank, per_rank * (comm.rank + 1))
    as_tensor = backend.get(device).asarray
    growth = []
    for step in range(steps):
        rng = np.random.default_rng(step)
        real = rng.uniform(-1, 1, (per_rank * comm.size, 3, 32, 32)).astype(dtype)
        z = rng.standard_normal((per_rank * comm.size, 8, 1, 1)).astype(dtype)
        gan.train_step(*whole, tg.tensor(as_tensor(real)), tg.tensor(as_tensor(z)))
        before = counters() if counters else ()
        gan.train_step(*split, tg.tensor(as_tensor(real[share])), tg.tensor(as_tensor(z[share])),
                       communicator=comm)
        growth.append(tuple(b - a for a, b in zip(before, counters() if counters else ())))
    for one, many in zip(whole[:2], split[:2]):
        for (name, a), b in zip(one.state_dict().items(), many.state_dict().values()):
            np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=rtol, atol=atol,
                                       err_msg=f"{dtype}: {name}")
    return split[:2], growth


def check_only_batch_statistics_differ(comm):
    """Without SyncBatchNorm the ranks' steps differ from one process's through batch norm's
    statistics alone: with batch norm in eval mode (running statistics, the same on every
    rank) N ranks equal one process to float64 rounding; in training mode they do not."""
    check_dcgan_steps(comm, np.float64, rtol=1e-9, atol=1e-12, sync_bn=False,
                      bn_training=False)
    try:
        check_dcgan_steps(comm, np.float64, rtol=1e-3, atol=1e-5, sync_bn=False)
    except AssertionError:
        return
    raise AssertionError("per-rank batch statistics were expected to change the steps")


def check_nccl_steps():
    """On the CuPy stand-in, world("cuda") is NCCL's: DCGAN steps with SyncBatchNorm over it
    equal one process's; every collective of a step is an NCCL allreduce of device memory (2
    gradient averages; per batch norm 2 in a forward, 1 in a backward) and the step still
    copies to the host once, as without ranks."""
    from cuda_emulation import TO_HOST, installed, nccl
    with installed():
        comm = distributed.world("cuda")
        assert isinstance(comm, distributed.NcclCommunicator), type(comm)
        (G, D), growth = check_dcgan_steps(
            comm, np.float32, rtol=1e-5, atol=1e-6, steps=2, per_rank=4, device="cuda",
            counters=lambda: (nccl.CALLS["allReduce"], sum(TO_HOST.values())))
    norms_G, norms_D = (sum(isinstance(layer, nn.BatchNorm2d) for layer in m.modules())
                        for m in (G, D))
    expected = 2 + 3 * norms_G + 9 * norms_D  # G: one forward and backward; D: three of each
    assert growth == [(expected, 1)] * 2, (growth, expected)


def run_or_abort(argv):
    """main(argv); on an exception, this rank's traceback on stderr and MPI_Abort for all."""
    faulthandler.register(signal.SIGTERM, chain=True)  # a hung rank, ended, shows where it was
    try:
        main(argv)
    except BaseException:
        traceback.print_exc()
        distributed.abort_job(1)


if __name__ == "__main__":
    run_or_abort(sys.argv[1:])
