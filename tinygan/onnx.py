"""Export a module to ONNX, as torch.onnx.export: the graph its forward records, written out.

The forward runs once in eval mode on the example inputs, which are made to require grad, so
that every op on them is recorded (Function.apply keeps the Function as its output's creator,
with its input Tensors). The walk goes back from the outputs through the creators; each
Function becomes ONNX nodes, its settings read from what its forward kept (stride, padding,
the running statistics). Parameters and buffers become initializers named by their state_dict
names; a value that does not depend on the inputs (spectral norm's normalised weight) is folded
into an initializer, except reshapes and transposes, which stay nodes of the named weights.
"""
import numpy as np

from . import io
from .tensor import Tensor, _recording

__all__ = ["export"]

_INSTALL = 'pip install -e ".[interop]"'
_ELEMENTWISE = {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Neg": "Neg",
                "MatMul": "MatMul", "ReLU": "Relu", "Tanh": "Tanh", "Sigmoid": "Sigmoid"}
_WEIGHT_OPS = ("Reshape", "Transpose")  # on input-independent values they stay nodes


def export(model, args, f, input_names=None, output_names=None, dynamic_axes=None,
           opset_version=17):
    """Write ``model`` run in eval mode on ``args`` (a Tensor or a tuple) to ``f`` as ONNX."""
    try:
        import onnx
    except ImportError:
        raise ImportError(f"onnx.export needs the onnx package: {_INSTALL}") from None
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    if not all(isinstance(t, Tensor) for t in args):
        raise TypeError(f"onnx.export: args must be a Tensor or a tuple of Tensors, got "
                        f"{[type(t).__name__ for t in args]}")
    inputs = [t.detach().requires_grad_() if t.dtype.kind == "f" else t for t in args]
    modes = {module: module.training for module in model.modules()}
    model.eval()
    try:
        with _recording(True):
            outputs = model(*inputs)
    finally:
        for module, mode in modes.items():
            module.training = mode
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    input_names = _names(input_names, "input", len(inputs))
    output_names = _names(output_names, "output", len(outputs))
    dynamic = _dynamic_axes(dynamic_axes, input_names + output_names)
    graph = _Graph(onnx, model, inputs, input_names, outputs, output_names)
    for out in outputs:
        graph.value(out)
    for t, name in zip(inputs, input_names):
        if t.dtype.kind != "f" and name not in graph.gathered:
            raise ValueError(f"onnx.export: integer input {name!r} does not reach an embedding "
                             "unchanged (an op or a copy in between cannot be followed, and "
                             "its example values would be baked in); index with it directly")
    proto = onnx.helper.make_model(
        onnx.helper.make_graph(graph.nodes, type(model).__name__,
                               graph.infos(inputs, input_names, dynamic),
                               graph.infos(outputs, output_names, dynamic), graph.initializers),
        opset_imports=[onnx.helper.make_opsetid("", opset_version)], producer_name="tinygan")
    onnx.checker.check_model(proto)
    with io.atomic_write(f) as file:
        file.write(proto.SerializeToString())


def _names(names, stem, count):
    """The given names, or stem, stem_1, ... (one per value); a wrong count is refused."""
    if names is None:
        return [stem] + [f"{stem}_{i}" for i in range(1, count)]
    if len(names) != count:
        raise ValueError(f"onnx.export: {len(names)} {stem}_names for {count} {stem}s")
    return list(names)


def _dynamic_axes(dynamic_axes, names):
    """{value name: {axis: dim name}} from torch's dynamic_axes (a dict, or a list of axes)."""
    dynamic = {}
    for name, axes in (dynamic_axes or {}).items():
        if name not in names:
            raise ValueError(f"onnx.export: dynamic_axes names {name!r}, which is not one of the "
                             f"input or output names {names}")
        dynamic[name] = (dict(axes) if isinstance(axes, dict)
                         else {axis: f"{name}_dim{axis}" for axis in axes})
    return dynamic


class _Graph:
    """The ONNX nodes and initializers of the recorded graph, built from its outputs back."""

    def __init__(self, onnx, model, inputs, input_names, outputs, output_names):
        self.onnx, self.nodes, self.initializers = onnx, [], []
        self.names = {id(t): name for t, name in zip(inputs, input_names)}
        self.live = set(self.names)  # the values that depend on the inputs
        self.input_arrays = {id(t.array): name for t, name in zip(inputs, input_names)}
        self.gathered = set()  # the integer inputs an emitted Gather reads
        self.state = dict(model.named_parameters()) | dict(model.named_buffers())
        self.state_names = {id(t.array): name for name, t in self.state.items()}
        self.constants = {}  # id(array) -> (array, initializer name)
        self.wanted = {id(t): name for t, name in zip(outputs, output_names)}
        self.count = 0

    def value(self, root):
        """The name of ``root``'s value, after emitting everything it depends on."""
        self._mark_live(root)
        if id(root) not in self.live:
            raise ValueError(f"onnx.export: output {self.wanted[id(root)]!r} does not depend on "
                             "the inputs through recorded ops (a detach() or .numpy() in the "
                             "forward?)")
        stack = [root]
        while stack:
            t = stack[-1]
            if id(t) in self.names:
                stack.pop()
            elif t.creator is None or not self._emitted(t):
                self.names[id(t)] = self.constant(t.array, t.backend)
                stack.pop()
            else:
                pending = [x for x in t.creator.inputs if id(x) not in self.names]
                if not pending:
                    self.names[id(t)] = self._emit(stack.pop())
                stack.extend(pending)
        name = self.names[id(root)]
        if id(root) in self.wanted and name != self.wanted[id(root)]:
            self.node("Identity", [name], out=self.wanted[id(root)])
        return name

    def _mark_live(self, root):
        """Add to self.live every value up to ``root`` that depends on the inputs."""
        stack, seen = [root], set(self.names)
        while stack:
            t = stack[-1]
            pending = [] if t.creator is None else [
                x for x in t.creator.inputs if id(x) not in seen]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            seen.add(id(t))
            fn = t.creator
            if fn is not None and (any(id(x) in self.live for x in fn.inputs) or (
                    type(fn).__name__ == "Index"
                    and any(id(part) in self.input_arrays for part in _key(fn)))):
                self.live.add(id(t))

    def _emitted(self, t):
        """Whether t's creator becomes nodes (else t is folded into an initializer)."""
        return id(t) in self.live or type(t.creator).__name__ in _WEIGHT_OPS

    def _emit(self, y):
        """Nodes for y's creator; returns y's value name."""
        fn, op = y.creator, type(y.creator).__name__
        ins = [self.names[id(x)] for x in fn.inputs]
        handler = _HANDLERS.get(op)
        if handler is None and op not in _ELEMENTWISE:
            raise _unsupported(fn)
        if handler is None:
            return self.node(_ELEMENTWISE[op], ins, y)
        return handler(self, fn, y, *ins)

    def node(self, op, ins, y=None, out=None, **attributes):
        """Append a node; its output is ``out``, y's wanted output name or a fresh name."""
        self.count += 1
        out = out or (self.wanted.get(id(y)) if y is not None else None) or f"{op}_{self.count}"
        self.nodes.append(self.onnx.helper.make_node(op, ins, [out], name=f"{op}_{self.count}",
                                                     **attributes))
        return out

    def constant(self, array, backend=None):
        """An initializer of ``array`` (once per array), named by the state dict where it is
        a parameter or buffer; returns its name."""
        if id(array) not in self.constants:  # the array is kept: its id stays its own
            self.count += 1
            name = self.state_names.get(id(array)) or f"constant_{self.count}"
            host = np.asarray(array if backend is None else backend.to_numpy(array))
            self.initializers.append(self.onnx.numpy_helper.from_array(host, name))
            self.constants[id(array)] = array, name
        return self.constants[id(array)][1]

    def infos(self, values, names, dynamic):
        """Value infos of graph inputs or outputs: dtype and shape, dynamic axes by name."""
        helper = self.onnx.helper
        return [helper.make_tensor_value_info(
            name, helper.np_dtype_to_tensor_dtype(t.dtype),
            [dynamic.get(name, {}).get(axis, size) for axis, size in enumerate(t.shape)])
            for t, name in zip(values, names)]


def _unsupported(fn):
    """The one-line error for a Function with no ONNX mapping."""
    module = type(fn).__module__
    where = module.removeprefix("tinygan.").replace(".", "/") + ".py"
    supported = ", ".join(sorted(set(_HANDLERS) | set(_ELEMENTWISE)))
    return NotImplementedError(f"onnx.export: cannot export Function '{type(fn).__name__}' "
                               f"({where}); supported: {supported}")


def _conv(graph, fn, y, x, w):
    kernel = fn.inputs[1].shape[2:]
    return graph.node("Conv", [x, w], y, kernel_shape=kernel, strides=fn.stride,
                      pads=fn.padding * 2)


def _conv_transpose(graph, fn, y, x, w):
    kernel, sizes = fn.inputs[1].shape[2:], fn.inputs[0].shape[2:]
    extra = [out - ((n - 1) * s - 2 * p + k) for out, n, s, p, k in
             zip(y.shape[2:], sizes, fn.stride, fn.padding, kernel)]
    return graph.node("ConvTranspose", [x, w], y, kernel_shape=kernel, strides=fn.stride,
                      pads=fn.padding * 2, output_padding=extra)


def _batch_norm(graph, fn, y, x, gamma, beta):
    if fn.training:
        raise NotImplementedError("onnx.export: batch norm without running statistics "
                                  "(track_running_stats=False) cannot be exported")
    _, mean, inv_std, _, _ = fn.saved
    mean_name = graph.state_names.get(id(mean), "")
    var_name = mean_name.removesuffix("running_mean") + "running_var"
    if mean_name.endswith("running_mean") and var_name in graph.state:
        var = graph.state[var_name].array
    else:  # statistics passed as arrays of no module: the variance from 1 / sqrt(var + eps)
        var = 1 / inv_std ** 2 - fn.eps
    stats = [graph.constant(a, fn.backend) for a in (mean, var)]
    activation = {1.0: None, 0.0: "Relu"}.get(fn.slope, "LeakyRelu")
    z = graph.node("BatchNormalization", [x, gamma, beta, *stats],
                   None if activation else y, epsilon=float(fn.eps))
    if activation is None:
        return z
    alpha = {"alpha": float(fn.slope)} if activation == "LeakyRelu" else {}
    return graph.node(activation, [z], y, **alpha)


def _normalize(graph, fn, y, x, gamma, beta):
    if tuple(fn.axes) != (2, 3):
        raise NotImplementedError(f"onnx.export: cannot export Function 'Normalize' over axes "
                                  f"{fn.axes} (layer_norm); only instance_norm's (2, 3)")
    return graph.node("InstanceNormalization", [x, gamma, beta], y, epsilon=float(fn.eps))


def _reshape(graph, fn, y, x):
    shape = list(y.shape)
    if id(fn.inputs[0]) in graph.live and shape and fn.shape:  # keep the batch size free
        shape[0] = 0 if shape[0] == fn.shape[0] else -1
    return graph.node("Reshape", [x, graph.constant(np.array(shape, np.int64))], y)


def _key(fn):
    """An Index Function's key as a tuple of parts."""
    return fn.key if isinstance(fn.key, tuple) else (fn.key,)


def _index(graph, fn, y, weight):
    key = _key(fn)
    if len(key) != 1 or id(key[0]) not in graph.input_arrays:
        raise NotImplementedError("onnx.export: cannot export Function 'Index' (ops/indexing.py) "
                                  "other than an embedding's weight[indices], the indices a "
                                  "model input")
    graph.gathered.add(graph.input_arrays[id(key[0])])
    return graph.node("Gather", [weight, graph.input_arrays[id(key[0])]], y, axis=0)


_HANDLERS = {
    "Conv2d": _conv, "ConvTranspose2d": _conv_transpose, "BatchNorm": _batch_norm,
    "Normalize": _normalize, "Reshape": _reshape, "Index": _index,
    "LeakyReLU": lambda graph, fn, y, x: graph.node("LeakyRelu", [x], y, alpha=float(fn.slope)),
    "Softmax": lambda graph, fn, y, x: graph.node("Softmax", [x], y, axis=fn.axis),
    "Transpose": lambda graph, fn, y, x: graph.node("Transpose", [x], y, perm=fn.axes),
    "Cat": lambda graph, fn, y, *xs: graph.node("Concat", list(xs), y, axis=len(fn.keys[0]) - 1),
}
