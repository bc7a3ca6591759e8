"""scratchgan: a from-scratch deep-learning engine for generative models on NumPy and CuPy."""

import pathlib

from setuptools import find_packages, setup

here = pathlib.Path(__file__).parent
kernels = sorted(str(p.relative_to(here)) for p in (here / "kernels").rglob("*") if p.is_file())

setup(
    name="scratchgan",
    version="0.1.0",
    description="A from-scratch autograd, vision ops with CUDA kernels, and every classic autoencoder and GAN",
    long_description=(here / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["scratchgan", "scratchgan.*"]),
    # kernels/ lives at the top level of the repository; in a wheel it is shipped inside the
    # package as scratchgan/kernels (scratchgan/cuda.py looks in both places).
    package_data={"scratchgan": []},
    data_files=[],
    install_requires=["numpy>=1.24", "matplotlib>=3.7", "pillow>=9"],
    extras_require={
        "gpu": ["cupy-cuda12x"],
        "dev": ["pytest>=7", "hypothesis>=6", "torch==2.13.0", "mlxtend", "ruff"],
    },
    entry_points={"console_scripts": ["scratchgan=scratchgan.cli:main"]},
)
