"""--device / --accelerator / --devices: one clear message and exit 2, never a traceback."""
from __future__ import annotations

import pytest
import torch

from choreogen.device import check_accelerator, check_device
from choreogen.errors import ConfigError


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)


def test_check_device_values(no_cuda):
    assert check_device("cpu") == "cpu" and check_device(" CPU ") == "cpu"
    for bad in ("tpu", "gpu0", "cuda:x", "", "cpu:3"):
        with pytest.raises(ConfigError, match="unknown device"):
            check_device(bad)
    with pytest.raises(ConfigError, match="'cuda' requested but"):
        check_device("cuda")
    with pytest.raises(ConfigError, match="'cuda:1' requested but"):
        check_device("cuda:1")


def test_check_accelerator_values(no_cuda):
    assert check_accelerator("cpu", "1") == ("cpu", 1)
    assert check_accelerator("CPU", "auto") == ("cpu", "auto")
    with pytest.raises(ConfigError, match="unknown accelerator 'tpu'"):
        check_accelerator("tpu", "1")
    with pytest.raises(ConfigError, match="devices must be"):
        check_accelerator("cpu", "two")
    with pytest.raises(ConfigError, match="devices must be"):
        check_accelerator("cpu", "0")
    with pytest.raises(ConfigError, match="'gpu' requested but"):
        check_accelerator("gpu", "1")


@pytest.mark.parametrize("device,needle", [("tpu", "unknown device 'tpu'"), ("cuda", "'cuda' requested but")])
def test_generate_bad_device_is_a_clean_error(run_cli, tmp_path, no_cuda, device, needle):
    code, out, err = run_cli(["generate", tmp_path / "missing.wav", "--out", tmp_path / "o", "--device", device])
    assert code == 2, err
    assert needle in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_generate_api_bad_device(no_cuda):
    from choreogen.tasks.dance3d.pipeline import get_generator

    with pytest.raises(ConfigError, match="unknown device 'tpu'"):
        get_generator(None, "tpu")
    with pytest.raises(ConfigError, match="'cuda' requested but"):
        get_generator(None, "cuda")


@pytest.mark.parametrize("args,needle", [(["--accelerator", "gpu"], "'gpu' requested but"),
                                         (["--accelerator", "tpu"], "unknown accelerator 'tpu'"),
                                         (["--devices", "two"], "devices must be")])
def test_train_bad_accelerator_is_a_clean_error(run_cli, tmp_path, no_cuda, args, needle):
    code, out, err = run_cli(["train", tmp_path, "--out", tmp_path / "run", *args])
    assert code == 2, err
    assert needle in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()
