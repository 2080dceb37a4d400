"""Dance3DPipeline(beat_stride=N): long-form windows start on the music's beats."""
import numpy as np
import pytest

from choreogen.api import example_song
from choreogen.errors import ChoreogenError
from choreogen.tasks.dance3d.pipeline import Dance3DPipeline


def test_beat_windows_generate_and_differ_from_constant_stride():
    pipe = Dance3DPipeline.from_pretrained()
    a = pipe(example_song(), seconds=12, seed=0, steps=3, beat_stride=4).motion
    b = pipe(example_song(), seconds=12, seed=0, steps=3).motion
    assert a.num_frames == b.num_frames == 360 and a.meta["beat_stride"] == 4 and b.meta["beat_stride"] == 0
    assert np.isfinite(a.joints).all() and not np.allclose(a.joints, b.joints)
    # the example's beat is 24 frames (75 BPM): 2 beats = 1.6 s strides, 8 beats = 6.4 s (clamped to 3.75 s)
    n = {k: pipe(example_song(), seconds=12, seed=0, steps=2, beat_stride=k).motion.meta["windows"] for k in (2, 8)}
    assert n[2] == 6 and n[8] == 3
    with pytest.raises(ChoreogenError, match="between 1 and 32 beats"):
        pipe(example_song(), seconds=6, beat_stride=0)
