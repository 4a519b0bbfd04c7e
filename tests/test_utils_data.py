"""tinygan.utils.data against torch.utils.data: batches, dtypes, lengths, collation, shuffling
from the global generator, subsets and splits."""
import collections

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from PIL import Image

import tinygan
from tinygan.utils import data

try:
    import torch
    import torch.utils.data as torch_data
except ImportError:
    torch = torch_data = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
Pair = collections.namedtuple("Pair", "x y")


def described(batch):
    """A batch as nested (shape, dtype name, values) so tinygan's and torch's compare equal."""
    if isinstance(batch, dict):
        return {key: described(value) for key, value in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch).__name__, [described(value) for value in batch]
    if hasattr(batch, "shape"):
        values = np.asarray(batch.numpy())
        return tuple(batch.shape), str(batch.dtype).replace("torch.", ""), values.tolist()
    return batch


def both_loaders(n, features, **options):
    """(tinygan's DataLoader, torch's) over the same TensorDataset of n float and int rows."""
    x = np.arange(n * features, dtype=np.float32).reshape(n, features)
    y = np.arange(n, dtype=np.int64) % 3
    ours = data.DataLoader(data.TensorDataset(tinygan.tensor(x), tinygan.tensor(y)), **options)
    theirs = torch_data.DataLoader(torch_data.TensorDataset(torch.tensor(x), torch.tensor(y)),
                                   **options)
    return ours, theirs


@needs_torch
@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 23), batch_size=st.integers(1, 9), drop_last=st.booleans(),
       features=st.integers(1, 3))
def test_batches_as_torch(n, batch_size, drop_last, features):
    ours, theirs = both_loaders(n, features, batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert [described(b) for b in ours] == [described(b) for b in theirs]


@needs_torch
@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 23), batch_size=st.integers(1, 9), drop_last=st.booleans())
def test_shuffle_is_a_permutation_of_torchs_batches(n, batch_size, drop_last):
    ours, theirs = both_loaders(n, 2, batch_size=batch_size, drop_last=drop_last, shuffle=True)
    got, expected = list(ours), list(theirs)
    assert [described(b)[1][0][:2] for b in got] == [described(b)[1][0][:2] for b in expected]
    rows = np.concatenate([x.numpy() for x, _ in got]) if got else np.zeros((0, 2))
    assert len(np.unique(rows[:, 0])) == len(rows)
    if not drop_last:
        assert sorted(rows[:, 0].tolist()) == [2.0 * i for i in range(n)]


def test_shuffle_draws_from_the_global_generator_reproducibly():
    dataset = data.TensorDataset(tinygan.arange(50))
    loader = data.DataLoader(dataset, batch_size=7, shuffle=True)

    def order():
        return [int(i) for (batch,) in loader for i in batch.tolist()]

    tinygan.manual_seed(3)
    first, second = order(), order()
    tinygan.manual_seed(3)
    assert order() == first and order() == second
    assert first != second and sorted(first) == list(range(50))
    own = tinygan.Generator().manual_seed(5)
    with_own = data.DataLoader(dataset, batch_size=7, shuffle=True, generator=own)
    mine = [int(i) for (batch,) in with_own for i in batch.tolist()]
    own.manual_seed(5)
    assert [int(i) for (batch,) in with_own for i in batch.tolist()] == mine


def test_workers_are_accepted_and_give_the_same_batches():
    dataset = data.TensorDataset(tinygan.arange(10.0))
    plain = [b.tolist() for (b,) in data.DataLoader(dataset, batch_size=3)]
    loader = data.DataLoader(dataset, batch_size=3, num_workers=2, pin_memory=True)
    assert [b.tolist() for (b,) in loader] == plain


SAMPLES = [
    [(1, 2.5, True), (3, -1.0, False)],
    [(np.ones((2, 2), np.float32), np.int64(4)), (np.zeros((2, 2), np.float32), np.int64(1))],
    [(np.arange(3, dtype=np.uint8), np.float64(0.5)), (np.arange(3, dtype=np.uint8), 1.5)],
    [{"a": 1, "b": [1.0, 2.0]}, {"a": 2, "b": [3.0, 4.0]}],
    [Pair(1, "one"), Pair(2, "two")],
    [[0, 1], [2, 3]],
]


@needs_torch
@pytest.mark.parametrize("samples", SAMPLES)
def test_collate_as_torch(samples):
    assert described(data.default_collate(samples)) == described(
        torch_data.default_collate(samples))


@needs_torch
def test_collate_of_tensors_and_unbatched_loading_as_torch():
    samples = [np.full((2,), i, np.float64) for i in range(3)]
    ours = data.default_collate([tinygan.tensor(s) for s in samples])
    assert described(ours) == described(torch_data.default_collate(
        [torch.tensor(s) for s in samples]))
    assert described(list(data.DataLoader(samples, batch_size=None))) == described(
        list(torch_data.DataLoader(samples, batch_size=None)))


def test_collate_refuses_what_it_cannot_batch_in_one_line():
    with pytest.raises(TypeError, match="found Image .*ToTensor"):
        data.default_collate([Image.new("RGB", (2, 2))] * 2)
    with pytest.raises(RuntimeError, match="equal size"):
        data.default_collate([[1, 2], [3]])


@pytest.mark.parametrize("options, message", [
    ({"batch_size": 0}, "batch_size should be an int >= 1, got 0"),
    ({"num_workers": -1}, "num_workers should be an int >= 0"),
    ({"persistent_workers": True}, "need num_workers > 0"),
    ({"shuffle": True, "sampler": [0, 1]}, "mutually exclusive"),
])
def test_bad_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        data.DataLoader([1, 2], **options)


@needs_torch
def test_subset_concat_and_sampler_as_torch():
    values = list(range(10))
    ours = data.ConcatDataset([data.Subset(values, [1, 3, 5]), values])
    theirs = torch_data.ConcatDataset([torch_data.Subset(values, [1, 3, 5]), values])
    assert len(ours) == len(theirs) and [ours[i] for i in range(-13, 13)] == [
        theirs[i] for i in range(-13, 13)]
    sampler = [4, 2, 0]
    assert described(list(data.DataLoader(values, batch_size=2, sampler=sampler))) == described(
        list(torch_data.DataLoader(values, batch_size=2, sampler=sampler)))


@needs_torch
@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.33, 0.33, 0.34], [1, 0, 9]])
def test_random_split_sizes_as_torch_and_a_partition(lengths):
    values = list(range(10))
    ours = data.random_split(values, lengths, generator=tinygan.Generator().manual_seed(1))
    theirs = torch_data.random_split(values, lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert sorted(v for part in ours for v in part) == values
    with pytest.raises(ValueError, match="does not equal the length"):
        data.random_split(values, [3, 3])


def test_tensor_dataset_refuses_tensors_of_other_lengths():
    with pytest.raises(ValueError, match=r"one size along dim 0, got sizes \[3, 2\]"):
        data.TensorDataset(tinygan.zeros(3), tinygan.zeros(2))


def test_reachable_as_torch_utils_data():
    assert tinygan.utils.data.DataLoader is data.DataLoader
