"""Image grids as torchvision.utils: make_grid lays a batch out in rows, save_image writes it."""
import math
from pathlib import Path

import numpy as np
from PIL import Image

from ..io import atomic_write
from ..tensor import Tensor, tensor as new_tensor


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
              pad_value=0.0):
    """(B, C, H, W) images (or a list of (C, H, W), or one image) as one (C, rows * (H + p) + p,
    min(nrow, B) * (W + p) + p) image of ``pad_value`` with image k at row k // nrow, column
    k % nrow, as torchvision's: one channel is repeated to three, one image is returned
    unpadded; with ``normalize`` the values are clamped to value_range (default: their min and
    max, of each image with scale_each) and mapped to [0, 1]. Not recorded for autograd."""
    xp = _first(tensor).backend.xp
    array = _images(tensor, xp)
    if normalize:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("make_grid: value_range has to be a tuple (min, max) if specified. "
                            "min and max are numbers")
        array = np.stack([_normalized(image, value_range) for image in array]) if scale_each \
            else _normalized(array, value_range)
    if len(array) == 1:
        return new_tensor(array[0])
    count, channels, height, width = array.shape
    columns = min(nrow, count)
    rows = int(math.ceil(count / columns))
    grid = xp.full((channels, rows * (height + padding) + padding,
                    columns * (width + padding) + padding), pad_value, array.dtype)
    for k, image in enumerate(array):
        top = (k // columns) * (height + padding) + padding
        left = (k % columns) * (width + padding) + padding
        grid[:, top:top + height, left:left + width] = image
    return new_tensor(grid)


def save_image(tensor, fp, format=None, **kwargs):
    """Write make_grid(tensor, **kwargs) as an image file (a path: atomically; PNG unless the
    name or ``format`` says otherwise): pixels round(255 * x) of x clamped to [0, 1]."""
    grid = make_grid(tensor, **kwargs)
    pixels = grid.array * grid.dtype.type(255) + grid.dtype.type(0.5)
    pixels = grid.backend.xp.clip(pixels, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    image = Image.fromarray(np.ascontiguousarray(_host(pixels)))
    if not isinstance(fp, (str, Path)):
        image.save(fp, format=format)
        return
    format = format or Image.registered_extensions().get(Path(fp).suffix.lower())
    if format is None:
        raise ValueError(f"save_image: unknown file extension {Path(fp).suffix!r} of {fp}; "
                         "pass format= (e.g. 'PNG')")
    with atomic_write(fp) as file:
        image.save(file, format=format)


def _first(images):
    """The Tensor, or the first of a list of them."""
    return _checked(images[0] if isinstance(images, (list, tuple)) and images else images)


def _images(images, xp):
    """The images as one (B, C, H, W) array, one channel made three."""
    if isinstance(images, (list, tuple)):
        array = xp.stack([_checked(image).array for image in images])
    else:
        array = images.array
    if array.ndim == 2:
        array = array[None]
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4:
        raise ValueError(f"make_grid: expected images (B, C, H, W), (C, H, W) or (H, W), got "
                         f"shape {tuple(array.shape)}")
    if array.shape[1] == 1:
        array = xp.concatenate([array] * 3, axis=1)
    return array


def _normalized(array, value_range):
    """array clamped to value_range (default: its min and max) and mapped to [0, 1]."""
    low, high = value_range if value_range is not None else (float(array.min()),
                                                             float(array.max()))
    clipped = array.clip(low, high) - array.dtype.type(low)
    return clipped / array.dtype.type(max(high - low, 1e-5))


def _checked(images):
    """A Tensor, checked to be one: anything else refused in one line."""
    if not isinstance(images, Tensor):
        raise TypeError(f"make_grid: tensor or list of tensors expected, got "
                        f"{type(images).__name__}")
    return images


def _host(array):
    """An array of any device as a NumPy array."""
    return array.get() if hasattr(array, "get") else array
