"""See the graph: the Functions that made a tensor, and the tensors between them, as Graphviz.

    dot = tinygan.viz.to_dot(loss, names=dict((p, n) for n, p in D.named_parameters()))
    tinygan.viz.save(loss, "graph")   # graph.dot, and graph.png where Graphviz's dot runs

Boxes are ops (their class, a Function); ellipses are leaves (inputs and parameters, named
when ``names`` knows them); each edge is a tensor, labelled with its shape. Arrows follow the
forward pass; backward walks them in reverse.
"""
import shutil
import subprocess
from pathlib import Path

from .io import atomic_write


def to_dot(output, names=None):
    """The graph that computed ``output`` (a Tensor) as Graphviz DOT text."""
    names, ids = names or {}, {}
    lines = ["digraph tinygan {", "  rankdir=LR;", '  node [fontname="Helvetica"];']

    def node(key, label, shape):
        if key not in ids:
            ids[key] = f"n{len(ids)}"
            lines.append(f'  {ids[key]} [label="{label}", shape={shape}];')
        return ids[key]

    def source(tensor):
        """The node a tensor comes from: its creator, or the tensor itself as a leaf."""
        if tensor.creator is not None:
            return node(tensor.creator, type(tensor.creator).__name__, "box")
        kind = "param" if tensor.requires_grad else "input"
        return node(tensor, names.get(tensor, kind), "ellipse")

    stack, seen = [output.creator] if output.creator is not None else [], set()
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        if fn.released:
            raise RuntimeError(f"to_dot: the graph was released by a backward (at "
                               f"{type(fn).__name__}); draw it before backward(), or call "
                               "backward(retain_graph=True)")
        seen.add(fn)
        for tensor in fn.inputs:
            target = node(fn, type(fn).__name__, "box")
            lines.append(f'  {source(tensor)} -> {target} [label="{tuple(tensor.shape)}"];')
            if tensor.creator is not None:
                stack.append(tensor.creator)
    out = node("output", f"output {tuple(output.shape)}", "doublecircle")
    lines.append(f"  {source(output)} -> {out};")
    return "\n".join(lines + ["}"]) + "\n"


def save(output, path, names=None):
    """Write path.dot, and path.png when Graphviz's ``dot`` is on PATH; returns what was
    written (a released graph, after a backward without retain_graph, cannot be drawn)."""
    path = Path(path)
    with atomic_write(path.with_suffix(".dot"), "w") as file:
        file.write(to_dot(output, names))
    written = [path.with_suffix(".dot")]
    if shutil.which("dot"):
        png = subprocess.run(["dot", "-Tpng", str(written[0])], capture_output=True, check=True)
        with atomic_write(path.with_suffix(".png")) as file:
            file.write(png.stdout)
        written.append(path.with_suffix(".png"))
    return written
