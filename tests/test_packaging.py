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
