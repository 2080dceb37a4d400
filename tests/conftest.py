"""Shared fixtures. Tests that need ../shared/data skip with a clear reason when it is absent."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Each pytest-xdist worker gets its own numba cache: in a fresh virtualenv two workers compiling and
# caching the same librosa gufunc at once corrupt the shared __pycache__ entry (segfault seen in a
# clean clone). Must be set before numba is imported.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(tempfile.gettempdir(), f"choreogen-numba-{os.getuid()}-"
                                                          f"{os.environ['PYTEST_XDIST_WORKER']}"))

import pytest
import torch

# tiny test models run fastest single-threaded (and pytest-xdist already uses both cores)
torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CHOREOGEN_SHARED", ROOT.parent / "shared"))
DATA = SHARED / "data"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return _need(DATA)


@pytest.fixture(scope="session")
def tang_dir() -> Path:
    return _need(DATA / "tang2018")


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    return _need(DATA / "golden")


@pytest.fixture(scope="session")
def music_dir() -> Path:
    return _need(DATA / "music")


@pytest.fixture
def run_cli(capsys):
    """Run the CLI in-process: returns (exit code, stdout, stderr)."""
    from choreogen.cli.app import main

    def run(args):
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as e:
            code = e.code or 0
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory):
    """A tiny untrained COCO-17 repair VAE checkpoint (16-frame windows)."""
    import torch

    from choreogen.models.skeleton_vae import SkeletonVAE, SkeletonVAEConfig
    from choreogen.tasks.skeleton.checkpoint import save_vae

    torch.manual_seed(0)
    m = SkeletonVAE(SkeletonVAEConfig(num_joints=17, dim=2, d_model=16, n_heads=2, temporal_layers=1,
                                      decoder_layers=1, latent_dim=4, max_frames=16)).eval()
    return save_vae(m, tmp_path_factory.mktemp("ck") / "tiny.safetensors", {"skeleton": "coco17", "window": 16})
