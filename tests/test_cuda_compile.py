"""Every kernels/*.cu file compiles for real GPUs (sm_80, sm_90) with NVRTC, with the options
cupy.RawKernel passes, and none spills.

NVRTC comes from PyPI and needs no GPU or driver: pip install "cuda-bindings>=12,<13"
"nvidia-cuda-nvrtc-cu12==12.9.*". Without it these tests skip, except under CI (the CI
environment variable set), where they fail. Registers and spills per kernel, from ptxas's
report, are written to bench/results/kernel_registers.md.
"""
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tinygan.backend import cuda as cuda_backend  # importable without CuPy

from cuda_emulation import KERNELS
from cuda_emulation.build import kernel_signatures

ARCHITECTURES = ("sm_80", "sm_90")
# What cupy.RawKernel adds to our options on its way to NVRTC (CuPy 14.2,
# cupy/cuda/compiler.py _compile_with_cache_cuda): flush denormals to zero. CuPy's own compile
# path cannot be used here: it asks the driver for the GPU's architecture first.
CUPY_OPTIONS = ("-ftz=true",)
KERNEL_FILES = sorted(KERNELS.glob("*.cu"))
REPORT = KERNELS.parent / "bench" / "results" / "kernel_registers.md"
INSTALL = 'pip install "cuda-bindings>=12,<13" "nvidia-cuda-nvrtc-cu12==12.9.*"'
REGISTERS = re.compile(r"Used (\d+) registers")
FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")


@dataclass
class Compiled:
    """NVRTC's verdict on one kernel file for one architecture, with ptxas's resource report."""
    succeeded: bool
    log: str
    registers: int = 0
    stack_frame: int = 0
    spill_stores: int = 0
    spill_loads: int = 0


def import_nvrtc():
    """cuda.bindings.nvrtc; fail under CI and skip elsewhere when it is not installed."""
    try:
        from cuda.bindings import nvrtc
    except ImportError as error:
        reason = f"NVRTC's Python bindings are not installed ({error}); {INSTALL}"
        if os.environ.get("CI"):
            pytest.fail(f"CI must compile the kernels: {reason}")
        pytest.skip(reason)
    return nvrtc


def nvrtc_compile(nvrtc, path, architecture, extra_options=()):
    """Compile one .cu file to a CUBIN for ``architecture``, asking ptxas for its report."""
    status, program = nvrtc.nvrtcCreateProgram(path.read_bytes(), path.name.encode(), 0, [], [])
    assert status == nvrtc.nvrtcResult.NVRTC_SUCCESS, f"nvrtcCreateProgram: {status}"
    options = [f"--gpu-architecture={architecture}".encode(), b"--ptxas-options=-v",
               *(o.encode() for o in cuda_backend.COMPILE_OPTIONS + CUPY_OPTIONS), *extra_options]
    (status,) = nvrtc.nvrtcCompileProgram(program, len(options), options)
    _, size = nvrtc.nvrtcGetProgramLogSize(program)
    log = b" " * size
    nvrtc.nvrtcGetProgramLog(program, log)
    nvrtc.nvrtcDestroyProgram(program)
    log = log.rstrip(b"\0").decode()
    if status != nvrtc.nvrtcResult.NVRTC_SUCCESS:
        return Compiled(False, log)
    frame = FRAME.search(log)
    registers = REGISTERS.search(log)
    if frame is None or registers is None:
        raise AssertionError(f"no ptxas resource report in NVRTC's log:\n{log}")
    return Compiled(True, log, int(registers[1]), *map(int, frame.groups()))


def nvrtc_version(nvrtc):
    """NVRTC's version as "major.minor"."""
    _, major, minor = nvrtc.nvrtcVersion()
    return f"{major}.{minor}"


def write_report(results, version):
    """bench/results/kernel_registers.md: one row per kernel and architecture (if it changed)."""
    rows = [f"| {path.stem} | {arch} | {c.registers} | {c.stack_frame} | {c.spill_stores} | "
            f"{c.spill_loads} |" if c.succeeded else f"| {path.stem} | {arch} | failed to compile "
            f"| | | |" for (path, arch), c in results.items()]
    text = "\n".join([
        "# Registers and spills per kernel",
        "",
        f"Written by tests/test_cuda_compile.py from ptxas's report (NVRTC {version}, "
        "`--ptxas-options=-v`). A spill fails that test.",
        "",
        "| kernel | architecture | registers | stack frame (bytes) | spill stores (bytes) "
        "| spill loads (bytes) |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
        *rows, ""])
    if not REPORT.exists() or REPORT.read_text() != text:
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(text)


@pytest.fixture(scope="module")
def compiled():
    """{(kernel file, architecture): Compiled} for every kernel file and architecture."""
    nvrtc = import_nvrtc()
    results = {(path, arch): nvrtc_compile(nvrtc, path, arch)
               for path in KERNEL_FILES for arch in ARCHITECTURES}
    write_report(results, nvrtc_version(nvrtc))
    return results


def test_there_are_kernels_to_check():
    assert KERNEL_FILES, f"no .cu files in {KERNELS}"


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("path", KERNEL_FILES, ids=lambda path: path.name)
def test_kernel_compiles_for_a_real_gpu_without_spilling(compiled, path, architecture):
    result = compiled[path, architecture]
    assert result.succeeded, f"{path.name} does not compile for {architecture}:\n{result.log}"
    assert result.spill_stores == result.spill_loads == 0, \
        f"{path.name} spills registers on {architecture}:\n{result.log}"


@pytest.mark.parametrize("path", KERNEL_FILES, ids=lambda path: path.name)
def test_file_name_is_its_one_kernel(path):
    source = path.read_text()
    assert list(kernel_signatures(source)) == [path.stem]
    assert source.count("__global__") == 1, f"{path.name} defines more than one __global__"


def test_nvrtc_reports_a_syntax_error_with_file_and_line(tmp_path):
    nvrtc = import_nvrtc()
    broken = Path(tmp_path) / "broken.cu"
    broken.write_text('extern "C" __global__ void broken(float* y)\n{\n    y[0] = 1.0f +;\n}\n')
    result = nvrtc_compile(nvrtc, broken, ARCHITECTURES[0])
    assert not result.succeeded and re.search(r"broken\.cu\(3\): error", result.log), result.log


HEAVY = """extern "C" __global__ void heavy(float* y, const float* x)
{
    float a[24];
    for (int i = 0; i < 24; ++i) a[i] = x[i * threadIdx.x];
    float s = 0.0f;
    for (int i = 0; i < 24; ++i) for (int j = 0; j < 24; ++j) s += a[i] * a[j] * x[i + j];
    y[threadIdx.x] = s;
}
"""


def test_a_kernel_squeezed_into_few_registers_is_seen_to_spill(tmp_path):
    nvrtc = import_nvrtc()
    heavy = Path(tmp_path) / "heavy.cu"
    heavy.write_text(HEAVY)
    result = nvrtc_compile(nvrtc, heavy, ARCHITECTURES[0], [b"--maxrregcount=24"])
    assert result.succeeded and result.registers <= 24, result.log
    assert result.spill_stores > 0 and result.spill_loads > 0, result.log
