"""scratchgan: a from-scratch deep-learning engine for generative models on NumPy and CuPy."""

import pathlib

import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

here = pathlib.Path(__file__).parent


class build_py_with_kernels(build_py):
    """Ship the top-level kernels/ folder inside the package, as scratchgan/kernels."""

    def run(self):
        super().run()
        target = pathlib.Path(self.build_lib) / "scratchgan" / "kernels"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(here / "kernels", target, ignore=shutil.ignore_patterns("*.so", "__pycache__"))


setup(
    name="scratchgan",
    version="0.1.0",
    description="A from-scratch autograd, vision ops with CUDA kernels, and every classic autoencoder and GAN",
    long_description=(here / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["scratchgan", "scratchgan.*"]),
    # kernels/ lives at the top level of the repository; a wheel carries it inside the package
    # as scratchgan/kernels (scratchgan/cuda/loader.py looks in both places).
    cmdclass={"build_py": build_py_with_kernels},
    # graphviz: the Python side of sg.viz.graph's layout (the dot binary: Debian's graphviz,
    # which `make install` installs)
    install_requires=["numpy>=1.24", "matplotlib>=3.7", "pillow>=9", "threadpoolctl>=3",
                      "tqdm>=4.60", "graphviz>=0.20"],
    # CuPy ships one wheel per CUDA major version, all of them the module `cupy`: two installed
    # together overwrite each other, so no extra may pick one for a machine that has the other.
    # `gpu` installs nothing and says so in docs/DEVICES.md; pick gpu-cuda12 or gpu-cuda13 (the
    # -ctk variants also bring the CUDA toolkit wheels, NVRTC and its headers, for machines
    # without a toolkit). scratchgan imports `cupy` lazily and never asks which wheel it is.
    extras_require={
        "gpu": [],
        "gpu-cuda12": ["cupy-cuda12x>=13"],
        "gpu-cuda13": ["cupy-cuda13x>=14"],
        "gpu-cuda12-ctk": ["cupy-cuda12x[ctk]>=14"],
        "gpu-cuda13-ctk": ["cupy-cuda13x[ctk]>=14"],
        "tensorboard": ["tensorboardX>=2.6"],  # train --tensorboard
        # data-parallel training (scratchgan.distributed): mpi4py's binary wheel and MPICH's
        # runtime wheel (mpiexec included), both from PyPI, no compiler needed
        "mpi": ["mpi4py>=4.0", "mpich>=4.2"],
        # tensorboard: its event reader checks what --tensorboard wrote
        "dev": ["pytest>=7", "hypothesis>=6", "torch==2.13.0", "mlxtend", "ruff",
                "tensorboardX>=2.6", "tensorboard>=2.14", "nbformat", "nbclient", "ipykernel"],
    },
    entry_points={"console_scripts": ["scratchgan=scratchgan.cli:main"]},
)
