"""Processes that share files: several ranks (or pytest runs) build the same emulated kernel at
once, and none of them may see another's half-written file (issue 33: a truncated cached
source read as "no kernel named 'probe'", reported as a missing CUDA library)."""
import subprocess
import sys
import time
from pathlib import Path

from tinygan.backend import cuda

TESTS = Path(__file__).resolve().parent
PROCESSES = 4
BUILDS = 300

# Each process waits for a common start time, then builds the kernel BUILDS times from its
# source string (a fresh RawKernel each time, as every rank's check_available does).
BUILDER = f"""
import sys, time
sys.path.insert(0, {str(TESTS)!r})
from cuda_emulation import installed
start, source, name = float(sys.argv[1]), sys.argv[2], sys.argv[3]
with installed():
    import cupy
    cupy.RawKernel(source, name).compile()
    time.sleep(max(0.0, start - time.time()))
    for _ in range({BUILDS}):
        cupy.RawKernel(source, name).compile()
"""


def build_at_once(source, name, cache):
    """Run PROCESSES builders of one source string at the same moment; their results."""
    start = time.time() + 3  # time enough for every process to import and warm up
    env = {"TINYGAN_EMULATION_CACHE": str(cache), "PATH": "/usr/bin:/bin"}
    builders = [subprocess.Popen([sys.executable, "-c", BUILDER, str(start), source, name],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=env)
                for _ in range(PROCESSES)]
    return [(b.wait(timeout=300), b.stderr.read()) for b in builders]


def test_processes_building_one_kernel_source_at_once_all_succeed(tmp_path):
    for status, errors in build_at_once(cuda.PROBE_KERNEL, "probe", tmp_path):
        assert status == 0, errors
