"""The machine a figure or a run was made on: CPU model, vector ISA, BLAS build, threads.

A speed figure or a trained model's wall time means little without them, so the trainer writes
them into summary.json and every benchmark prints them beside its figures.

    cpu_facts()       {"cpu_model", "isa", "isa_flags", "cores"} from /proc/cpuinfo
    blas_facts()      NumPy's BLAS: threadpoolctl's info and numpy.show_config's build entry
    describe(threads) the above with "blas_label" and "threads"; label(facts) in one line
"""

import os
import platform

import numpy as np

ISA_FLAGS = (
    "avx512f",
    "avx512_bf16",
    "avx512_vnni",
    "avx512bw",
    "amx_tile",
    "avx2",
    "fma",
    "avx",
    "sse4_2",
    "asimd",
    "sve",
)


def parse_cpuinfo(text):
    """{"cpu_model", "isa", "isa_flags"} from the text of /proc/cpuinfo (x86 or ARM).

    ``isa`` names the widest vector unit: avx512, avx2, avx, sve, neon, or the machine name.
    """
    model, flags = None, set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "cpu model", "hardware") and model is None:
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = set(value.split())
    present = [f for f in ISA_FLAGS if f in flags]
    if "avx512f" in flags:
        isa = "avx512"
    elif "avx2" in flags:
        isa = "avx2"
    elif "avx" in flags:
        isa = "avx"
    elif "sve" in flags:
        isa = "sve"
    elif "asimd" in flags:
        isa = "neon"
    else:
        isa = platform.machine() or "unknown"
    return {
        "cpu_model": model or platform.processor() or "unknown",
        "isa": isa,
        "isa_flags": present,
    }


def cpu_facts(path="/proc/cpuinfo"):
    try:
        with open(path) as f:
            facts = parse_cpuinfo(f.read())
    except OSError:
        facts = parse_cpuinfo("")
    facts["cores"] = os.cpu_count()
    return facts


def blas_facts():
    """NumPy's BLAS as loaded (library, version, architecture kernel, threads) and as built."""
    out = {"numpy": np.__version__}
    try:
        from threadpoolctl import threadpool_info

        out["loaded"] = [
            {
                k: i.get(k)
                for k in (
                    "internal_api",
                    "version",
                    "architecture",
                    "threading_layer",
                    "num_threads",
                )
            }
            for i in threadpool_info()
            if i.get("user_api") == "blas"
        ]
    except ImportError:
        out["loaded"] = []
    try:
        build = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        out["build"] = {k: build.get(k) for k in ("name", "version", "openblas configuration")}
    except (TypeError, KeyError):  # NumPy < 1.25 prints instead of returning a dict
        out["build"] = None
    return out


def blas_label(blas):
    """One line: 'openblas 0.3.31 (Haswell kernels, pthreads)'."""
    loaded = blas.get("loaded") or []
    if not loaded:
        return "BLAS unknown"
    i = loaded[0]
    return (
        f"{i['internal_api']} {i['version']} ({i['architecture']} kernels, {i['threading_layer']})"
    )


def describe(threads):
    """cpu_facts() with the BLAS (its one-line label) and the thread count in use."""
    out = cpu_facts()
    out["blas"] = blas_facts()
    out["blas_label"] = blas_label(out["blas"])
    out["threads"] = threads
    return out


def label(f):
    """'AMD EPYC (avx2), openblas 0.3.31 (Haswell kernels, pthreads), 1 thread(s)'."""
    extra = ", conv algorithms timed per shape" if f.get("conv_algorithm_benchmark") else ""
    return f"{f['cpu_model']} ({f['isa']}), {f['blas_label']}, {f['threads']} thread(s){extra}"
