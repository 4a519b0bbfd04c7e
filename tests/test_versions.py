"""Version counters over the op table: an input or the output of every op, overwritten in place
between the forward and the backward, either makes the backward raise or leaves the gradients
as they were (the op's backward does not read it). Never a silently wrong gradient."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygan
from op_cases import ROWS
from tinygan import tensor


def gradients(row, arrays, settings, r, overwrite=None):
    """The inputs' gradients of sum(r * op(inputs)); ``overwrite(inputs, output)`` runs under
    no_grad between the forward and the backward."""
    inputs = [tensor(a, requires_grad=True) for a in arrays]
    output = row.ours(*inputs, **settings)
    if overwrite is not None:
        with tinygan.no_grad():
            overwrite(inputs, output)
    output.backward(tensor(r))
    return [t.grad.numpy() for t in inputs]


def raises_or_unchanged(row, arrays, settings, r, overwrite):
    """True if the backward raised the version error; else assert the gradients are unchanged."""
    expected = gradients(row, arrays, settings, r)
    try:
        got = gradients(row, arrays, settings, r, overwrite)
    except RuntimeError as error:
        assert "modified in place" in str(error), str(error)
        assert "\n" not in str(error)
        return True
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(g, e, err_msg=f"{row.name}: an in-place write before the "
                                      "backward changed a gradient without an error")
    return False


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_overwritten_input_raises_or_is_unread(row, data, seed):
    arrays, settings = row.draw(data)
    rng = np.random.default_rng(seed)
    position = data.draw(st.integers(0, len(arrays) - 1), label="overwritten input")
    noise = rng.standard_normal(arrays[position].shape)
    r = rng.standard_normal(row.ours(*map(tensor, arrays), **settings).shape)

    def overwrite(inputs, output):
        inputs[position].add_(tensor(noise))

    raised = raises_or_unchanged(row, arrays, settings, r, overwrite)
    readers = [type(fn).__name__ for fn in functions_reading(row, arrays, settings, position)]
    assert raised or not readers, f"{row.name}: {readers} read input {position}, yet no error"


def functions_reading(row, arrays, settings, position):
    """The Functions of the op's graph that take input ``position`` and read its values."""
    inputs = [tensor(a, requires_grad=True) for a in arrays]
    found, stack, seen = [], [row.ours(*inputs, **settings).creator], set()
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        if fn.reads_inputs and any(t is inputs[position] for t in fn.inputs):
            found.append(fn)
        stack.extend(t.creator for t in fn.inputs)
    return found


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_overwritten_output_raises_or_is_unread(row, data, seed):
    arrays, settings = row.draw(data)
    rng = np.random.default_rng(seed)
    shape = row.ours(*map(tensor, arrays), **settings).shape
    noise, r = rng.standard_normal(shape), rng.standard_normal(shape)

    def overwrite(inputs, output):
        if not output.array.flags.writeable:  # a broadcast view: its base is the input
            inputs[0].add_(tensor(rng.standard_normal(inputs[0].shape)))
        else:
            output.add_(tensor(noise))

    raises_or_unchanged(row, arrays, settings, r, overwrite)


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid", "softmax"])
def test_ops_that_read_their_output_raise(name):
    """These backwards read the output, so overwriting it must raise (the check can fail)."""
    row = next(r for r in ROWS if r.name == name)
    arrays = [np.linspace(-1, 1, 6).reshape(2, 3)]
    settings = {"axis": 1} if name == "softmax" else {}

    def overwrite(inputs, output):
        output.mul_(2.0)

    assert raises_or_unchanged(row, arrays, settings, np.ones((2, 3)), overwrite)
