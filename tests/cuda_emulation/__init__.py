"""Running the project's CUDA code without a GPU.

- ``build``: kernels/*.cu built with g++ for the host (``host.h`` emulates the CUDA execution
  model) and launched on NumPy memory.
- ``fake``: ``fake_cupy``, a NumPy stand-in for CuPy whose RawKernel runs on that emulator;
  ``installed()`` puts it in place of ``cupy`` so tinygan/backend/cuda.py runs unchanged, and
  ``not_installed()`` makes ``import cupy`` fail.
- ``nccl``: ``cupy.cuda.nccl`` in the fake, its collectives run over MPI (mpi4py).
"""
from .build import KERNELS, BuildError, EmulatedKernel
from .fake import CALLS, LAUNCHES, TO_HOST, installed, module as fake_cupy, not_installed

__all__ = ["CALLS", "KERNELS", "LAUNCHES", "TO_HOST", "BuildError", "EmulatedKernel",
           "fake_cupy", "installed", "not_installed"]
