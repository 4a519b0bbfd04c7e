"""Run by tests/test_distributed.py under mpiexec: each rank checks the collectives against
what it can compute alone (every rank's inputs come from its rank number) and prints one line."""
import sys

import numpy as np

import tinygan as tg
from tinygan import distributed
from tinygan.gan import dcgan


def rank_arrays(rank):
    rng = np.random.default_rng(rank)
    return [rng.standard_normal(shape).astype(np.float32) for shape in ((3, 4), (5,), (2, 1, 2))]


def main():
    comm = distributed.Communicator()
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
        p.grad = tg.Tensor(np.full(p.shape, comm.rank, np.float32))
    distributed.average_gradients(D, comm)
    for p in D.parameters():
        np.testing.assert_array_equal(p.grad.numpy(), (comm.size - 1) / 2)
    print(f"rank {comm.rank} of {comm.size}: ok", flush=True)


if __name__ == "__main__":
    sys.exit(main())
