"""Containers: Sequential (applies its modules in turn), ModuleList and ModuleDict (hold them)."""
from .module import Module, check_module


class Sequential(Module):
    """Modules applied one after another; their parameters are named "0.weight", "1.bias", ..."""

    def __init__(self, *modules):
        super().__init__()
        for index, module in enumerate(modules):
            setattr(self, str(index), module)

    def __getitem__(self, index):
        modules = self.children()
        return type(self)(*modules[index]) if isinstance(index, slice) else modules[index]

    def __len__(self):
        return len(self.children())

    def __iter__(self):
        return iter(self.children())

    def forward(self, x):
        for module in self.children():
            x = module(x)
        return x


class ModuleList(Module):
    """A list of modules whose parameters the owner finds ("0.weight", ...); no forward of its
    own, as PyTorch's: index it or iterate over it."""

    def __init__(self, modules=()):
        super().__init__()
        self.extend(modules)

    def __getitem__(self, index):
        modules = self.children()
        return ModuleList(modules[index]) if isinstance(index, slice) else modules[index]

    def __setitem__(self, index, module):
        check_module("ModuleList", module)
        index = range(len(self))[index]  # IndexError for an index out of range
        setattr(self, str(index), module)

    def __len__(self):
        return len(self.children())

    def __iter__(self):
        return iter(self.children())

    def __iadd__(self, modules):
        return self.extend(modules)

    def append(self, module):
        """module added at the end, named str(len(self)); returns self."""
        check_module("ModuleList.append", module)
        setattr(self, str(len(self)), module)
        return self

    def extend(self, modules):
        """Each of ``modules`` appended in turn; returns self."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        """module put before position index (as list.insert), the rest renumbered."""
        modules = self.children()
        modules.insert(index, module)
        check_module("ModuleList.insert", module)
        for name in [name for name, _ in self.named_children()]:
            delattr(self, name)
        self.extend(modules)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward: call the modules it holds")

    def __repr__(self):
        """PyTorch's: runs of modules printed alike are one line, ``(0-2): 3 x Linear(...)``."""
        blocks = []  # [first index, last index, repr]
        for index, module in enumerate(self):
            text = repr(module)
            if blocks and blocks[-1][2] == text:
                blocks[-1][1] = index
            else:
                blocks.append([index, index, text])
        if not blocks:
            return "ModuleList()"
        lines = [(f"({first}): " if first == last else
                  f"({first}-{last}): {last - first + 1} x ") + text.replace("\n", "\n  ")
                 for first, last, text in blocks]
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """An ordered {name: module} whose parameters the owner finds ("name.weight", ...), as
    PyTorch's: indexing, assignment, del, in, len, iteration over the keys, keys/values/items,
    update, pop, clear; no forward of its own. Its entries are not attributes, so any string
    without a dot is a key (PyTorch's rule)."""

    def __init__(self, modules=None):
        super().__init__()
        self._entries = {}
        if modules is not None:
            self.update(modules)

    def named_children(self):
        return list(self._entries.items())

    def __getitem__(self, key):
        return self._entries[key]

    def __setitem__(self, key, module):
        if not isinstance(key, str) or "." in key or not key:
            raise KeyError(f"ModuleDict: a key must be a non-empty string without '.', got "
                           f"{key!r}")
        check_module("ModuleDict", module)
        self._entries[key] = module

    def __delitem__(self, key):
        del self._entries[key]

    def __len__(self):
        return len(self._entries)

    def __iter__(self):
        return iter(self._entries)

    def __contains__(self, key):
        return key in self._entries

    def keys(self):
        """The keys, in insertion order (a dict view)."""
        return self._entries.keys()

    def values(self):
        """The modules, in insertion order (a dict view)."""
        return self._entries.values()

    def items(self):
        """The (key, module) pairs, in insertion order (a dict view)."""
        return self._entries.items()

    def update(self, modules):
        """Add the (key, module) pairs of a mapping or an iterable of pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self[key] = module

    def pop(self, key):
        """Remove the module under key and return it (KeyError if none)."""
        return self._entries.pop(key)

    def clear(self):
        """Remove every module."""
        self._entries.clear()

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward: call the modules it holds")
