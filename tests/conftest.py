"""Shared pytest set-up: hypothesis settings and the error summary printed after the run."""
import pytest
from hypothesis import HealthCheck, settings

import tinygan
from idiom_compare import torch
from tinygan.backend import cpu

from op_cases import MAX_ERRORS
from support import write_image_folder

# The default keeps CI fast; `pytest --hypothesis-profile=thorough` draws ten times more cases.
settings.register_profile("tinygan", deadline=None, max_examples=40,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", parent=settings.get_profile("tinygan"), max_examples=400)
settings.load_profile("tinygan")


LIBRARY_MIN_TILES_PER_THREAD = cpu.MIN_TILES_PER_THREAD  # before the fixture below lowers it


@pytest.fixture(autouse=True)
def winograd_at_test_batches(monkeypatch):
    """Tests use batches of 1 to 8: let the Winograd route take them whatever their tile count
    (training waits for cpu.MIN_TILES_PER_THREAD tiles a thread), so that its math stays tested
    in every op, graph and step; test_winograd checks the threshold at the library's value."""
    monkeypatch.setattr(cpu, "MIN_TILES_PER_THREAD", 0)


@pytest.fixture
def library_routes(monkeypatch):
    """The library's own Winograd threshold, for a test of the threshold or one that compares
    runs in this process with runs in a subprocess (which the fixture above cannot reach)."""
    monkeypatch.setattr(cpu, "MIN_TILES_PER_THREAD", LIBRARY_MIN_TILES_PER_THREAD)
    return LIBRARY_MIN_TILES_PER_THREAD


@pytest.fixture
def rng_states():
    """Put back both libraries' global generators after a row that seeds them."""
    states = [(lib, lib.get_rng_state()) for lib in (tinygan, torch) if lib is not None]
    yield
    for lib, state in states:
        lib.set_rng_state(state)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """48 random 32x32 RGB PNGs in two class folders: 6 steps per epoch at batch 8."""
    return write_image_folder(tmp_path_factory.mktemp("images"), count=48)


ORACLES = ("finite differences", "pytorch", "double: finite differences", "double: pytorch")


def pytest_terminal_summary(terminalreporter):
    """Print the largest relative error seen per op, of its backward and of its double backward,
    against finite differences and PyTorch."""
    if not MAX_ERRORS:
        return
    rows = sorted({name for name, _ in MAX_ERRORS})
    terminalreporter.section("largest relative error per op (float64)")
    terminalreporter.write_line(f"{'':34s} {'backward':>21s} {'double backward':>21s}")
    terminalreporter.write_line(f"{'op':34s} {'vs fin. diff.':>12s} {'vs PyTorch':>10s} "
                                f"{'vs fin. diff.':>12s} {'vs PyTorch':>10s}")
    for name in rows:
        cells = [MAX_ERRORS.get((name, oracle)) for oracle in ORACLES]
        text = ["not run" if e is None else f"{e:.1e}" for e in cells]
        terminalreporter.write_line(f"{name:34s} {text[0]:>12s} {text[1]:>10s} "
                                    f"{text[2]:>12s} {text[3]:>10s}")
