"""tinygan.viz draws the graph a tensor was computed by: one box per Function, one edge per
tensor between them, labelled with its shape; with values=True each tensor is a node with its
value and gradient, as micrograd's draw_dot draws them."""
import re
import shutil

import numpy as np
import pytest

import tinygan as tg
from tinygan import ops, tensor, viz


def test_the_dot_text_has_a_box_per_function_and_shapes_on_the_edges(tmp_path):
    w = tensor(np.ones((4, 3)), requires_grad=True)
    x = tensor(np.ones((2, 3)))
    h = ops.tanh(ops.linear(x, w))
    loss = (h * h + h).sum()
    dot = viz.to_dot(loss, names={w: "weight"})
    boxes = re.findall(r'label="(\w+)", shape=box', dot)
    assert sorted(boxes) == sorted(["Transpose", "MatMul", "Tanh", "Mul", "Add", "Sum"])
    assert 'label="weight", shape=ellipse' in dot and 'label="input", shape=ellipse' in dot
    assert '[label="(2, 4)"]' in dot and '[label="(4, 3)"]' in dot
    assert dot.count("->") == 2 + 1 + 1 + 2 + 2 + 1 + 1  # every input edge, and the output's
    written = viz.save(loss, tmp_path / "graph", names={w: "weight"})
    assert (tmp_path / "graph.dot").read_text() == dot
    assert (tmp_path / "graph.png" in written) == (shutil.which("dot") is not None)


def test_a_graph_released_by_backward_is_refused_in_one_line():
    """After backward() (no retain_graph) the Functions dropped their inputs: one line says to
    draw first (it was an AttributeError deep in to_dot); with retain_graph it still draws."""
    w = tensor(np.ones(3), requires_grad=True)
    kept, released = (w * 2).sum(), (w * 3).sum()
    kept.backward(retain_graph=True)
    assert "Mul" in viz.to_dot(kept)
    released.backward()
    for values in (False, True):
        with pytest.raises(RuntimeError, match="draw it before backward") as error:
            viz.to_dot(released, values=values)
        assert "\n" not in str(error.value)


def micrograd_example():
    """micrograd's README example on tinygan, in float64: g, and its leaves a and b."""
    a = tensor(-4.0, dtype=tg.float64, requires_grad=True)
    b = tensor(2.0, dtype=tg.float64, requires_grad=True)
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    return g + 10.0 / f, a, b


def test_values_label_each_tensor_with_its_value_and_gradient_as_micrograd_does():
    """micrograd's numbers (g 24.7041, a.grad 138.8338, b.grad 645.5773) in the labels; the
    gradients are computed for the drawing, so .grad stays None and a backward still runs."""
    g, a, b = micrograd_example()
    dot = viz.to_dot(g, names={a: "a", b: "b"}, values=True)
    assert 'label="output\\ndata 24.7041\\ngrad 1.0000", shape=ellipse' in dot
    assert 'label="a\\ndata -4.0000\\ngrad 138.8338", shape=ellipse' in dot
    assert 'label="b\\ndata 2.0000\\ngrad 645.5773", shape=ellipse' in dot
    assert a.grad is None and b.grad is None
    g.backward(retain_graph=True)
    assert (round(a.grad.item(), 4), round(b.grad.item(), 4)) == (138.8338, 645.5773)
    assert viz.to_dot(g, names={a: "a", b: "b"}, values=True) == dot
    intermediate = re.findall(r'label="data (\S+)\\ngrad (\S+)", shape=ellipse', dot)
    assert ("-7.0000", "-6.9417") in intermediate  # e = c - d = -7, dg/de = 2e (1/2 - 10/f^2)
    assert 'label="Pow", shape=box' in dot and not re.search(r"-> n\d+ \[label", dot)


def test_values_of_arrays_are_their_shape_mean_and_std_and_only_a_scalar_has_gradients():
    w = tensor(np.array([[1.0, 3.0]]), requires_grad=True)
    x = tensor(np.full((3, 1), 2.0))
    y = x * w  # (3, 2): 2, 6 in each row
    dot = viz.to_dot(y.sum(), names={w: "w"}, values=True, rankdir="TB")
    assert "rankdir=TB;" in dot
    assert 'label="w (1, 2)\\ndata mean 2.0000 std 1.0000\\ngrad mean 6.0000 std 0.0000"' in dot
    assert 'label="input (3, 1)\\ndata mean 2.0000 std 0.0000", shape=ellipse' in dot
    assert 'label="(3, 2)\\ndata mean 4.0000 std 2.0000\\ngrad mean 1.0000' in dot
    without = viz.to_dot(y, names={w: "w"}, values=True)  # not one element: no gradients
    assert "data mean 4.0000 std 2.0000" in without and "grad" not in without
    assert 'label="the \\"w\\" (1, 2)\\ndata' in viz.to_dot(y, names={w: 'the "w"'}, values=True)
