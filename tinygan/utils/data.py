"""Datasets and batches as torch.utils.data: Dataset, TensorDataset, Subset, ConcatDataset,
random_split, default_collate and DataLoader.

A DataLoader yields ``default_collate`` of each batch of ``batch_size`` items, in the dataset's
order or, with ``shuffle=True``, in a permutation drawn (by randperm) from ``generator`` or else
tinygan's global generator at the start of each pass, so ``tinygan.manual_seed`` makes the order
reproducible (tinygan's own stream, not PyTorch's order for the same seed).
"""
import bisect
import collections.abc
import math
import numbers

import numpy as np

from ..creation import randperm
from ..ops import stack
from ..tensor import Tensor, tensor

COLLATED = "tensors, numpy arrays, numbers, dicts or lists"


class Dataset:
    """An indexable collection of samples: subclasses define __getitem__ (and __len__)."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Sample i is (t[i] for t in tensors): tensors of one length along their first axis."""

    def __init__(self, *tensors):
        lengths = {len(t) for t in tensors}
        if len(lengths) != 1:
            raise ValueError(f"TensorDataset: tensors must have one size along dim 0, got sizes "
                             f"{[len(t) for t in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return len(self.tensors[0])


class Subset(Dataset):
    """Sample i is dataset[indices[i]]."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """The samples of several datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError("ConcatDataset: absolute value of index should not exceed "
                                 "dataset length")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def random_split(dataset, lengths, generator=None):
    """Subsets of a random permutation of the dataset, of the given lengths (or fractions that
    sum to 1: floor of each, the remainder given one by one from the first), as PyTorch's."""
    count = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = [math.floor(count * fraction) for fraction in lengths]
        for i in range(count - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
    if sum(lengths) != count:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal the "
                         f"length of the input dataset ({count})")
    order = randperm(count, generator=generator).tolist()
    ends = np.cumsum(lengths).tolist()
    return [Subset(dataset, order[end - size:end]) for size, end in zip(lengths, ends)]


def default_collate(batch):
    """One batch from a list of samples, as torch's default_collate: tensors and arrays stacked
    on a new first axis, Python ints int64 (bools bool), floats float64, NumPy scalars their
    dtype, strings a list; tuples and lists collated position by position (a tuple gives a
    list), dicts key by key."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        if elem.dtype.kind == "f":
            return stack(batch)  # in the graph, as torch.stack
        return tensor(elem.backend.xp.stack([t.array for t in batch]))
    if isinstance(elem, (np.ndarray, np.generic)):
        if elem.dtype.kind not in "biuf":
            raise TypeError(f"default_collate: batch must contain {COLLATED}; found an array of "
                            f"dtype {elem.dtype}")
        return tensor(np.stack(batch))
    if isinstance(elem, bool):
        return tensor(batch)
    if isinstance(elem, numbers.Integral):
        return tensor(batch, dtype=np.int64)
    if isinstance(elem, numbers.Real):
        return tensor(batch, dtype=np.float64)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if len({len(sample) for sample in batch}) != 1:
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(samples) for samples in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain {COLLATED}; found "
                    f"{type(elem).__name__} (add a transform such as ToTensor)")


def default_convert(sample):
    """A sample as DataLoader(batch_size=None) gives it: NumPy arrays as tensors, else as is."""
    if isinstance(sample, np.ndarray) and sample.dtype.kind in "biuf":
        return tensor(sample)
    return sample


class DataLoader:
    """Batches of a dataset, as torch.utils.data.DataLoader (see the module docstring).

    ``num_workers``, ``pin_memory``, ``timeout``, ``worker_init_fn``, ``prefetch_factor``,
    ``persistent_workers`` and ``multiprocessing_context`` are accepted and the items are loaded
    in this process whatever ``num_workers`` is (worker processes would copy every batch
    between processes for the small in-memory data sets tinygan trains on); ``sampler`` and
    ``batch_sampler`` (iterables of indices and of index lists) replace the order and batches.
    ``batch_size=None`` yields the samples one by one, unbatched.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        _check_count("batch_size", batch_size, 1, none_ok=True)
        _check_count("num_workers", num_workers, 0)
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout}")
        if shuffle and (sampler is not None or batch_sampler is not None):
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None and (batch_size != 1 or drop_last or sampler is not None):
            raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                             "batch_size, shuffle, sampler, and drop_last")
        if num_workers == 0 and (persistent_workers or prefetch_factor is not None):
            raise ValueError("DataLoader: persistent_workers and prefetch_factor need "
                             "num_workers > 0")
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.shuffle, self.sampler, self.batch_sampler = bool(shuffle), sampler, batch_sampler
        self.num_workers, self.generator = num_workers, generator
        self.collate_fn = collate_fn or (default_collate if batch_size is not None
                                         else default_convert)
        self.pin_memory, self.timeout, self.worker_init_fn = pin_memory, timeout, worker_init_fn

    def _order(self):
        """The indices of one pass: the sampler's, a fresh permutation, or 0..N-1."""
        if self.sampler is not None:
            return iter(self.sampler)
        if self.shuffle:
            return iter(randperm(len(self.dataset), generator=self.generator).tolist())
        return iter(range(len(self.dataset)))

    def _batches(self):
        """Lists of indices, one per batch."""
        if self.batch_sampler is not None:
            yield from self.batch_sampler
            return
        order = self._order()
        while batch := [index for _, index in zip(range(self.batch_size), order)]:
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch

    def __iter__(self):
        if self.batch_size is None and self.batch_sampler is None:
            for index in self._order():
                yield self.collate_fn(self.dataset[index])
            return
        for indices in self._batches():
            yield self.collate_fn([self.dataset[i] for i in indices])

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        count = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return count
        return count // self.batch_size if self.drop_last else -(-count // self.batch_size)


def _check_count(name, value, least, none_ok=False):
    """Refuse, in one line, a value that is not an int >= least (None too where none_ok)."""
    if value is None and none_ok:
        return
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < least:
        raise ValueError(f"DataLoader: {name} should be an int >= {least}, got {value!r}")
