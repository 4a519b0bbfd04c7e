"""Creation functions and random generators (tinygan/creation.py, tinygan/random.py).

Every call runs unchanged on tinygan and, where it is installed, on PyTorch: shape, dtype, device
and requires_grad must match, and so must the values of the deterministic functions. Random
draws cannot equal PyTorch's (other generators), so they are checked for reproducibility under
manual_seed and Generator objects, for independence, and for their distribution. On "cuda"
(the NumPy stand-in for CuPy) the draws must come from the device's generator.
"""
import numpy as np
import pytest

import tinygan
from cuda_emulation import CALLS, fake_cupy, installed, not_installed
from tinygan import nn

try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch, the oracle, is not installed")

# Each case is called with the module: tinygan or torch (the same names).
DETERMINISTIC = {
    "zeros(2, 3)": lambda m: m.zeros(2, 3),
    "zeros((2, 3))": lambda m: m.zeros((2, 3)),
    "zeros([2, 3])": lambda m: m.zeros([2, 3]),
    "zeros(size=(2, 3))": lambda m: m.zeros(size=(2, 3)),
    "zeros([])": lambda m: m.zeros([]),
    "zeros(0, 4)": lambda m: m.zeros(0, 4),
    "zeros(np.int64(2))": lambda m: m.zeros(np.int64(2)),
    "zeros(2, dtype=bool)": lambda m: m.zeros(2, dtype=m.bool),
    "zeros(3, requires_grad)": lambda m: m.zeros(3, requires_grad=True),
    "ones(2, dtype=int32)": lambda m: m.ones(2, dtype=m.int32),
    "ones(1, 2, dtype=float64)": lambda m: m.ones(1, 2, dtype=m.float64),
    "full((2, 2), 1.5)": lambda m: m.full((2, 2), 1.5),
    "full([3], 7)": lambda m: m.full([3], 7),
    "full((2,), True)": lambda m: m.full((2,), True),
    "full((2,), 2.7, dtype=int64)": lambda m: m.full((2,), 2.7, dtype=m.int64),
    "full((2,), nan)": lambda m: m.full((2,), float("nan")),
    "full(size=, fill_value=)": lambda m: m.full(size=(2,), fill_value=-1.0),
    "full((2,), 0-d tensor)": lambda m: m.full((2,), m.ones([]) * 3),
    "arange(5)": lambda m: m.arange(5),
    "arange(5.)": lambda m: m.arange(5.0),
    "arange(1, 5, 0.5)": lambda m: m.arange(1, 5, 0.5),
    "arange(5, 0, -1)": lambda m: m.arange(5, 0, -1),
    "arange(0, 10, 3)": lambda m: m.arange(0, 10, 3),
    "arange(-1., 1., 0.1)": lambda m: m.arange(-1.0, 1.0, 0.1),
    "arange(0., 1., 0.3)": lambda m: m.arange(0.0, 1.0, 0.3),
    "arange(3, 3)": lambda m: m.arange(3, 3),
    "arange(0.5, 3.7, dtype=int64)": lambda m: m.arange(0.5, 3.7, dtype=m.int64),
    "arange(0, 10, 3, dtype=float64)": lambda m: m.arange(0, 10, 3, dtype=m.float64),
    "arange(end=5)": lambda m: m.arange(end=5),
    "arange(start=1, end=5)": lambda m: m.arange(start=1, end=5),
    "arange(4, requires_grad)": lambda m: m.arange(4, dtype=m.float32, requires_grad=True),
    "linspace(0, 1, 5)": lambda m: m.linspace(0, 1, 5),
    "linspace(0.1, 0.9, 7)": lambda m: m.linspace(0.1, 0.9, 7),
    "linspace(-3, 7, 11, float64)": lambda m: m.linspace(-3, 7, 11, dtype=m.float64),
    "linspace(2, -2, 100)": lambda m: m.linspace(2, -2, 100),
    "linspace(0, 1, 1)": lambda m: m.linspace(0, 1, 1),
    "linspace(0, 1, 0)": lambda m: m.linspace(0, 1, 0),
    "linspace(0.5, 10, 4, int64)": lambda m: m.linspace(0.5, 10, 4, dtype=m.int64),
    "eye(3)": lambda m: m.eye(3),
    "eye(2, 3)": lambda m: m.eye(2, 3),
    "eye(3, 0)": lambda m: m.eye(3, 0),
    "eye(n=2, m=3)": lambda m: m.eye(n=2, m=3),
    "eye(2, dtype=bool)": lambda m: m.eye(2, dtype=m.bool),
    "zeros_like(int64)": lambda m: m.zeros_like(m.ones(2, 3, dtype=m.int64)),
    "zeros_like(requires_grad)": lambda m: m.zeros_like(m.ones(2, requires_grad=True)),
    "ones_like(x, dtype=float64)": lambda m: m.ones_like(m.zeros(2), dtype=m.float64),
    "full_like(int64, 2.7)": lambda m: m.full_like(m.zeros(2, dtype=m.int64), 2.7),
    "full_like(x, 3., requires_grad)": lambda m: m.full_like(m.zeros(2), 3.0, requires_grad=True),
}
RANDOM = {
    "empty(2, 3)": lambda m: m.empty(2, 3),
    "empty((2,), dtype=int32)": lambda m: m.empty((2,), dtype=m.int32),
    "empty_like(x)": lambda m: m.empty_like(m.zeros(3, 1, dtype=m.float64)),
    "randn(2, 3)": lambda m: m.randn(2, 3),
    "randn((2, 3))": lambda m: m.randn((2, 3)),
    "randn(size=[4])": lambda m: m.randn(size=[4]),
    "randn(2, dtype=float64)": lambda m: m.randn(2, dtype=m.float64),
    "randn(2, dtype=float16)": lambda m: m.randn(2, dtype=m.float16),
    "randn(2, requires_grad)": lambda m: m.randn(2, requires_grad=True),
    "randn(2, generator=g)": lambda m: m.randn(2, generator=m.Generator()),
    "rand(3, 1)": lambda m: m.rand(3, 1),
    "rand([2], dtype=float64)": lambda m: m.rand([2], dtype=m.float64),
    "rand(2, requires_grad)": lambda m: m.rand(2, requires_grad=True),
    "randint(10, (3,))": lambda m: m.randint(10, (3,)),
    "randint(3, 10, (2, 2))": lambda m: m.randint(3, 10, (2, 2)),
    "randint(-3, 0, [3])": lambda m: m.randint(-3, 0, [3]),
    "randint(10, size=(3,))": lambda m: m.randint(10, size=(3,)),
    "randint(high=3, size=(2,))": lambda m: m.randint(high=3, size=(2,)),
    "randint(low=, high=, size=)": lambda m: m.randint(low=1, high=3, size=(2,)),
    "randint(10, (3,), float32)": lambda m: m.randint(10, (3,), dtype=m.float32),
    "randint(0, 2, (3,), bool)": lambda m: m.randint(0, 2, (3,), dtype=m.bool),
    "randint(2**40, (2,))": lambda m: m.randint(2**40, (2,)),
    "randint(generator=g)": lambda m: m.randint(5, (2,), generator=m.Generator()),
    "randperm(5)": lambda m: m.randperm(5),
    "randperm(0)": lambda m: m.randperm(0),
    "randperm(5, dtype=float32)": lambda m: m.randperm(5, dtype=m.float32),
    "normal(0., 1., (2, 3))": lambda m: m.normal(0.0, 1.0, (2, 3)),
    "normal(2, 3, size=(2,))": lambda m: m.normal(2, 3, size=(2,)),
    "normal(..., dtype=float64)": lambda m: m.normal(0.0, 1.0, (2,), dtype=m.float64),
    "normal(tensor, 1.)": lambda m: m.normal(m.zeros(3), 1.0),
    "normal(tensor, tensor)": lambda m: m.normal(m.zeros(3), m.ones(2, 3)),
    "normal(0., tensor)": lambda m: m.normal(0.0, m.ones(3)),
    "normal(float64 tensor)": lambda m: m.normal(m.zeros(3, dtype=m.float64)),
    "normal(requires_grad mean)": lambda m: m.normal(m.zeros(3, requires_grad=True), 1.0),
    "randn_like(x)": lambda m: m.randn_like(m.zeros(2, 2)),
    "randn_like(generator=g)": lambda m: m.randn_like(m.zeros(2), generator=m.Generator()),
    "rand_like(x, dtype=float64)": lambda m: m.rand_like(m.zeros(2), dtype=m.float64),
    "rand_like(requires_grad)": lambda m: m.rand_like(m.zeros(2), requires_grad=True),
}
# (case, exception, what the one-line message must say): refused by tinygan and by PyTorch
ERRORS = {
    "zeros(-1, 3)": (lambda m: m.zeros(-1, 3), ValueError, "zeros: size must be non-negative"),
    "ones((2, -5))": (lambda m: m.ones((2, -5)), ValueError, "ones: size must be non-negative"),
    "zeros(2.0)": (lambda m: m.zeros(2.0), TypeError, "zeros: size must be ints"),
    "zeros(True)": (lambda m: m.zeros(True), TypeError, "zeros: size must be ints"),
    "zeros(2, (3,))": (lambda m: m.zeros(2, (3,)), TypeError, "zeros: size must be ints"),
    "zeros()": (lambda m: m.zeros(), TypeError, "zeros: missing the size"),
    "randn()": (lambda m: m.randn(), TypeError, "randn: missing the size"),
    "zeros(2, size=(2,))": (lambda m: m.zeros(2, size=(2,)), TypeError, "zeros: size given twice"),
    "full(3, 1.0)": (lambda m: m.full(3, 1.0), TypeError, "full: size must be a tuple or list"),
    "full((2,), 'a')": (lambda m: m.full((2,), "a"), TypeError, "full: fill_value must be"),
    "zeros(dtype='float33')": (lambda m: m.zeros(2, dtype="float33"), TypeError,
                               r"zeros\(dtype=...\): expected a dtype"),
    "ones(dtype=3)": (lambda m: m.ones(2, dtype=3), TypeError, r"ones\(dtype=...\)"),
    "zeros(dtype=object)": (lambda m: m.zeros(2, dtype=object), TypeError,
                            "zeros: dtype object is not supported"),
    "randn(dtype=int64)": (lambda m: m.randn(2, dtype=m.int64), (TypeError, NotImplementedError),
                           "randn: dtype int64 is not supported"),
    "rand(dtype=bool)": (lambda m: m.rand(2, dtype=m.bool), (TypeError, NotImplementedError),
                         "rand: dtype bool is not supported"),
    "randn_like(int64)": (lambda m: m.randn_like(m.zeros(2, dtype=m.int64)),
                          (TypeError, NotImplementedError), "randn_like: dtype int64"),
    "arange(3, dtype=bool)": (lambda m: m.arange(3, dtype=m.bool),
                              (TypeError, NotImplementedError), "arange: dtype bool"),
    "zeros(requires_grad, int64)": (
        lambda m: m.zeros(2, dtype=m.int64, requires_grad=True), (TypeError, RuntimeError),
        "zeros: requires_grad=True needs a floating-point dtype"),
    "arange(5, requires_grad)": (lambda m: m.arange(5, requires_grad=True),
                                 (TypeError, RuntimeError), "arange: requires_grad=True needs"),
    "zeros(requires_grad=1)": (lambda m: m.zeros(2, requires_grad=1), TypeError,
                               "zeros: requires_grad must be True or False"),
    "randint(5, 5, (3,))": (lambda m: m.randint(5, 5, (3,)), (ValueError, RuntimeError),
                            "randint: high must be greater than low, got low=5, high=5"),
    "randint(5, 3, (3,))": (lambda m: m.randint(5, 3, (3,)), (ValueError, RuntimeError),
                            "randint: high must be greater than low, got low=5, high=3"),
    "randint(0, (3,))": (lambda m: m.randint(0, (3,)), (ValueError, RuntimeError),
                         "randint: high must be greater than low, got low=0, high=0"),
    "randint(10, 3)": (lambda m: m.randint(10, 3), TypeError,
                       "randint: size must be a tuple or list"),
    "randint(10.5, (3,))": (lambda m: m.randint(10.5, (3,)), TypeError,
                            "randint: high must be an int"),
    "randint(10)": (lambda m: m.randint(10), TypeError, "randint: missing size"),
    "randint(0, 300, uint8)": (lambda m: m.randint(0, 300, (3,), dtype=m.uint8),
                               (ValueError, RuntimeError), "randint: .* does not fit dtype uint8"),
    "randint(-1, 2, uint8)": (lambda m: m.randint(-1, 2, (3,), dtype=m.uint8),
                              (ValueError, RuntimeError), "does not fit dtype uint8"),
    "randint(0, 3, bool)": (lambda m: m.randint(0, 3, (3,), dtype=m.bool),
                            (ValueError, RuntimeError), "does not fit dtype bool"),
    "arange(0, 5, 0)": (lambda m: m.arange(0, 5, 0), (ValueError, RuntimeError),
                        "arange: step must be nonzero"),
    "arange(0, 3, 0.5, int64)": (lambda m: m.arange(0, 3, 0.5, dtype=m.int64),
                                 (ValueError, RuntimeError), "arange: step must be nonzero"),
    "arange(5, 0)": (lambda m: m.arange(5, 0), (ValueError, RuntimeError),
                     "arange: end=0 lies on the wrong side of start=5"),
    "arange()": (lambda m: m.arange(), TypeError, "arange: missing end"),
    "arange('a')": (lambda m: m.arange("a"), TypeError, "arange: end must be a real number"),
    "linspace(0, 1, -1)": (lambda m: m.linspace(0, 1, -1), (ValueError, RuntimeError),
                           "linspace: steps must be non-negative"),
    "linspace(0, 1, 2.0)": (lambda m: m.linspace(0, 1, 2.0), TypeError,
                            "linspace: steps must be an int"),
    "eye(-1)": (lambda m: m.eye(-1), (ValueError, RuntimeError), "eye: n must be non-negative"),
    "eye(2, -1)": (lambda m: m.eye(2, -1), (ValueError, RuntimeError),
                   "eye: m must be non-negative"),
    "eye(2.0)": (lambda m: m.eye(2.0), TypeError, "eye: n must be an int"),
    "randperm(-1)": (lambda m: m.randperm(-1), (ValueError, RuntimeError),
                     "randperm: n must be non-negative"),
    "randperm(3.0)": (lambda m: m.randperm(3.0), TypeError, "randperm: n must be an int"),
    "normal(0, -1., (2,))": (lambda m: m.normal(0, -1.0, (2,)), (ValueError, RuntimeError),
                             "normal: std must be >= 0, got -1.0"),
    "normal(0., -ones(3))": (lambda m: m.normal(0.0, -m.ones(3)), (ValueError, RuntimeError),
                             "normal: std must be >= 0 in every element"),
    "normal(0., 1.)": (lambda m: m.normal(0.0, 1.0), TypeError, "normal: missing size"),
    "normal(tensor, 1., (3,))": (lambda m: m.normal(m.zeros(3), 1.0, (3,)), TypeError,
                                 "normal: size, dtype, device and requires_grad go with number"),
    "normal(tensor, device=)": (lambda m: m.normal(m.zeros(3), 1.0, device="cpu"), TypeError,
                                "normal: size, dtype, device and requires_grad go with number"),
    "randn(generator=1)": (lambda m: m.randn(2, generator=1), TypeError,
                           "randn: generator must be a tinygan.Generator, got int"),
    "zeros(device='tpu')": (lambda m: m.zeros(2, device="tpu"), (ValueError, RuntimeError),
                            "unknown device 'tpu'"),
    "zeros_like(ndarray)": (lambda m: m.zeros_like(np.zeros(2)), TypeError,
                            "zeros_like: input must be a Tensor, got ndarray"),
    "full_like(x, 'a')": (lambda m: m.full_like(m.zeros(2), "a"), TypeError,
                          "full_like: fill_value must be"),
    "Generator().manual_seed(1.5)": (lambda m: m.Generator().manual_seed(1.5),
                                     (TypeError, RuntimeError), "manual_seed: seed must be an int"),
    "manual_seed(2**64)": (lambda m: m.manual_seed(2**64), (ValueError, RuntimeError),
                           r"manual_seed: seed must be in \[-2\*\*63, 2\*\*64\)"),
    "set_rng_state(zeros(3))": (lambda m: m.set_rng_state(m.zeros(3)), (TypeError, RuntimeError),
                                "set_state: new_state must be a uint8 Tensor"),
}


def dtype_name(tensor):
    """A tinygan or torch tensor's dtype as a NumPy name ("float32", "int64", "bool")."""
    return str(tensor.dtype).removeprefix("torch.")


def facts(tensor):
    """(shape, dtype, device, requires_grad) of a tinygan or torch tensor."""
    device = getattr(tensor.device, "type", tensor.device)
    return (tuple(tensor.shape), dtype_name(tensor), device, tensor.requires_grad)


def values(tensor):
    """A tinygan or torch tensor's values as a NumPy array."""
    return tensor.detach().numpy()


@pytest.fixture(scope="module")
def cuda():
    """The cuda backend on the NumPy stand-in for CuPy, for this module's tests."""
    with installed():
        yield tinygan.backend.get("cuda")


@pytest.fixture
def seeded():
    """Each test starts from manual_seed(0) and leaves the global generators seeded so."""
    tinygan.manual_seed(0)
    yield
    tinygan.manual_seed(0)


# --- the same calls as PyTorch --------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("case", DETERMINISTIC, ids=list(DETERMINISTIC))
def test_deterministic_functions_match_pytorch(case):
    ours, theirs = DETERMINISTIC[case](tinygan), DETERMINISTIC[case](torch)
    assert isinstance(ours, tinygan.Tensor)
    assert facts(ours) == facts(theirs)
    if ours.dtype.kind == "f":
        np.testing.assert_allclose(values(ours), values(theirs), rtol=1e-6, atol=1e-7)
    else:
        np.testing.assert_array_equal(values(ours), values(theirs))


@needs_torch
@pytest.mark.parametrize("case", RANDOM, ids=list(RANDOM))
def test_random_functions_match_pytorch_in_shape_dtype_device_and_grad(case, seeded):
    ours, theirs = RANDOM[case](tinygan), RANDOM[case](torch)
    assert isinstance(ours, tinygan.Tensor)
    assert facts(ours) == facts(theirs)


@pytest.mark.parametrize("case", ERRORS, ids=list(ERRORS))
def test_bad_arguments_are_refused_in_one_line_naming_the_argument(case):
    call, error, message = ERRORS[case]
    with pytest.raises(error, match=message) as refused:
        call(tinygan)
    assert "\n" not in str(refused.value)


@needs_torch
@pytest.mark.parametrize("case", ERRORS, ids=list(ERRORS))
def test_what_tinygan_refuses_pytorch_refuses_too(case):
    with pytest.raises(Exception):  # noqa: B017 (PyTorch's exception types vary)
        ERRORS[case][0](torch)


@needs_torch
def test_the_default_dtype_makes_the_float_results():
    calls = [lambda m: m.zeros(2), lambda m: m.arange(3.0), lambda m: m.full((1,), 1.0),
             lambda m: m.linspace(0, 1, 3), lambda m: m.eye(2), lambda m: m.randn(2),
             lambda m: m.rand(2), lambda m: m.normal(0.0, 1.0, (2,)), lambda m: m.arange(3)]
    try:
        tinygan.set_default_dtype(tinygan.float64)
        torch.set_default_dtype(torch.float64)
        for call in calls:
            assert facts(call(tinygan)) == facts(call(torch))
        assert dtype_name(tinygan.zeros(1)) == "float64"
    finally:
        tinygan.set_default_dtype(tinygan.float32)
        torch.set_default_dtype(torch.float32)


@needs_torch
def test_seeds_wrap_and_report_as_pytorch():
    for seed in (-1, 2**64 - 1, -2**63, 12345):
        tinygan.manual_seed(seed)
        assert tinygan.initial_seed() == torch.manual_seed(seed).initial_seed()
        generator, theirs = tinygan.Generator().manual_seed(seed), torch.Generator()
        assert generator.initial_seed() == theirs.manual_seed(seed).initial_seed()
    tinygan.manual_seed(0)


# --- reproducibility, independence, distribution --------------------------------------------
DRAWS = {
    "randn": lambda generator, device: tinygan.randn(3, 4, generator=generator, device=device),
    "rand": lambda generator, device: tinygan.rand(7, generator=generator, device=device),
    "randint": lambda generator, device: tinygan.randint(-5, 1000, (9,), generator=generator,
                                                         device=device),
    "randperm": lambda generator, device: tinygan.randperm(20, generator=generator,
                                                           device=device),
    "normal": lambda generator, device: tinygan.normal(1.0, 2.0, (5,), generator=generator,
                                                       device=device),
    "normal(tensor)": lambda generator, device: tinygan.normal(
        tinygan.zeros(5, device=device), 2.0, generator=generator),
    "randn_like": lambda generator, device: tinygan.randn_like(
        tinygan.zeros(6, device=device), generator=generator),
    "rand_like": lambda generator, device: tinygan.rand_like(
        tinygan.zeros(6, device=device), generator=generator),
}


@pytest.fixture(params=["cpu", "cuda"])
def device(request):
    """Each device; "cuda" on the NumPy stand-in for CuPy."""
    if request.param == "cuda":
        request.getfixturevalue("cuda")
    return request.param


@pytest.mark.parametrize("name", DRAWS)
def test_manual_seed_makes_the_global_draws_reproducible(name, device, seeded):
    draw = DRAWS[name]
    tinygan.manual_seed(42)
    first, second = values(draw(None, device)), values(draw(None, device))
    tinygan.manual_seed(42)
    np.testing.assert_array_equal(values(draw(None, device)), first)
    np.testing.assert_array_equal(values(draw(None, device)), second)
    assert not np.array_equal(first, second)  # the stream moves on
    tinygan.manual_seed(43)
    assert not np.array_equal(values(draw(None, device)), first)


@pytest.mark.parametrize("name", DRAWS)
def test_generators_are_reproducible_and_independent(name, device, seeded):
    draw = DRAWS[name]
    one, other = tinygan.Generator(device), tinygan.Generator(device)
    one.manual_seed(1), other.manual_seed(1)
    global_before = values(tinygan.randn(4, device=device))
    first = values(draw(one, device))
    draw(one, device)  # another draw from one does not move other
    np.testing.assert_array_equal(values(draw(other, device)), first)
    other.manual_seed(2)
    assert not np.array_equal(values(draw(other, device)), first)
    tinygan.manual_seed(0)
    draw(one, device)  # a Generator's draws leave the global generator as it was
    np.testing.assert_array_equal(values(tinygan.randn(4, device=device)), global_before)


def test_generators_of_a_new_or_unseeded_kind_start_from_seed_0(seeded):
    assert tinygan.Generator().initial_seed() == 0
    np.testing.assert_array_equal(values(tinygan.randn(5)),
                                  values(tinygan.randn(5, generator=tinygan.Generator())))


def test_rng_state_round_trips(seeded):
    tinygan.manual_seed(9)
    tinygan.randn(3)
    state = tinygan.get_rng_state()
    assert dtype_name(state) == "uint8" and state.ndim == 1
    expected = values(tinygan.randn(1001)), values(tinygan.randint(0, 10, (5,)))
    tinygan.manual_seed(10)
    tinygan.set_rng_state(state)
    assert tinygan.initial_seed() == 9
    np.testing.assert_array_equal(values(tinygan.randn(1001)), expected[0])
    np.testing.assert_array_equal(values(tinygan.randint(0, 10, (5,))), expected[1])
    generator = tinygan.Generator().manual_seed(3)
    saved = generator.get_state()
    drawn = values(tinygan.rand(4, generator=generator))
    np.testing.assert_array_equal(values(tinygan.rand(4, generator=generator.set_state(saved))),
                                  drawn)


def test_seed_draws_a_fresh_seed_from_entropy(seeded):
    first = tinygan.seed()
    assert tinygan.initial_seed() == first and 0 <= first < 2**64
    assert tinygan.seed() != first
    generator = tinygan.Generator()
    assert generator.seed() == generator.initial_seed()


def test_parameter_init_draws_from_the_global_generator(seeded):
    assert tinygan.nn.manual_seed is tinygan.manual_seed is tinygan.random.manual_seed
    tinygan.manual_seed(5)
    weight = values(nn.Linear(4, 3).weight)
    # the draws parameter init always made: numpy.random.default_rng(seed), U(+-1/sqrt(fan_in))
    expected = np.random.default_rng(5).uniform(-0.5, 0.5, (3, 4)).astype(np.float32)
    np.testing.assert_array_equal(weight, expected)
    tinygan.manual_seed(5)
    tinygan.randn(2)  # one stream: a draw before the layer changes its weights
    assert not np.array_equal(values(nn.Linear(4, 3).weight), weight)


def test_normal_of_tensors_is_in_the_graph_with_zero_gradient_as_in_pytorch(seeded):
    mean = tinygan.zeros(2, 3, requires_grad=True)
    std = tinygan.ones(3, requires_grad=True)
    drawn = tinygan.normal(mean, std)
    assert drawn.requires_grad and drawn.shape == (2, 3)
    (drawn * drawn).sum().backward()
    np.testing.assert_array_equal(values(mean.grad), np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(values(std.grad), np.zeros(3, np.float32))
    with tinygan.no_grad():
        assert not tinygan.normal(mean, 1.0).requires_grad


def test_draws_have_the_right_distribution(device, seeded):
    n = 200_000
    normal = values(tinygan.randn(n, device=device)).astype(np.float64)
    assert abs(normal.mean()) < 0.01 and abs(normal.std() - 1) < 0.01
    uniform = values(tinygan.rand(n, device=device, dtype=tinygan.float64))
    assert uniform.min() >= 0 and uniform.max() < 1
    assert abs(uniform.mean() - 0.5) < 0.005 and abs(uniform.var() - 1 / 12) < 0.002
    scaled = values(tinygan.normal(2.0, 3.0, (n,), device=device)).astype(np.float64)
    assert abs(scaled.mean() - 2) < 0.03 and abs(scaled.std() - 3) < 0.03
    means = tinygan.arange(4.0, device=device).reshape(4, 1) * 10
    rows = values(tinygan.normal(means, tinygan.full((4, 1000), 0.5, device=device)))
    np.testing.assert_allclose(rows.mean(axis=1), [0, 10, 20, 30], atol=0.1)
    integers = values(tinygan.randint(3, 10, (70_000,), device=device))
    counts = np.bincount(integers - 3, minlength=7)
    assert integers.min() == 3 and integers.max() == 9 and len(counts) == 7
    assert np.all(np.abs(counts / 10_000 - 1) < 0.05)
    permutation = values(tinygan.randperm(1000, device=device))
    np.testing.assert_array_equal(np.sort(permutation), np.arange(1000))
    assert not np.array_equal(permutation, np.arange(1000))


# --- the cuda backend (the NumPy stand-in for CuPy) -----------------------------------------
@pytest.mark.parametrize("case", DETERMINISTIC, ids=list(DETERMINISTIC))
def test_deterministic_functions_on_cuda_equal_the_cpu_ones(cuda, case):
    call = DETERMINISTIC[case]
    on_cpu = call(tinygan)

    class OnCuda:
        """tinygan with device="cuda" as every call's default."""

        def __getattr__(self, name):
            member = getattr(tinygan, name)
            if name in ("zeros", "ones", "full", "arange", "linspace", "eye"):
                return lambda *args, **kwargs: member(*args, **{"device": "cuda", **kwargs})
            return member

    on_device = call(OnCuda())
    assert on_device.device == "cuda" and on_device.backend.xp is fake_cupy
    assert facts(on_device)[:2] == facts(on_cpu)[:2]
    np.testing.assert_array_equal(values(on_device), values(on_cpu))


@pytest.mark.parametrize("name", DRAWS)
def test_cuda_draws_come_from_the_device_generator(cuda, name, seeded):
    before = sum(count for key, count in CALLS.items() if key.startswith("random."))
    drawn = DRAWS[name](None, "cuda")
    assert drawn.device == "cuda" and drawn.backend.xp is fake_cupy
    assert sum(count for key, count in CALLS.items() if key.startswith("random.")) > before


def test_a_generator_must_be_on_the_tensors_device(cuda, seeded):
    with pytest.raises(ValueError, match="randn: generator is on 'cuda' but the tensor is made "
                                         "on 'cpu'"):
        tinygan.randn(2, generator=tinygan.Generator("cuda"))
    with pytest.raises(ValueError, match="generator is on 'cpu' but the tensor is made on"):
        tinygan.normal(tinygan.zeros(2, device="cuda"), 1.0, generator=tinygan.Generator())
    with pytest.raises(NotImplementedError, match="get_state: a cuda Generator's state"):
        tinygan.Generator("cuda").get_state()


def test_seeding_needs_no_device_after_the_device_is_gone(cuda, seeded):
    tinygan.randn(2, device="cuda")  # makes the global cuda generator
    with not_installed():
        tinygan.manual_seed(1)  # CuPy is gone: seeding must not reach for it
    assert tinygan.initial_seed() == 1
