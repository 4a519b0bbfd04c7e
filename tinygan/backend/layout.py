"""Where an activation's numbers lie in memory (channel-major), and a conv's geometry: shared
by the backends and ops.

An activation has PyTorch's shape (N, C, H, W) but is stored as a contiguous (C, N, H, W)
array seen through swapaxes(0, 1). That is the layout in which a conv's matrix product
y = w @ col (OC, N*OH*OW) leaves its output, in which the next conv's matrix products read
their input, and in which each channel is one block for batch norm: no transposing copy sits
between two layers. Arrays from elsewhere (a user's images) are copied into it once.
"""


def channel_major(xp, x):
    """x (N, C, ...) as contiguous (C, N, ...): a view if x is channel-major, else a copy."""
    return xp.ascontiguousarray(x.swapaxes(0, 1))


def images(cm):
    """A contiguous (C, N, ...) array seen as (N, C, ...), without copying: the inverse."""
    return cm.swapaxes(0, 1)


def empty_images(xp, shape, dtype):
    """An uninitialised (N, C, ...) array of ``shape``, channel-major in memory."""
    return images(xp.empty((shape[1], shape[0], *shape[2:]), dtype=dtype))


def conv_output_size(image_size, kernel, stride, padding):
    """(OH, OW) of a conv over an (H, W) image: (H + 2 padding - kernel) // stride + 1 per side
    (a transposed conv's input size, for its output of image_size)."""
    return tuple((n + 2 * p - k) // s + 1 for n, k, s, p in zip(image_size, kernel, stride,
                                                                 padding))
