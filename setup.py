from pathlib import Path

from setuptools import find_packages, setup

MONITOR = ["tensorboardX>=2.6"]
INTEROP = ["safetensors>=0.4", "onnx>=1.15", "onnxruntime>=1.17"]
DOCS = ["mkdocs>=1.6,<2", "mkdocs-material>=9.5,<10", "mkdocstrings[python]>=0.26",
        "pymdown-extensions>=10", "griffe-inherited-docstrings>=1.1",
        "django-static-mathjax==3.2.2.1"]

setup(
    name="tinygan",
    version="0.1.0",
    description="A small deep-learning framework on NumPy and CuPy that trains a DCGAN on CIFAR-10",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    # The top-level kernels/ folder installs as tinygan/kernels/, where the cuda backend finds it.
    packages=find_packages(include=["tinygan", "tinygan.*"]) + ["tinygan.kernels"],
    package_dir={"tinygan.kernels": "kernels"},
    # the offline CIFAR-10 fallback (JPEG) and the metrics' classifier weights
    package_data={"tinygan": ["assets/*.tar.gz", "assets/*.npz"],
                  "tinygan.kernels": ["*.cu"]},
    # Pillow comes with matplotlib; data.py needs Image.Resampling (9.1+).
    install_requires=["numpy>=1.24", "numba>=0.58", "matplotlib>=3.7", "Pillow>=9.1", "tqdm>=4.60"],
    extras_require={
        # CuPy with the CUDA libraries it loads at run time (cuBLAS, NVRTC, ...) as wheels:
        # a machine needs only the NVIDIA driver. cuda for CUDA 12 drivers, cuda13 for 13.
        "cuda": ["cupy-cuda12x[ctk]>=14"],
        "cuda13": ["cupy-cuda13x[ctk]>=14"],
        # bench/ times PyTorch beside tinygan; install torch==2.13.0 (CPU) with it here.
        "bench": ["threadpoolctl>=3"],
        # Data parallelism over MPI: mpi4py and MPICH's wheel, which brings mpiexec;
        # threadpoolctl gives each rank its share of the cores.
        "mpi": ["mpi4py>=4", "mpich>=4", "threadpoolctl>=3"],
        # The docs site (python docs/site.py serve): MkDocs with the Material theme, the API
        # reference from the docstrings by mkdocstrings; MathJax comes as a wheel
        # (django-static-mathjax, no Django needed) so math renders with no network.
        "docs": DOCS,
        # Watching a run live: TensorBoard event files through tensorboardX (no TensorFlow or
        # PyTorch); `tensorboard --logdir` to view them needs the tensorboard package.
        "monitor": MONITOR,
        # Moving a model out: safetensors files (no pickle), ONNX export checked by onnxruntime.
        "interop": INTEROP,
        # NVRTC compiles every kernel in the tests (no GPU or driver needed); threadpoolctl lets
        # tests/test_docs.py run the bench scripts' --help; MPI runs two ranks in
        # tests/test_distributed.py; the docs packages let tests/test_site.py build the site.
        "test": ["pytest>=7", "hypothesis>=6.80", "cuda-bindings>=12,<13",
                 "nvidia-cuda-nvrtc-cu12==12.9.*", "threadpoolctl>=3", "mpi4py>=4", "mpich>=4",
                 *DOCS, *MONITOR, "tensorboard>=2.14", *INTEROP],
    },
)
