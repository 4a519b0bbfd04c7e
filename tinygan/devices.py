"""tinygan.device, as torch.device: 'cpu', 'cuda', 'cuda:0', ('cuda', 0) or 0, with ``type``
and ``index``. tinygan runs on the process's one GPU, so a CUDA index other than 0 is refused.
A device is the string of its type ('cpu' or 'cuda'), so every tinygan function that takes a
device name takes it as it is."""

TYPES = ("cpu", "cuda")


class device(str):  # noqa: N801  (PyTorch's name)
    """A device: its ``type`` ('cpu' or 'cuda') and ``index`` (None, or 0 for the one GPU);
    equal to its type's string, which is also its str() and its f-string (PyTorch's str() of
    device('cuda:0') is 'cuda:0'); repr as PyTorch's."""

    def __new__(cls, type, index=None):  # noqa: A002  (PyTorch's argument name)
        if isinstance(type, device) and index is None:
            return type
        if isinstance(type, int) and not isinstance(type, bool) and index is None:
            type, index = "cuda", type  # PyTorch: an int is an index of the accelerator
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu', 'cuda' or 'cuda:0', got "
                            f"{type.__class__.__name__} {type!r}")
        kind, colon, number = type.partition(":")
        if colon:
            if index is not None or not number.isdigit():
                raise ValueError(f"device: expected 'TYPE' or 'TYPE:INDEX' and no index "
                                 f"argument, got {type!r} and index={index!r}")
            index = int(number)
        if kind not in TYPES:
            raise ValueError(f"device: unknown device {type!r}; tinygan knows {', '.join(TYPES)}")
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)
                                  or index != 0):
            raise ValueError(f"device: tinygan uses the process's one {kind.upper()} device, "
                             f"index 0; got index {index!r} (pick the GPU with "
                             "CUDA_VISIBLE_DEVICES)")
        made = super().__new__(cls, kind)
        made.index = index
        return made

    @property
    def type(self):
        """'cpu' or 'cuda'."""
        return str.__str__(self)

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"
