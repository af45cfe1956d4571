"""What the worker registers with (capabilities) and how many trainer ranks a job's `gpus` becomes."""
import importlib.metadata
import sys
import types

import pytest

from ril_trainer.worker import loop


def _fake_torch(gpus, mem_gb=(80.0, 80.0), bf16=True):
    """A torch module whose CUDA reports `gpus` devices: the worker's GPU path runs on a CPU-only machine."""
    props = [types.SimpleNamespace(name=f"GPU-{i}", total_memory=int(mem_gb[i] * 2**30)) for i in range(gpus)]
    cuda = types.SimpleNamespace(
        is_available=lambda: gpus > 0, device_count=lambda: gpus,
        get_device_properties=lambda i: props[i], is_bf16_supported=lambda: bf16)
    return types.SimpleNamespace(__version__="9.9.9", cuda=cuda)


def test_a_gpu_worker_reports_every_gpu_its_memory_and_bf16(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", _fake_torch(2, mem_gb=(79.6, 40.0), bf16=True))
    caps = loop.capabilities()
    assert caps["device"] == "cuda" and caps["gpus"] == 2 and caps["torch"] == "9.9.9"
    assert caps["gpuMemoryGb"] == [79.6, 40.0], "one entry per GPU, not GPU 0's for all"
    assert caps["gpuNames"] == ["GPU-0", "GPU-1"]
    assert caps["bf16"] is True
    assert caps["memoryGb"] > 0  # host RAM (os.sysconf), not a GPU's


def test_bf16_false_is_reported_as_false(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", _fake_torch(1, mem_gb=(16.0,), bf16=False))
    caps = loop.capabilities()
    assert (caps["gpus"], caps["bf16"], caps["gpuMemoryGb"]) == (1, False, [16.0])


def test_bf16_asks_for_native_support_where_torch_can_say_so(monkeypatch):
    torch = _fake_torch(1, mem_gb=(16.0,))
    asked = []
    torch.cuda.is_bf16_supported = lambda including_emulation=True: asked.append(including_emulation) or False
    monkeypatch.setitem(sys.modules, "torch", torch)
    assert loop.capabilities()["bf16"] is False
    assert asked == [False], "no emulation probe (it allocates a tensor on the GPU)"


def test_a_cpu_worker_reports_zero_gpus_and_no_gpu_fields(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", _fake_torch(0))
    caps = loop.capabilities()
    assert (caps["device"], caps["gpus"]) == ("cpu", 0)
    assert "gpuMemoryGb" not in caps and "bf16" not in caps


def test_a_broken_torch_makes_a_cpu_worker(monkeypatch):
    broken = _fake_torch(2)
    broken.cuda.get_device_properties = lambda i: (_ for _ in ()).throw(RuntimeError("driver mismatch"))
    monkeypatch.setitem(sys.modules, "torch", broken)
    caps = loop.capabilities()
    assert (caps["device"], caps["gpus"]) == ("cpu", 0), "a worker that cannot read its GPUs must not claim GPU jobs"


def test_transformers_version_comes_from_metadata_without_importing_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", _fake_torch(0))
    monkeypatch.delitem(sys.modules, "transformers", raising=False)
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "4.99.0" if name == "transformers" else real(name))
    caps = loop.capabilities()
    assert caps["transformers"] == "4.99.0"
    assert "transformers" not in sys.modules, "registration must not pay for importing transformers"

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)
    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert "transformers" not in loop.capabilities()


@pytest.mark.parametrize("payload,nproc,ranks", [
    ({"algorithm": "sft", "config": {"gpus": 0}}, 1, 1),
    ({"algorithm": "sft", "config": {"gpus": 0}}, 2, 2),   # the operator's CPU ranks
    ({"algorithm": "ril", "config": {"gpus": 0}}, 2, 2),
    ({"algorithm": "dr_grpo", "config": {"gpus": 0, "questions_per_step": 2}}, 4, 2),  # a question per rank at least
    ({"algorithm": "sft", "config": {"gpus": 1}}, 4, 1),   # one GPU asked: one rank, whatever --nproc says
    ({"algorithm": "sft", "config": {"gpus": 4}}, 1, 4),   # one rank per GPU
    ({"algorithm": "ril", "config": {"gpus": 2}}, 1, 2),   # one rank per GPU (rl.py shards the questions)
    ({"algorithm": "sft", "config": {}}, 1, 1),            # configs from before `gpus`
])
def test_trainer_ranks_follow_the_jobs_gpus(payload, nproc, ranks):
    assert loop.trainer_ranks(payload, nproc) == ranks
