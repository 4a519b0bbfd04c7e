"""Image transforms as torchvision.transforms: Compose, Resize, CenterCrop, ToTensor, Normalize,
RandomHorizontalFlip, Grayscale, Lambda; Resize works on PIL images (bilinear by default, which
Pillow antialiases when it shrinks, as torchvision's PIL path), the rest on PIL images and
tensors."""
import enum
import numbers

import numpy as np
from PIL import Image

from .. import dtypes
from ..creation import rand
from ..tensor import Tensor, tensor

PIL_FLOAT_MODES = {"I": np.int32, "I;16": np.int16, "F": np.float32}


class InterpolationMode(enum.Enum):
    """Resampling filters by torchvision's names; each maps to Pillow's."""
    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


PIL_FILTERS = {mode: getattr(Image.Resampling, mode.name) for mode in InterpolationMode}


class Compose:
    """Apply the transforms one after the other."""

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for transform in self.transforms:
            img = transform(img)
        return img

    def __repr__(self):
        inner = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


class Lambda:
    """Apply a function of one's own."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)


class Resize:
    """Resize a PIL image: size an int (or [int]) makes the smaller edge that long, the other
    int(size * long / short) (capped by max_size); (h, w) makes it h x w."""

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None,
                 antialias=True):
        size = _sizes("Resize", size)
        if len(size) == 2 and max_size is not None:
            raise ValueError("Resize: max_size is only supported for a single int size")
        if isinstance(interpolation, int):
            interpolation = InterpolationMode[Image.Resampling(interpolation).name]
        self.size, self.max_size, self.interpolation = size, max_size, interpolation
        self.antialias = antialias  # Pillow antialiases always, as torchvision's PIL path

    def __call__(self, img):
        _check_pil("Resize", img)
        width, height = img.size
        if len(self.size) == 2:
            new_height, new_width = self.size
        else:
            new_height, new_width = _smaller_edge(height, width, self.size[0], self.max_size)
        if (new_width, new_height) == img.size:
            return img
        return img.resize((new_width, new_height), PIL_FILTERS[self.interpolation])

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size[0] if len(self.size) == 1 else self.size}"
                f", interpolation={self.interpolation.value}, max_size={self.max_size}, "
                f"antialias={self.antialias})")


def _smaller_edge(height, width, size, max_size):
    """(height, width) with the smaller edge size and the ratio kept, as torchvision."""
    short, long = min(height, width), max(height, width)
    new_short, new_long = size, int(size * long / short)
    if max_size is not None:
        if max_size <= size:
            raise ValueError(f"Resize: max_size = {max_size} must be strictly greater than the "
                             f"requested size for the smaller edge size = {size}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_long, new_short) if width <= height else (new_short, new_long)


class CenterCrop:
    """Crop the centre (h, w) (an int: square) of a PIL image or a (..., H, W) tensor; an image
    smaller than that is first padded with zeros, as torchvision's center_crop."""

    def __init__(self, size):
        sizes = _sizes("CenterCrop", size)
        self.size = (sizes[0], sizes[-1])

    def __call__(self, img):
        crop_height, crop_width = self.size
        if isinstance(img, Image.Image):
            width, height = img.size
            left, top = _origin(width, crop_width), _origin(height, crop_height)
            return img.crop((left, top, left + crop_width, top + crop_height))  # pads with 0
        height, width = _tensor_array("CenterCrop", img).shape[-2:]
        if crop_height > height or crop_width > width:
            short = [max(0, crop - have) for crop, have in ((crop_height, height),
                                                            (crop_width, width))]
            pads = [(0, 0)] * (img.ndim - 2) + [(gap // 2, (gap + 1) // 2) for gap in short]
            img = tensor(img.backend.xp.pad(img.array, pads))
            height, width = img.shape[-2:]
        top, left = _origin(height, crop_height), _origin(width, crop_width)
        return img[..., top:top + crop_height, left:left + crop_width]

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size})"


class ToTensor:
    """A PIL image or an (H, W[, C]) ndarray as a (C, H, W) tensor: uint8 pixels become the
    default float dtype divided by 255 (so in [0, 1]); other dtypes are kept, unscaled."""

    def __call__(self, pic):
        if isinstance(pic, Image.Image):
            array = np.array(pic, PIL_FLOAT_MODES.get(pic.mode, np.uint8), copy=True)
            if pic.mode == "1":
                array = array * np.uint8(255)
            array = array.reshape(pic.size[1], pic.size[0], -1)
        elif isinstance(pic, np.ndarray):
            if pic.ndim not in (2, 3):
                raise ValueError(f"ToTensor: pic should be 2/3 dimensional. Got {pic.ndim} "
                                 "dimensions.")
            array = pic[:, :, None] if pic.ndim == 2 else pic
        else:
            raise TypeError(f"ToTensor: pic should be PIL Image or ndarray. Got {type(pic)}")
        array = np.ascontiguousarray(array.transpose(2, 0, 1))
        if array.dtype == np.uint8:
            default = dtypes.get_default_dtype()
            return tensor(array.astype(default) / default.type(255))
        return tensor(array)

    def __repr__(self):
        return f"{type(self).__name__}()"


class Normalize:
    """(x - mean[c]) / std[c] for each channel c of a float (..., C, H, W) tensor; a mean and
    std of one value apply to every channel."""

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, img):
        array = _tensor_array("Normalize", img)
        if array.dtype.kind != "f":
            raise TypeError(f"Normalize: input tensor should be a float tensor. Got {img.dtype}.")
        if array.ndim < 3:
            raise ValueError(f"Normalize: expected tensor to be a tensor image of size (..., C, "
                             f"H, W). Got tensor.size() = {tuple(img.shape)}.")
        xp = img.backend.xp
        mean, std = (xp.asarray(v, array.dtype).reshape(-1, 1, 1) for v in (self.mean, self.std))
        if bool((std == 0).any()):
            raise ValueError(f"Normalize: std evaluated to zero after conversion to "
                             f"{array.dtype}, leading to division by zero.")
        return (img - tensor(mean)) / tensor(std)

    def __repr__(self):
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class RandomHorizontalFlip:
    """Mirror left-right with probability p, drawn (rand(1) < p) from tinygan's generator."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        if not float(rand(1)[0]) < self.p:
            return img
        if isinstance(img, Image.Image):
            return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        _tensor_array("RandomHorizontalFlip", img)
        return img[..., ::-1]

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class Grayscale:
    """A PIL image in grey (Pillow's 'L' conversion), with 1 or 3 equal channels."""

    def __init__(self, num_output_channels=1):
        if num_output_channels not in (1, 3):
            raise ValueError(f"Grayscale: num_output_channels should be either 1 or 3, got "
                             f"{num_output_channels}")
        self.num_output_channels = num_output_channels

    def __call__(self, img):
        _check_pil("Grayscale", img)
        grey = img.convert("L")
        return grey if self.num_output_channels == 1 else Image.merge("RGB", [grey] * 3)

    def __repr__(self):
        return f"{type(self).__name__}(num_output_channels={self.num_output_channels})"


def _origin(have, crop):
    """Where a centred crop of length ``crop`` starts in a length ``have``: negative where the
    image is first padded ((crop - have) // 2 zeros before it), as torchvision."""
    return -((crop - have) // 2) if crop > have else int(round((have - crop) / 2.0))


def _sizes(name, size):
    """An int or a sequence of 1 or 2 positive ints as a list of them."""
    if isinstance(size, numbers.Integral):
        size = [size]
    if not (isinstance(size, (list, tuple)) and len(size) in (1, 2)
            and all(isinstance(s, numbers.Integral) and s > 0 for s in size)):
        raise ValueError(f"{name}: size must be a positive int or a sequence of 1 or 2 of them, "
                         f"got {size!r}")
    return list(size)


def _check_pil(name, img):
    """Refuse, in one line, what is not a PIL image."""
    if not isinstance(img, Image.Image):
        raise TypeError(f"{name}: tinygan transforms PIL images only here (put it before "
                        f"ToTensor), got {type(img).__name__}")


def _tensor_array(name, img):
    """The array of a Tensor; anything else refused in one line."""
    if not isinstance(img, Tensor):
        raise TypeError(f"{name}: expected a PIL image or a Tensor, got {type(img).__name__}")
    return img.array
