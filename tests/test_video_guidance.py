"""Pose guidance maps: heatmap peaks at the joints, part maps cover their bones."""
from __future__ import annotations

import numpy as np
from video_stick import KP

from choreogen.video.animator import PARTS
from choreogen.video.guidance import heatmaps, part_maps


def test_heatmap_peaks_where_the_joints_are_scaled_by_confidence():
    c = np.ones((1, 17), np.float32)
    c[0, 3] = 0.5
    c[0, 16] = 0.0
    h = heatmaps(KP[None], c, frame=256, res=64)
    assert h.shape == (1, 17, 64, 64) and h.dtype == np.float32
    for j in range(16):
        y, x = np.unravel_index(np.argmax(h[0, j]), (64, 64))
        assert abs(x + 0.5 - KP[j, 0] / 4) <= 0.5 and abs(y + 0.5 - KP[j, 1] / 4) <= 0.5
    assert h[0, 3].max() <= 0.5 + 1e-6 and h[0, 3].max() > 0.4
    assert h[0, 16].max() == 0.0


def test_part_maps_cover_their_bones_only():
    c = np.ones((1, 17), np.float32)
    c[0, 15] = 0.0  # left ankle missing -> no left shin
    m = part_maps(KP[None], c, frame=256, res=64)
    assert m.shape == (1, len(PARTS), 64, 64) and 0 <= m.min() and m.max() <= 1
    P = {n: i for i, n in enumerate(PARTS)}
    mid = ((KP[5] + KP[7]) / 2 / 4).astype(int)  # middle of the left upper arm, map pixels
    assert m[0, P["l_upper_arm"], mid[1], mid[0]] > 0.9
    assert m[0, P["r_upper_arm"], mid[1], mid[0]] == 0.0
    centre = (KP[[5, 6, 11, 12]].mean(0) / 4).astype(int)
    assert m[0, P["torso"], centre[1], centre[0]] == 1.0
    assert m[0, P["l_shin"]].sum() == 0.0 and m[0, P["r_shin"]].sum() > 5
