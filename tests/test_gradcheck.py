"""Every op's backward against central finite differences, in float64, on drawn inputs.

Directional check (as in Chainer's gradient_check): for a random output weighting r and a
random direction d of one input, the analytic <grad_x sum(r * f), d> must equal the numerical
derivative of g(h) = sum(r * f(x + h d)) at h = 0: the central difference
D(h) = (g(h) - g(-h)) / (2 h), Richardson-extrapolated to (4 D(h / 2) - D(h)) / 3 so that the
truncation error falls from O(h^2) to O(h^4) (it matters where batch norm's variance is tiny).
The relative error's denominator never drops below the rounding noise of that difference,
about 10 * machine_eps * (sum|r * f| + sum|grad * x|) / h (rounding of the outputs and of the
shifted inputs, a few roundings each), divided by the tolerance: a directional derivative
smaller than that noise cannot be checked numerically.
"""
import inspect

import numpy as np
import pytest
from hypothesis import given, strategies as st

from op_cases import ROWS, record_error
from tinygan import Function, Tensor, ops

EPS = 1e-5  # small against batch norm's smallest std (sqrt(1e-5)), large against rounding
TOLERANCE = 1e-6


def directional_errors(row, arrays, settings, seed):
    """Relative error of the analytic against the numerical directional derivative, per input."""
    rng = np.random.default_rng(seed)
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    y = row.ours(*tensors, **settings)
    r = rng.standard_normal(y.shape)
    y.backward(r)
    output_size = float(np.sum(np.abs(r * y.data)))

    def g(i, d, h):
        shifted = [a + h * d if j == i else a for j, a in enumerate(arrays)]
        return float(np.sum(r * row.ours(*[Tensor(a) for a in shifted], **settings).data))

    def central_difference(i, d, h):
        return (g(i, d, h) - g(i, d, -h)) / (2 * h)

    errors = []
    for i, (tensor, a) in enumerate(zip(tensors, arrays)):
        d = rng.standard_normal(a.shape)
        numeric = (4 * central_difference(i, d, EPS / 2) - central_difference(i, d, EPS)) / 3
        analytic = float(np.sum(tensor.grad.data * d))
        input_size = float(np.sum(np.abs(tensor.grad.data * a)))
        noise = 10 * np.finfo(np.float64).eps * (output_size + input_size) / EPS
        errors.append(abs(analytic - numeric)
                      / max(abs(analytic), abs(numeric), noise / TOLERANCE, 1e-300))
    return errors


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_backward_matches_finite_differences(row, data, seed):
    arrays, settings = row.draw(data)
    errors = directional_errors(row, arrays, settings, seed)
    record_error(row.name, "finite differences", max(errors))
    assert max(errors) < TOLERANCE, f"{row.name}: relative errors per input {errors}"


def test_every_op_has_a_row():
    functions = {cls for _, cls in inspect.getmembers(ops, inspect.isclass)
                 if issubclass(cls, Function) and cls is not Function
                 and not cls.__name__.startswith("_")}
    missing = functions - {row.function for row in ROWS}
    assert not missing, (f"ops without a row in tests/op_cases.py: "
                         f"{sorted(c.__name__ for c in missing)}")


def test_the_check_catches_a_wrong_backward():
    """A deliberately wrong derivative must fail the same check (the check can fail)."""
    class WrongTanh(ops.Tanh):
        def backward(self, gy):
            return gy * (1 - self.y)  # missing the square

    row = next(r for r in ROWS if r.name == "tanh")
    wrong = type(row)(row.name, WrongTanh, row.draw, WrongTanh.apply, row.theirs)
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    assert max(directional_errors(wrong, [x], {}, seed=0)) > 1e-2
