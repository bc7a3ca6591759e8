"""The benchmark scripts import each other by module name from benchmarks/, as when run there."""

import os
import sys

BENCHMARKS = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks")
sys.path.insert(0, os.path.abspath(BENCHMARKS))
