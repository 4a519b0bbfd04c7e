"""Builds a kernels/*.cu file with g++ into a shared library that runs the kernel on the CPU.

The generated wrapper `#include`s the unchanged .cu file, so compiler errors name its lines,
and exports one C function, ``launch(grid_x, grid_y, grid_z, block_x, block_y, block_z,
args)``, where ``args`` is a ``void**`` array shaped like ``cuLaunchKernel``'s: ``args[i]``
points at the value of parameter ``i``. Libraries are cached by a hash of everything that
goes into them.
"""
import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinygan.io import atomic_write

HERE = Path(__file__).resolve().parent
HEADER = HERE / "host.h"
KERNELS = HERE.parent.parent / "kernels"
CACHE = Path(os.environ.get("TINYGAN_EMULATION_CACHE",
                            Path.home() / ".cache" / "tinygan" / "emulation"))
COMPILER = ["g++", "-O2", "-std=c++20", "-shared", "-fPIC"]

KERNEL_SIGNATURE = re.compile(r'extern\s+"C"\s+__global__\s+void\s+(\w+)\s*\(([^)]*)\)')
PARAMETER = re.compile(
    r"(const float\*|float\*|const double\*|double\*|int|long long|float) ?(\w+)")
# The NumPy type that carries each parameter type: the element type for pointers.
NUMPY_TYPES = {"const float*": np.float32, "float*": np.float32, "const double*": np.float64,
               "double*": np.float64, "int": np.int32, "long long": np.int64, "float": np.float32}


class BuildError(RuntimeError):
    """g++ could not build an emulated kernel; the message is the compiler's log."""


@dataclass(frozen=True)
class Parameter:
    """One kernel parameter: its C type, its name and the NumPy type that carries it."""
    c_type: str
    name: str

    @property
    def is_pointer(self):
        """True for an array parameter (``float*``, ``double*``, const or not)."""
        return self.c_type.endswith("*")

    @property
    def numpy_type(self):
        """The NumPy scalar type of the value, or of each element for a pointer."""
        return NUMPY_TYPES[self.c_type]


def kernel_file(source, kernel_name):
    """kernels/NAME.cu when ``source`` is its text, else a cached copy of ``source`` as NAME.cu."""
    original = KERNELS / f"{kernel_name}.cu"
    if original.exists() and original.read_text() == source:
        return original
    copy = CACHE / "sources" / hashlib.sha256(source.encode()).hexdigest()[:16] / original.name
    if not (copy.exists() and copy.read_text() == source):
        # Ranks build the same source at once: each must see the whole file or none of it.
        with atomic_write(copy, "w") as file:
            file.write(source)
    return copy


def kernel_signatures(source):
    """Every ``extern "C" __global__`` kernel in CUDA source: {name: parameter list text}."""
    return dict(KERNEL_SIGNATURE.findall(source))


def parse_parameters(kernel_name, parameter_list):
    """The Parameters of a kernel from the text between its parentheses."""
    parameters = []
    for text in parameter_list.split(","):
        spelled = re.sub(r"\s*\*\s*", "* ", " ".join(text.split()))
        match = PARAMETER.fullmatch(spelled)
        if match is None:
            raise BuildError(f"{kernel_name}: cannot emulate parameter {spelled!r}; supported "
                             f"types are {', '.join(NUMPY_TYPES)}")
        parameters.append(Parameter(*match.groups()))
    return tuple(parameters)


def wrapper_source(kernel_path, kernel_name, parameters):
    """C++ that includes the kernel file, checks the parsed signature and exports launch()."""
    types = ", ".join(p.c_type for p in parameters)
    return (f'#include "{kernel_path}"\n\n'
            f"// Fails to compile if the signature parsed in Python is not the kernel's.\n"
            f"static void (*const emulated_kernel)({types}) = {kernel_name};\n\n"
            f'extern "C" void launch(unsigned grid_x, unsigned grid_y, unsigned grid_z,\n'
            f"                       unsigned block_x, unsigned block_y, unsigned block_z,\n"
            f"                       void** args)\n"
            f"{{\n"
            f"    emulation::launch(emulated_kernel, dim3(grid_x, grid_y, grid_z),\n"
            f"                      dim3(block_x, block_y, block_z), args);\n"
            f"}}\n")


def compile_library(wrapper, library):
    """g++ the wrapper into ``library``; raise BuildError with the compiler log on failure."""
    library.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=library.parent) as scratch:
        source = Path(scratch) / "wrapper.cpp"
        source.write_text(wrapper)
        built = Path(scratch) / library.name
        command = COMPILER + ["-include", str(HEADER), str(source), "-o", str(built)]
        if shutil.which(COMPILER[0]) is None:
            raise BuildError(f"{COMPILER[0]} not found: the CUDA emulator needs a C++20 "
                             f"compiler (apt-get install g++)")
        # The C locale keeps the log plain ASCII ('x', not typographic quotes) everywhere.
        result = subprocess.run(command, capture_output=True, text=True,
                                env={**os.environ, "LC_ALL": "C"})
        if result.returncode != 0:
            raise BuildError(result.stderr)
        os.replace(built, library)  # atomic: a concurrent build never sees half a library


class EmulatedKernel:
    """A kernel from a .cu file, built for the host; launch() runs it on NumPy memory."""

    def __init__(self, kernel_path, kernel_name):
        kernel_path = Path(kernel_path).resolve()
        source = kernel_path.read_text()
        signatures = kernel_signatures(source)
        if kernel_name not in signatures:
            raise BuildError(f"{kernel_path}: no extern \"C\" __global__ kernel named "
                             f"{kernel_name!r} (found: {', '.join(signatures) or 'none'})")
        self.name = kernel_name
        self.parameters = parse_parameters(kernel_name, signatures[kernel_name])
        wrapper = wrapper_source(kernel_path, kernel_name, self.parameters)
        digest = hashlib.sha256("\0".join(
            [source, HEADER.read_text(), wrapper, " ".join(COMPILER)]).encode())
        library = CACHE / f"{kernel_name}-{digest.hexdigest()[:16]}.so"
        if not library.exists():
            compile_library(wrapper, library)
        self._launch = ctypes.CDLL(str(library)).launch
        self._launch.argtypes = [ctypes.c_uint] * 6 + [ctypes.POINTER(ctypes.c_void_p)]
        self._launch.restype = None

    def launch(self, grid, block, values):
        """Run over a 3-D grid and block; values: one checked scalar or array per parameter."""
        # Each value lives in a small NumPy buffer; args[i] points at it, as in cuLaunchKernel.
        buffers = [np.array(value.ctypes.data, dtype=np.uintp) if parameter.is_pointer
                   else np.array(value) for parameter, value in zip(self.parameters, values)]
        args = (ctypes.c_void_p * len(buffers))(*[buffer.ctypes.data for buffer in buffers])
        self._launch(*grid, *block, args)
