"""The CPU side of benchmarks/gpu_nccl.py (gpu_all.sh's NCCL part): its checks on host arrays
with the stand-in NCCL of tests/distributed/fake_nccl.py, which does each collective with MPI
on the bytes behind the pointers; and a stand-in that sums wrongly must fail them."""

import json
import os
import sys

import pytest

pytest.importorskip("mpi4py")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "distributed"))

import fake_nccl  # noqa: E402

import gpu_nccl  # noqa: E402


def test_one_rank_through_the_nccl_communicator_trains_like_no_ddp(tmp_path):
    result = gpu_nccl.run("cpu", fake_nccl, fake_nccl.FakeCuda, steps=2)
    assert result["ok"], result
    assert result["backend"] == "nccl" and result["world_size"] == 1
    assert result["buckets_of_D"] > 1 and result["gradient_allreduces"] >= 4
    assert result["arrays_compared"] == 16 and result["arrays_that_differ"] == []
    assert {"allReduce", "bcast", "allGather"} <= set(result["nccl_calls"])
    json_path, md_path = gpu_nccl.write(result, str(tmp_path))
    assert json.loads(open(json_path).read())["ok"] is True
    assert ": passed" in open(md_path).read()


class DoublingNccl:
    """fake_nccl whose allReduce returns twice the sum: the training check must see it."""

    def __getattr__(self, name):
        return getattr(fake_nccl, name)

    class NcclCommunicator(fake_nccl.NcclCommunicator):
        def allReduce(self, sendbuf, recvbuf, count, datatype, op, stream):  # noqa: N802
            super().allReduce(sendbuf, recvbuf, count, datatype, op, stream)
            view = fake_nccl._view(recvbuf, count, datatype)
            view *= 2


def test_a_wrong_allreduce_fails_the_checks():
    result = gpu_nccl.run("cpu", DoublingNccl(), fake_nccl.FakeCuda, steps=2)
    assert not result["ok"]
    assert not result["collectives"]["allreduce sum"] and result["arrays_that_differ"]


def test_arguments():
    assert gpu_nccl.parse_args([]).steps == 5
    with pytest.raises(SystemExit):
        gpu_nccl.parse_args(["--steps", "0"])
