"""scratchgan.data: data sets from local files, an IDX reader and a resumable DataLoader.

Depends only on the standard library, numpy and Pillow, never on the rest of scratchgan.

    load(name, split="train", *, size=None) -> (images, labels)
    load_unpaired(name, split="train")       -> (images_a, images_b)
    read_idx(path)                           -> ndarray
    DataLoader(arrays, batch_size, shuffle=True, drop_last=True, seed=None)
    to_float(images), to_tanh_range(images)
"""

from .datasets import FASHION_MNIST_CLASSES, UNPAIRED, known_names, load, load_unpaired
from .errors import DatasetNotFoundError
from .folder import load_folder
from .idx import read_idx
from .loader import DataLoader
from .transforms import to_float, to_tanh_range

__all__ = [
    "FASHION_MNIST_CLASSES",
    "UNPAIRED",
    "DataLoader",
    "DatasetNotFoundError",
    "known_names",
    "load",
    "load_folder",
    "load_unpaired",
    "read_idx",
    "to_float",
    "to_tanh_range",
]
