"""The trainer processes the worker starts see an allowlisted environment: never the worker's API key."""
import json
import subprocess
import sys

from ril_trainer.worker.child_env import child_env, config_env_names
from ril_trainer.worker.loop import PACKAGE_ROOT

HOST_ENV = {
    "PATH": "/usr/bin:/bin", "HOME": "/home/w", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONPATH": "/opt/x",
    "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2", "CUDA_VISIBLE_DEVICES": "0,1",
    "NCCL_DEBUG": "INFO", "MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "29500", "WORLD_SIZE": "1",
    "RIL_API_KEY": "ril_worker_secret", "RIL_API_URL": "http://api", "AWS_SECRET_ACCESS_KEY": "aws",
    "DATABASE_URL": "postgres://u:p@h/db", "JUDGE_KEY": "judge-secret", "OPERATOR_VAR": "op",
    "HF_HUB_CACHE": "/models/hub", "HF_HUB_OFFLINE": "1", "HF_TOKEN": "hf_secret",
    "RIL_SECRET_ENV_ALLOWLIST": "JUDGE_KEY,RIL_API_KEY", "RIL_OUTBOUND_ALLOW_HOSTS": "judge.lan:8000",
}


def test_only_the_allowlist_passes():
    env = child_env(source=HOST_ENV)
    assert set(env) == {"PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                        "OPENBLAS_NUM_THREADS", "CUDA_VISIBLE_DEVICES", "NCCL_DEBUG", "MASTER_ADDR", "MASTER_PORT",
                        "WORLD_SIZE", "RIL_SECRET_ENV_ALLOWLIST", "RIL_OUTBOUND_ALLOW_HOSTS",
                        "HF_HUB_CACHE", "HF_HUB_OFFLINE"}  # the HF cache location passes, HF_TOKEN does not
    assert env["CUDA_VISIBLE_DEVICES"] == "0,1"


def test_names_from_the_config_and_the_operator_pass_when_set():
    names = ["OPERATOR_VAR", *config_env_names({"judge": "llm", "judge_api_key_env": "JUDGE_KEY"}, HOST_ENV), "UNSET_VAR"]
    env = child_env(names, source=HOST_ENV)
    assert env["JUDGE_KEY"] == "judge-secret" and env["OPERATOR_VAR"] == "op" and "UNSET_VAR" not in env
    assert "RIL_API_KEY" not in env


def test_a_config_cannot_name_a_platform_variable():
    # the config's author also chooses the judge endpoint: naming RIL_API_KEY would ship the key there
    assert config_env_names({"judge_api_key_env": "RIL_API_KEY"}, HOST_ENV) == [], "not even when allowlisted"
    assert config_env_names({"judge_api_key_env": None}) == [] and config_env_names({}) == []


def test_a_trainer_process_runs_with_it_and_sees_no_key(monkeypatch):
    for k, v in HOST_ENV.items():
        if k not in ("PATH", "HOME", "PYTHONPATH", "LANG", "LC_ALL"):  # keep this machine's interpreter working
            monkeypatch.setenv(k, v)
    probe = "import json, os, ril_trainer.train, ril_trainer.sft; print(json.dumps(dict(os.environ)))"
    r = subprocess.run([sys.executable, "-c", probe], cwd=PACKAGE_ROOT, env=child_env(["JUDGE_KEY"]),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    seen = json.loads(r.stdout.strip().splitlines()[-1])
    assert "RIL_API_KEY" not in seen and "AWS_SECRET_ACCESS_KEY" not in seen and "DATABASE_URL" not in seen
    assert seen["JUDGE_KEY"] == "judge-secret" and seen["CUDA_VISIBLE_DEVICES"] == "0,1"
