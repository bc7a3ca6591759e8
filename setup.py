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
    install_requires=["numpy>=1.24", "matplotlib>=3.7", "pillow>=9", "threadpoolctl>=3"],
    extras_require={
        "gpu": ["cupy-cuda12x"],
        # data-parallel training (scratchgan.distributed): mpi4py's binary wheel and MPICH's
        # runtime wheel (mpiexec included), both from PyPI, no compiler needed
        "mpi": ["mpi4py>=4.0", "mpich>=4.2"],
        "dev": ["pytest>=7", "hypothesis>=6", "torch==2.13.0", "mlxtend", "ruff"],
    },
    entry_points={"console_scripts": ["scratchgan=scratchgan.cli:main"]},
)
