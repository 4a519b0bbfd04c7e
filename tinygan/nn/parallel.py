"""torch.nn.parallel: DistributedDataParallel is refused in one line (see its docstring)."""


class DistributedDataParallel:
    """Refused: PyTorch's averages the gradients over the ranks during backward, from hooks on
    the parameters; tinygan's autograd has no such hooks, so a wrapper would either not average
    or average at another time. tinygan.distributed.average_gradients(module, communicator),
    called after loss.backward(), does the averaging."""

    def __init__(self, module, *args, **kwargs):
        raise NotImplementedError(
            "DistributedDataParallel is not supported by tinygan (no backward hooks): call "
            "tinygan.distributed.average_gradients(module, communicator) after loss.backward()")
