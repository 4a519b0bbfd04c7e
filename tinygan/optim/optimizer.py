"""The base of the optimizers, as torch.optim.Optimizer: ``param_groups`` (a list of dicts, each
with its 'params' and its options), ``state`` (per parameter), ``zero_grad``, ``add_param_group``
and ``state_dict``/``load_state_dict`` in PyTorch's layout (tinygan's earlier layout, that of its
training checkpoints, loads too)."""
from collections import defaultdict

import numpy as np

from ..tensor import wrap


class Optimizer:
    """Parameter groups with per-group options; subclasses update in ``step`` from ``.grad``.

    ``defaults`` fill the options a group leaves out; ``state[p]`` is a dict of the parameter's
    moments, held as backend arrays on its device.
    """

    checks = {}
    """Per subclass, {option: (test, words)}: each group's option must pass test, else a
    one-line ValueError says it needs ``option words``."""

    def __init__(self, params, defaults):
        if isinstance(params, dict) or hasattr(params, "shape"):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of tensors or of "
                            f"dicts, got {type(params).__name__}")
        self.defaults, self.param_groups = dict(defaults), []
        self.state = defaultdict(dict)
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines += [f"Parameter Group {i}"] + [f"    {key}: {group[key]}" for key in
                                                 sorted(group) if key != "params"]
        return "\n".join(lines + [")"])

    @property
    def params(self):
        """Every group's parameters, in order (the indices of state_dict)."""
        return [p for group in self.param_groups for p in group["params"]]

    def add_param_group(self, param_group):
        """Append a group: a dict with 'params' (a tensor or an iterable of them) and any options
        (the others from ``defaults``); a parameter may be in one group only."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{type(self).__name__}.add_param_group: expected a dict, got "
                            f"{type(param_group).__name__}")
        params = param_group.get("params")
        params = [params] if hasattr(params, "shape") else list(params or ())
        if not params or not all(hasattr(p, "grad") for p in params):
            raise ValueError(f"{type(self).__name__}: a parameter group's 'params' must be "
                             "tensors, at least one")
        group = {**self.defaults, **param_group, "params": params}
        self._check(group)
        held = {id(p) for p in self.params}
        if any(id(p) in held for p in params):
            raise ValueError(f"{type(self).__name__}: some parameters appear in more than one "
                             "parameter group")
        self.param_groups.append(group)

    def _check(self, group):
        """A one-line ValueError naming the first option of ``group`` out of its range."""
        for key, (test, words) in self.checks.items():
            if not test(group[key]):
                raise ValueError(f"{type(self).__name__}: need {key} {words}, got "
                                 f"{key}={group[key]!r}")

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient: None, or zeros in place with set_to_none=False."""
        for p in self.params:
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.array.fill(0)

    def step(self, closure=None):
        """Update each group's parameters that have a gradient, with the group's options; the
        loss that ``closure`` (re-evaluating the model) returns, where given."""
        loss = None if closure is None else closure()
        for group in self.param_groups:
            self._check(group)
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, p.grad.array, self.state[p], group)
                    p._mark_modified(f"{type(self).__name__}.step")
        return loss

    def _update(self, p, g, state, group):
        raise NotImplementedError

    def state_dict(self):
        """{'state': {index: {name: a Tensor copy on p's device, or a number}}, 'param_groups':
        [options with 'params' as indices]}, as PyTorch's (indices count through the groups in
        order)."""
        index = {id(p): i for i, p in enumerate(self.params)}
        state = {index[id(p)]: {k: wrap(v.copy(), p.backend) if hasattr(v, "shape") else v
                                for k, v in s.items()}
                 for p, s in self.state.items() if s and id(p) in index}
        groups = [{**g, "params": [index[id(p)] for p in g["params"]]} for g in self.param_groups]
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore a state_dict() of an optimizer of the same type with groups of the same
        sizes and parameters of the same shapes: options and state, cast to each parameter's
        dtype and device."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict:
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and "
                             f"'param_groups', got {type(state_dict).__name__}")
        if "param_groups" not in state_dict:
            state_dict = self._from_checkpoint(state_dict)
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state has {len(saved)} parameter "
                             f"groups, this optimizer has {len(self.param_groups)}")
        for i, (mine, theirs) in enumerate(zip(self.param_groups, saved)):
            if len(theirs["params"]) != len(mine["params"]):
                raise ValueError(f"{name}.load_state_dict: group {i}: the state has "
                                 f"{len(theirs['params'])} parameters, this optimizer has "
                                 f"{len(mine['params'])}")
        by_index = {j: p for mine, theirs in zip(self.param_groups, saved)
                    for j, p in zip(theirs["params"], mine["params"])}
        state = defaultdict(dict)
        for j, s in state_dict["state"].items():
            p = by_index.get(int(j))
            if p is None:
                raise ValueError(f"{name}.load_state_dict: the state has parameter {j}, which "
                                 "no group lists")
            state[p] = {k: self._restore(p, int(j), k, v) for k, v in s.items()}
        groups = [{**theirs, "params": mine["params"]}
                  for mine, theirs in zip(self.param_groups, saved)]
        for group in groups:
            self._check({**self.defaults, **group})
        self.param_groups, self.state = groups, state

    def _restore(self, p, index, key, value):
        """A saved state entry for ``p``: an array of p's shape on p's device, or a number."""
        if not hasattr(value, "shape") or key == "step":
            return value.item() if hasattr(value, "item") else value
        array = _numpy(p, value)
        if array.shape != tuple(p.shape):
            raise ValueError(f"{type(self).__name__}.load_state_dict: parameter {index} has "
                             f"shape {tuple(p.shape)}, the saved state has shape {array.shape}")
        return p.backend.asarray(array).astype(p.dtype)

    # tinygan's earlier layout, that of its training checkpoints: the options at the top,
    # 'state' a list (None or a dict per parameter)
    legacy = {}
    """Per subclass, {name in the earlier checkpoint layout's state: name in state_dict's}."""

    def _from_checkpoint(self, old):
        """A state dict in PyTorch's layout from one in the earlier layout (one group)."""
        if not isinstance(old["state"], list):
            raise ValueError(f"{type(self).__name__}.load_state_dict: expected PyTorch's layout "
                             "(with 'param_groups') or tinygan's earlier one (a list 'state')")
        if len(old["state"]) != len(self.params) or len(self.param_groups) != 1:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state has "
                             f"{len(old['state'])} parameters, this optimizer has "
                             f"{len(self.params)} (in {len(self.param_groups)} groups)")
        options = {k: tuple(v) if isinstance(v, list) else v for k, v in old.items()
                   if k != "state"}
        state = {i: {self.legacy.get(k, k): v for k, v in s.items()}
                 for i, s in enumerate(old["state"]) if s is not None}
        for s in state.values():
            s.setdefault("step", 0)
        group = {**self.param_groups[0], **options, "params": list(range(len(self.params)))}
        return {"state": state, "param_groups": [group]}

    def checkpoint_state(self):
        """The state in tinygan's earlier layout, which its training checkpoints hold (one group,
        only the options that layout has: a one-line ValueError for any other)."""
        kept = {v: k for k, v in self.legacy.items()}
        options = self.legacy_options
        if len(self.param_groups) != 1 or any(
                self.param_groups[0][k] != v for k, v in self.legacy_defaults.items()):
            raise ValueError(f"a tinygan checkpoint holds {type(self).__name__} with one parameter "
                             f"group and the options {', '.join(options)} only; save its "
                             "state_dict() with tinygan.save instead")
        sd = self.state_dict()
        group = sd["param_groups"][0]
        state = [None] * len(self.params)
        for i, s in sd["state"].items():
            state[i] = {kept[k]: int(v) if k == "step" else _numpy(self.params[i], v)
                        for k, v in s.items() if k in kept}
        return {k: list(group[k]) if isinstance(group[k], tuple) else group[k]
                for k in options} | {"state": state}

    legacy_options, legacy_defaults = (), {}


def _numpy(p, value):
    """A NumPy copy of an array or tensor of p's backend (numbers unchanged)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if not hasattr(value, "shape"):
        return value
    return np.array(p.backend.to_numpy(value) if not isinstance(value, np.ndarray) else value)
