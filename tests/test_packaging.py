"""pyproject.toml: metadata that current setuptools reads without deprecation warnings."""
from __future__ import annotations

import tomllib
import warnings
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_license_is_an_spdx_string_and_setuptools_reads_it_without_warnings():
    data = tomllib.loads(PYPROJECT.read_text())
    assert data["project"]["license"] == "MIT"  # PEP 639 SPDX form; the TOML table form is deprecated
    from setuptools.config.pyprojecttoml import apply_configuration
    from setuptools.dist import Distribution

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dist = apply_configuration(Distribution(), PYPROJECT)
    msgs = [str(w.message).splitlines()[0] for w in caught if "deprecat" in str(w.message).lower()
            or issubclass(w.category, DeprecationWarning)]
    assert msgs == []
    assert dist.metadata.license_expression == "MIT"


def _torch_install_line(tmp_path, *assignments):
    import shutil
    import subprocess

    import pytest

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    root = PYPROJECT.parent
    r = subprocess.run(["make", "-n", "-C", str(root), f"VENV={tmp_path / 'venv'}", "PY=python3", *assignments,
                        "venv"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = [x.strip() for x in r.stdout.splitlines() if "pip install" in x and "torch==" in x]
    assert len(lines) == 1, r.stdout
    return lines[0]


def test_makefile_torch_index_is_optional(tmp_path):
    plain = _torch_install_line(tmp_path)
    assert plain.endswith("pip install -q torch==2.13.0") and "index-url" not in plain  # unset: unchanged
    cpu = _torch_install_line(tmp_path, "TORCH_INDEX=https://download.pytorch.org/whl/cpu")
    assert cpu.endswith("pip install -q torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu")
