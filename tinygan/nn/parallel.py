"""torch.nn.parallel: DistributedDataParallel averages a module's gradients over the ranks after
each backward; data_parallel runs a module on the process's one device."""
import contextlib

from .. import distributed
from ..devices import device as as_device
from ..tensor import is_grad_enabled, queue_callback
from .module import Module


def _check_devices(name, module, device_ids, output_device):
    """Refuse device_ids/output_device other than None or the module's one GPU, in one line."""
    module_device = next((p.device for p in module.parameters()), "cpu")
    if device_ids is None and output_device is None:
        return
    if module_device == "cpu":
        raise ValueError(f"{name}: device_ids and output_device must be None for a module on the "
                         f"CPU, got device_ids={device_ids!r}, output_device={output_device!r}")
    if device_ids is not None and (not isinstance(device_ids, (list, tuple))
                                   or len(device_ids) != 1):
        raise ValueError(f"{name}: device_ids must be None or the one device, e.g. [0], got "
                         f"{device_ids!r}")
    for value in list(device_ids or []) + [output_device]:
        if value is not None and as_device(value) != module_device:
            raise ValueError(f"{name}: device {value!r} is not the module's {module_device!r}")


class DistributedDataParallel(Module):
    """``module`` trained on every rank of ``process_group`` (default: the run's world, every
    rank mpiexec started), as PyTorch's: rank 0's parameters and buffers are broadcast at
    construction, and with ``broadcast_buffers`` its buffers again before each forward; after a
    backward through a forward (one with grad enabled, outside ``no_sync()``), the ``.grad`` of
    every parameter that requires grad is its mean over the ranks, g = (1/N) sum_r g_r, in one
    allreduce at the end of that backward (PyTorch overlaps it with the backward). Forwards
    before one backward (D(real), D(fake)) average once. Lenient where PyTorch needs
    init_process_group: a process that mpiexec did not start just runs the module. Every rank
    must reach the same parameters in a backward (find_unused_parameters is accepted: a
    parameter without a gradient is left out on every rank). device_ids/output_device: None, or
    the module's one GPU. bucket_cap_mb, gradient_as_bucket_view and static_graph change no
    result and are accepted."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be an nn.Module, got "
                            f"{type(module).__name__}")
        _check_devices("DistributedDataParallel", module, device_ids, output_device)
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        device = next((p.device for p in module.parameters()), "cpu")
        self.process_group = (distributed.default_world(device) if process_group is None
                              else process_group)
        if self._group() is not None:
            distributed.broadcast_module(module, self.process_group)

    def _group(self):
        """The communicator to average over, or None where there is nothing to (one rank)."""
        group = self.process_group
        return group if group is not None and group.size > 1 else None

    def forward(self, *inputs, **kwargs):
        group = self._group()
        syncing = group is not None and is_grad_enabled() and self.require_backward_grad_sync
        if syncing and self.broadcast_buffers:
            distributed.broadcast_tensors(self.module.buffers(), group)
        trainable = [p for p in self.module.parameters() if p.requires_grad]
        if syncing and trainable:
            queue_callback(lambda: distributed.average_gradients(self.module, group), trainable,
                           key=self)
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Inside the block forwards queue no averaging: gradients accumulate on each rank alone
        until a backward through a forward outside it averages them all (as PyTorch's)."""
        previous, self.require_backward_grad_sync = self.require_backward_grad_sync, False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0,
                  module_kwargs=None):
    """module(*inputs, **module_kwargs) on the process's one device, as PyTorch's with a
    single device (tinygan has one per process: N GPUs are N ranks of DistributedDataParallel)."""
    _check_devices("data_parallel", module, device_ids, output_device)
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    return module(*inputs, **(module_kwargs or {}))
