"""See the graph: the Functions that made a tensor, and the tensors between them, as Graphviz.

    dot = tinygan.viz.to_dot(loss, names=dict((p, n) for n, p in D.named_parameters()))
    tinygan.viz.save(loss, "graph")   # graph.dot, and graph.png where Graphviz's dot runs
    tinygan.viz.save(loss, "graph", values=True, rankdir="TB")   # micrograd's draw_dot

Boxes are ops (their class, a Function); ellipses are leaves (inputs and parameters, named
when ``names`` knows them); each edge is a tensor, labelled with its shape. Arrows follow the
forward pass; backward walks them in reverse.

With ``values=True`` every tensor is an ellipse of its own, as in micrograd's draw_dot, with
its shape, its value (a number, or the mean and std of an array) and, for a one-element
output, its gradient: d output / d tensor, computed by tinygan.grad with retain_graph=True
(``.grad`` is left as it was, and a later backward still runs).

Draw before backward(), or call backward(retain_graph=True): a backward releases each
Function's inputs, and with them the graph (to_dot then says so in one line).
"""
import shutil
import subprocess
from pathlib import Path

from .io import atomic_write
from .tensor import _topological_order, grad


def to_dot(output, names=None, values=False, rankdir="LR"):
    """The graph that computed ``output`` (a Tensor) as Graphviz DOT text."""
    functions, names, ids = _functions(output), names or {}, {}
    gradients = _gradients(output, functions) if values else {}
    lines = ["digraph tinygan {", f"  rankdir={rankdir};", '  node [fontname="Helvetica"];',
             '  edge [fontname="Helvetica"];']

    def node(key, label, shape):
        if key not in ids:
            ids[key] = f"n{len(ids)}"
            text = "\\n".join(line.replace("\\", "\\\\").replace('"', '\\"') for line in label)
            lines.append(f'  {ids[key]} [label="{text}", shape={shape}];')
        return ids[key]

    def op(fn):
        return node(fn, [type(fn).__name__], "box")

    def name(tensor):
        if values and tensor is output:
            return "output"
        if tensor.creator is not None:
            return ""
        return names.get(tensor, "param" if tensor.requires_grad else "input")

    def source(tensor):
        """The node a tensor leaves from: its own with values, else its creator or its leaf."""
        if not values:
            return (op(tensor.creator) if tensor.creator is not None
                    else node(tensor, [name(tensor)], "ellipse"))
        drawn = tensor in ids
        key = node(tensor, _label(tensor, name(tensor), gradients.get(tensor)), "ellipse")
        if not drawn and tensor.creator is not None:
            lines.append(f"  {op(tensor.creator)} -> {key};")
        return key

    for fn in functions:
        for tensor in fn.inputs:
            shape = "" if values else f' [label="{tuple(tensor.shape)}"]'
            lines.append(f"  {source(tensor)} -> {op(fn)}{shape};")
    if values:
        source(output)
    else:
        out = node("output", [f"output {tuple(output.shape)}"], "doublecircle")
        lines.append(f"  {source(output)} -> {out};")
    return "\n".join(lines + ["}"]) + "\n"


def save(output, path, names=None, values=False, rankdir="LR"):
    """Write to_dot's text to path.dot, and path.png where Graphviz's ``dot`` runs; the paths."""
    path = Path(path)
    with atomic_write(path.with_suffix(".dot"), "w") as file:
        file.write(to_dot(output, names, values, rankdir))
    written = [path.with_suffix(".dot")]
    if shutil.which("dot"):
        png = subprocess.run(["dot", "-Tpng", str(written[0])], capture_output=True, check=True)
        with atomic_write(path.with_suffix(".png")) as file:
            file.write(png.stdout)
        written.append(path.with_suffix(".png"))
    return written


def _functions(output):
    """The Functions that computed ``output`` (backward's walk, each after its inputs'
    creators); one line of error if a backward released them."""
    try:
        return _topological_order([output.creator] if output.creator is not None else [])
    except RuntimeError:  # the walk's only error: a released Function
        raise RuntimeError("to_dot: the graph was released by a backward; draw it before "
                           "backward(), or call backward(retain_graph=True)") from None


def _gradients(output, functions):
    """{tensor: d output / d tensor} over the graph's tensors that require grad, for a
    one-element output (else none), by tinygan.grad: no .grad changes, the graph is kept."""
    if not output.requires_grad or output.array.size != 1:
        return {}
    tensors = list(dict.fromkeys([output] + [t for fn in functions for t in fn.inputs
                                             if t.requires_grad]))
    found = grad(output, tensors, retain_graph=True, allow_unused=True)
    return {t: g for t, g in zip(tensors, found) if g is not None}


def _label(tensor, name, gradient):
    """A tensor's node label: its name and shape, its value, and its gradient if it has one."""
    head = " ".join(filter(None, [name, str(tuple(tensor.shape)) if tensor.ndim else ""]))
    label = [head] if head else []
    label.append(f"data {_summary(tensor.numpy())}")
    if gradient is not None:
        label.append(f"grad {_summary(gradient.numpy())}")
    return label


def _summary(array):
    """One element as a number; more as their mean and standard deviation."""
    if array.size == 1:
        return _number(array.item())
    if array.size == 0:
        return "empty"
    return f"mean {_number(array.mean())} std {_number(array.std())}"


def _number(x):
    """Four decimals, as micrograd prints; very large or small magnitudes in e-notation."""
    return f"{x:.4f}" if x == 0 or 1e-3 <= abs(x) < 1e6 else f"{x:.3e}"
