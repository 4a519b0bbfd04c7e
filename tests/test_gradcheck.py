"""Every op's backward against central finite differences, in float64, on drawn inputs.

Directional check (as in Chainer's gradient_check): for a random output weighting r and a
random direction d of one input, the analytic <grad_x sum(r * f), d> must equal the numerical
derivative of g(h) = sum(r * f(x + h d)) at h = 0 (op_cases.directional_error: a
Richardson-extrapolated central difference, so that the truncation error is O(h^4), which
matters where batch norm's variance is tiny, against a floor of rounding noise).
"""
import importlib
import inspect
import pkgutil

import numpy as np
import pytest
from hypothesis import given, strategies as st

from op_cases import FD_TOLERANCE, ROWS, directional_error, record_error
from tinygan import Function, ops, tensor


def directional_errors(row, arrays, settings, seed):
    """Relative error of the analytic against the numerical directional derivative, per input."""
    rng = np.random.default_rng(seed)
    tensors = [tensor(a, requires_grad=True) for a in arrays]
    y = row.ours(*tensors, **settings)
    r = rng.standard_normal(y.shape)
    y.backward(r)

    def weighted_output(i):
        def f(shifted):
            inputs = [tensor(shifted[0] if j == i else a) for j, a in enumerate(arrays)]
            terms = r * row.ours(*inputs, **settings).array
            return float(np.sum(terms)), float(np.sum(np.abs(terms)))
        return f

    return [directional_error(weighted_output(i), [a], [t.grad.array],
                              [rng.standard_normal(a.shape)])
            for i, (t, a) in enumerate(zip(tensors, arrays))]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_backward_matches_finite_differences(row, data, seed):
    arrays, settings = row.draw(data)
    errors = directional_errors(row, arrays, settings, seed)
    record_error(row.name, "finite differences", max(errors))
    assert max(errors) < FD_TOLERANCE, f"{row.name}: relative errors per input {errors}"


def test_every_op_has_a_row():
    """Every Function defined in a module of the ops package is a row's op, or one of the
    adjoints a row's backward applies (checked by that row's double backward in
    test_double_backward.py)."""
    modules = [importlib.import_module(f"{ops.__name__}.{info.name}")
               for info in pkgutil.iter_modules(ops.__path__)]
    functions = {cls for module in modules
                 for _, cls in inspect.getmembers(module, inspect.isclass)
                 if issubclass(cls, Function) and cls.__module__ == module.__name__
                 and hasattr(cls, "forward")}
    assert {ops.Tanh, ops.Index} <= functions, "the walk over tinygan.ops missed modules"
    covered = {row.function for row in ROWS} | {a for row in ROWS for a in row.adjoints}
    missing = functions - covered
    assert not missing, (f"ops without a row in tests/op_cases.py: "
                         f"{sorted(c.__name__ for c in missing)}")


def test_the_check_catches_a_wrong_backward():
    """A deliberately wrong derivative must fail the same check (the check can fail)."""
    class WrongTanh(ops.Tanh):
        def backward(self, gy):
            return gy * (1 - self.output_tensor(self.y))  # missing the square

    row = next(r for r in ROWS if r.name == "tanh")
    wrong = type(row)(row.name, WrongTanh, row.draw, WrongTanh.apply, row.theirs)
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    assert max(directional_errors(wrong, [x], {}, seed=0)) > 1e-2
