"""tinygan.viz draws the graph a tensor was computed by: one box per Function, one edge per
tensor between them, labelled with its shape."""
import re
import shutil

import numpy as np
import pytest

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
    with pytest.raises(RuntimeError, match="draw it before backward") as error:
        viz.to_dot(released)
    assert "\n" not in str(error.value)
