"""Helpers shared by tests: loading example scripts as modules, tiny image data sets."""
import importlib.util
from pathlib import Path

import numpy as np
from PIL import Image

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name):
    """examples/NAME.py as a module, without running its main()."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_image_folder(folder, count=48, size=32, seed=0):
    """``count`` random RGB PNGs (size x size) in two class sub-folders; returns the folder."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        target = Path(folder) / f"class{i % 2}"
        target.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(target / f"{i:04d}.png")
    return Path(folder)
