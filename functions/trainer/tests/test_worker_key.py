"""#16: the worker's key comes from RIL_API_KEY or a key file only its owner can read, never needs argv."""
import io
import os

import pytest

from ril_trainer.worker.credentials import KeyFileError, read_key_file, resolve_api_key
from ril_trainer.worker.loop import main


def _key_file(tmp_path, mode):
    p = tmp_path / "worker.key"
    p.write_text("ril_secret-from-file\n")
    os.chmod(p, mode)
    return str(p)


def test_16_key_file_readable_by_others_is_refused(tmp_path):
    path = _key_file(tmp_path, 0o644)
    with pytest.raises(KeyFileError, match=r"accessible to other users \(mode 644\)"):
        read_key_file(path)


def test_16_key_file_mode_600_is_read_and_wins(tmp_path):
    path = _key_file(tmp_path, 0o600)
    err = io.StringIO()
    assert resolve_api_key(None, path, {"RIL_API_KEY": "ril_env"}, err) == "ril_secret-from-file"
    assert err.getvalue() == ""


def test_16_environment_key_and_deprecated_argv_key():
    err = io.StringIO()
    assert resolve_api_key(None, None, {"RIL_API_KEY": "ril_env"}, err) == "ril_env"
    assert err.getvalue() == ""
    assert resolve_api_key("ril_argv", None, {}, err) == "ril_argv"
    assert "--key is deprecated" in err.getvalue()
    assert resolve_api_key(None, None, {}, err) is None


def test_16_worker_exits_on_an_open_key_file_before_any_call(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("RIL_API_KEY", raising=False)
    path = _key_file(tmp_path, 0o640)
    with pytest.raises(SystemExit) as e:
        main(["--api", "http://127.0.0.1:9", "--key-file", path, "--once"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "chmod 600" in err
    assert "ril_secret-from-file" not in err
    with pytest.raises(SystemExit):
        main(["--api", "http://127.0.0.1:9", "--once"])
    assert "RIL_API_KEY or --key-file" in capsys.readouterr().err
