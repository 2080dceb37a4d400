"""Analytic cases, invariances and edge cases of the evaluation metrics (no shared data needed)."""
from __future__ import annotations

import numpy as np
import pytest

from choreogen.errors import InputError
from choreogen.eval import beats as B
from choreogen.eval import recon, video
from choreogen.eval.features import apply_origin, extract_features, geometric_features, kinetic_features
from choreogen.eval.fid import avg_pairwise_distance, constant_dims, diversity, fid, frechet_distance, normalize
from choreogen.eval.physics import foot_skating_ratio, pbc_sequence, pfc_sequence
from choreogen.motion.fk import fk_axis_angle
from choreogen.motion.skeleton import get_skeleton


def rest_pose(T=20, root=(0.0, 0.9, 0.0)) -> np.ndarray:
    """(T, 24, 3) SMPL rest pose (EDGE offsets), root at ``root``: Y-up, metres."""
    sk = get_skeleton("smpl24")
    j = fk_axis_angle(np.zeros((1, 72)), np.array([root]), sk)[0]
    return np.repeat(np.asarray(j, np.float64)[None], T, axis=0)


def random_motion(T=120, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rest_pose(T)
    return base + np.cumsum(rng.normal(0, 0.004, base.shape), axis=0)


# ------------------------------------------------------------------------------ kinetic
def test_kinetic_still_motion_is_the_energy_bug():
    """Still motion: KE = 0, and the buggy 'energy' is exactly 3540 * |P| (60*60 - 60)."""
    P = rest_pose(10)
    k = kinetic_features(P).reshape(24, 3)
    assert np.all(k[:, :2] == 0)
    np.testing.assert_allclose(k[:, 2], 3540.0 * np.linalg.norm(P[0], axis=-1), rtol=1e-6)


def test_kinetic_constant_velocity():
    """Every joint moving by v metres/frame: KE_h = |v_xz|^2 * 60^2, KE_v = v_y^2 * 60^2."""
    v = np.array([0.01, 0.02, -0.005])
    P = rest_pose(30) + np.arange(30)[:, None, None] * v
    k = kinetic_features(P).reshape(24, 3)
    np.testing.assert_allclose(k[:, 0], (v[0] ** 2 + v[2] ** 2) * 3600, rtol=1e-5)
    np.testing.assert_allclose(k[:, 1], v[1] ** 2 * 3600, rtol=1e-5)


def test_kinetic_origin_dependence_and_ke_invariance():
    P = random_motion()
    shifted = P + np.array([1.0, 0.0, 2.0])
    a, b = kinetic_features(P).reshape(24, 3), kinetic_features(shifted).reshape(24, 3)
    np.testing.assert_allclose(a[:, :2], b[:, :2], rtol=1e-5)
    assert np.abs(a[:, 2] - b[:, 2]).max() > 1000          # EE moves with the origin (reference bug)
    # zero start removes the dependence on a global shift
    za = kinetic_features(apply_origin(P, "zero_start"))
    zb = kinetic_features(apply_origin(shifted, "zero_start"))
    np.testing.assert_allclose(za, zb, rtol=1e-5)


def test_origin_conventions():
    P = random_motion(10)
    z = apply_origin(P, "zero_start")
    assert np.allclose(z[0, 0], 0) and np.allclose(z - z[:1, :1], z)
    r = apply_origin(P, "zero_start_root_relative")
    np.testing.assert_allclose(r[:, 0], P[:, 0] - P[0, 0])
    np.testing.assert_allclose(r[:, 1:], P[:, 1:] - P[:, :1])
    with pytest.raises(ValueError):
        apply_origin(P, "centre")


def test_feature_edge_cases():
    with pytest.raises(InputError, match="at least 3 frames"):
        kinetic_features(rest_pose(2))
    with pytest.raises(InputError):
        kinetic_features(np.zeros((10, 24, 2)))
    assert kinetic_features(rest_pose(3)).shape == (72,)
    assert geometric_features(rest_pose(2)).shape == (32,)
    assert kinetic_features(rest_pose(5)[:, :22]).shape == (66,)


# ------------------------------------------------------------------------------ geometric
def test_geometric_translation_invariance_and_duplicate():
    P = random_motion(200, seed=3)
    g = geometric_features(P)
    np.testing.assert_array_equal(g, geometric_features(P + np.array([3.0, 0.7, -5.0])))
    assert g[4] == g[5]                                    # features 5 and 6 are identical
    assert np.all((g >= 0) & (g <= 1))


def test_geometric_still_rest_pose():
    """Standing still in rest pose: nothing is fast or moving; elbows and knees straight."""
    g = geometric_features(rest_pose(10))
    for i in (0, 1, 4, 5, 9, 10, 11, 12, 13, 21, 22, 31):   # move / nmove / fast features (0-based)
        assert g[i] == 0.0
    assert g[6] == g[7] == 0.0 and g[19] == g[20] == 0.0      # angles ~180 deg, not in (0, 110)
    assert g[28] == 0.0                                       # torso vertical, not horizontal


def test_extract_features_mixed_lengths_and_chunks():
    seqs = [random_motion(50, 1), random_motion(80, 2), random_motion(50, 3)]
    k, g = extract_features(seqs, origin="zero_start", chunk=1)
    for i, s in enumerate(seqs):
        np.testing.assert_array_equal(k[i], kinetic_features(apply_origin(s, "zero_start")))
        np.testing.assert_array_equal(g[i], geometric_features(s))


# ------------------------------------------------------------------------------ FID / Div
def test_frechet_known_answers():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5))
    assert abs(frechet_distance(x, x).value) < 1e-8
    d = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    assert frechet_distance(x, x + d).value == pytest.approx(d @ d, rel=1e-8)
    # isotropic Gaussians with variances 1 and 4 (population): tr(S1 + S2 - 2 sqrt(S1 S2)) = D (1 + 4 - 4)
    y = rng.normal(size=(20000, 3))
    assert frechet_distance(y, 2 * y).value == pytest.approx(3.0, rel=2e-2)


def test_fid_singular_covariance_and_constant_dims():
    rng = np.random.default_rng(1)
    gt = rng.normal(size=(40, 8)).astype(np.float32)
    gen = rng.normal(size=(5, 8)).astype(np.float32)        # N < D: singular covariance
    r = fid(gt, gen)
    assert np.isfinite(r.value) and r.value > 0
    gt[:, 3] = 0.5                                           # GT-constant dimension
    assert constant_dims(gt) == [3]
    huge = fid(gt, gen).value
    assert huge > 1e15                                       # (x - 0.5) / 1e-10 blows up, as in the references
    kept = fid(gt, gen, drop_constant=True)
    assert kept.dropped_dims == [3] and kept.value < 1e3
    assert diversity(gt, gen, drop_constant=True) < 1e3 < diversity(gt, gen)
    gt_n, gen_n = normalize(gt, gen)
    np.testing.assert_allclose(gt_n[:, 0].mean(), 0, atol=1e-6)


def test_fid_rejects_bad_input():
    with pytest.raises(InputError):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(InputError):
        fid(np.full((5, 3), np.nan), np.zeros((5, 3)))
    with pytest.raises(ValueError):
        fid(np.zeros((5, 3)), np.zeros((5, 3)), flavour="edge")


def test_diversity_all_pairs():
    x = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 4.0]])      # distances 5, 4, 3
    assert avg_pairwise_distance(x) == pytest.approx(4.0)
    assert np.isnan(avg_pairwise_distance(x[:1]))


# ------------------------------------------------------------------------------ beats
def oscillation(T=300, period=60) -> np.ndarray:
    """Every joint oscillates along x; per-frame speed P[t]-P[t-1] is zero-crossing at t = 16 + 30k."""
    P = rest_pose(T)
    t = np.arange(T)
    P[:, :, 0] += 0.1 * np.sin(2 * np.pi * (t - 0.5) / period)[:, None]
    return P


def test_known_beat_train():
    P = oscillation()
    fact = B.motion_beats_fact(P)
    assert fact.tolist() == list(range(16, 300, 30))[:len(fact)] and len(fact) >= 8
    bail, length = B.motion_beats_bailando(P)
    assert length == 299
    interior = [b for b in bail if 30 < b < 270]
    assert interior == [b - 1 for b in fact if 30 < b - 1 < 270]  # one-frame index shift vs FACT
    assert B.bas(P, fact, "fact")["bas"] == pytest.approx(1.0)
    assert B.bas(P, fact + 3, "fact")["bas"] == pytest.approx(np.exp(-0.5))   # 3 frames = 1 sigma
    assert B.alignment_score([10, 40], [10], over="music") == pytest.approx((1 + np.exp(-900 / 18)) / 2)


def test_no_motion_beats():
    still = rest_pose(100)
    assert B.bas(still, [10, 40], "fact")["bas"] == 0.0
    assert B.bas(still, [10, 40], "bailando")["bas"] == 0.0
    with pytest.raises(ValueError):
        B.bas(still, [10, 40], "bailando", strict=True)
    assert B.alignment_score([], [1, 2]) == 0.0


def test_aist_start_bpm():
    assert B.aist_start_bpm("gHO_sBM_cAll_d19_mHO2_ch02") == 120
    assert B.aist_start_bpm("mBR0.wav") == 80 and B.aist_start_bpm("mJB5") == 130
    assert B.aist_start_bpm("song.wav") is None


# ------------------------------------------------------------------------------ physics
def test_pfc_still_static_feet_and_normalisation():
    assert pfc_sequence(rest_pose(30)) == 0.0                 # reference: NaN (0/0); ours: 0
    t = np.arange(30)
    P = rest_pose(30)
    P[:, 0, 1] += 0.05 * np.sin(t / 3)                         # root bounces, feet do not move
    assert pfc_sequence(P) == 0.0
    Q = P.copy()
    Q[:, [7, 8, 10, 11], 0] += 0.01 * t[:, None] ** 1.5      # feet slide
    a = pfc_sequence(Q)
    R = Q.copy()
    R[:, 0, 1] = rest_pose(1)[0, 0, 1] + 0.2 * np.sin(t / 3)  # 4x the root acceleration
    assert a > 0 and pfc_sequence(R) == pytest.approx(a, rel=1e-9)   # per-sequence max normalisation
    assert np.isfinite(pbc_sequence(Q))


def test_pfc_resamples_to_30fps():
    P = random_motion(121, seed=5)
    from choreogen.motion.resample import lerp_frames

    assert pfc_sequence(P, fps=60) == pytest.approx(pfc_sequence(lerp_frames(P, 60, 30), fps=30))


def test_foot_skating_ratio():
    P = rest_pose(40)
    P[..., 1] -= P[0, [10, 11], 1].min()                      # toes on the floor
    assert foot_skating_ratio(P) == (0.0, 0.0)                # standing still: contact, no slide
    S = P.copy()
    S[..., 0] += 0.05 * np.arange(40)[:, None]                # gliding 5 cm/frame along x
    left, right = foot_skating_ratio(S)
    assert left == pytest.approx(39 / 40) and right == pytest.approx(39 / 40)  # last frame has v = 0
    U = P.copy()
    U[..., 1] += 0.5                                          # frame-0 toes define the ground: still 0
    assert foot_skating_ratio(U) == (0.0, 0.0)


# ------------------------------------------------------------------------------ recon / video
def test_masked_reconstruction_errors():
    gt = np.zeros((2, 3, 2))
    pred = gt.copy()
    pred[0, 0] = [3.0, 4.0]                                  # present: error 25 (sq) / 7 (abs)
    pred[1, 2] = [100.0, 100.0]                              # missing joint: ignored
    mask = np.ones((2, 3), bool)
    mask[1, 2] = False
    r = recon.masked_errors(pred, gt, mask)
    assert r["mse"] == pytest.approx(25 / 5) and r["l1"] == pytest.approx(7 / 5)
    assert recon.masked_errors(pred, gt, mask, "sum") == {"mse": 25.0, "l1": 7.0}
    rates = recon.missing_rates([mask])
    assert rates["missing_rate"] == pytest.approx(1 / 6) and rates["missing_rate_per_joint"][2] == 0.5


def test_dancefusion_diversity_and_2d_features():
    x = np.zeros((4, 2, 2))
    x[:, 0, 0] = [0, 1, 2, 3]                                # var 1.25 on one of 4 coordinates
    assert recon.sequence_variance(x) == pytest.approx(1.25 / 4)
    assert recon.dancefusion_diversity([x, x]) == pytest.approx(1.25 / 4)
    kp = np.random.default_rng(0).normal(100, 20, (30, 17, 2))
    f = recon.keypoint_features_2d(kp)
    assert f.shape == (85,)
    np.testing.assert_allclose(f, recon.keypoint_features_2d(kp * 2 + 50), atol=1e-9)  # scale/shift invariant


def test_pose_consistency():
    rng = np.random.default_rng(0)
    ref = rng.uniform(0, 100, (10, 17, 2))
    r = video.pose_consistency(ref, ref)
    assert r == {"pck": 1.0, "nme": 0.0, "detected": 1.0}
    size = video.body_size(ref)
    shifted = ref + np.array([0.3, 0.4]) * size[:, None, None]   # error 0.5 body sizes
    r = video.pose_consistency(shifted, ref)
    assert r["pck"] == 0.0 and r["nme"] == pytest.approx(0.5)
    conf = np.ones((10, 17))
    conf[:, :5] = 0                                            # undetected joints count as misses
    r = video.pose_consistency(ref, ref, pred_conf=conf)
    assert r["pck"] == pytest.approx(12 / 17) and r["detected"] == pytest.approx(12 / 17)


def test_psnr_ssim_known_values():
    rng = np.random.default_rng(0)
    a = rng.integers(20, 200, (2, 32, 32, 3)).astype(np.uint8)
    b = a + 10                                                  # MSE = 100
    assert video.psnr(b, a) == pytest.approx(10 * np.log10(255 ** 2 / 100), rel=1e-6)
    assert video.ssim(a, a) == pytest.approx(1.0)
    assert video.ssim(b, a) < 1.0
    with pytest.raises(InputError):
        video.psnr(a[:, :16], a)


def test_bas_2d_on_known_beats():
    fps = 30.0
    T = 300
    t = np.arange(T)
    kp = np.tile(np.random.default_rng(0).uniform(0, 100, (1, 17, 2)), (T, 1, 1))
    kp[:, :, 0] += 20 * np.sin(2 * np.pi * t / 30)[:, None]   # speed P[t]-P[t-1] is zero at t = 8 + 15k
    beats_s = (8 + 15 * np.arange(20)) / fps
    r = video.bas_2d(kp, beats_s, fps)
    assert r["bas"] > 0.95
    assert video.bas_2d(kp, beats_s + 7.5 / fps, fps)["bas"] < 0.2      # half a period off


def test_av_align_synthetic(tmp_path):
    """A textured square jumps at frames 15, 30, 45 (20 fps); clicks at the same times: IoU 1."""
    import cv2
    import soundfile as sf

    fps, T = 20, 60
    rng = np.random.default_rng(0)
    tex = rng.integers(0, 255, (32, 32), dtype=np.uint8)
    step = np.zeros(T)
    for f in (15, 30, 45):
        step[f], step[f - 1], step[f + 1] = 6, 1, 1
    x = 8 + np.cumsum(step)
    path = str(tmp_path / "v.avi")
    w = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), fps, (128, 64))
    for i in range(T):
        img = np.full((64, 128), 40, np.uint8)
        img[16:48, int(x[i]):int(x[i]) + 32] = tex
        w.write(cv2.cvtColor(img, cv2.COLOR_GRAY2BGR))
    w.release()
    sr = 22050
    y = np.zeros(int(sr * T / fps), np.float32)
    for f in (15, 30, 45):
        s = int(sr * f / fps)
        y[s:s + 200] = np.hanning(200) * np.sin(np.arange(200) * 0.9)
    sf.write(tmp_path / "v.wav", y, sr)
    r = video.av_align(path, tmp_path / "v.wav")
    assert r["n_video_peaks"] == 3 and r["matches"] == 3
    assert r["av_align"] == pytest.approx(3 / (r["n_audio_peaks"] + 3 - 3))
    assert r["n_audio_peaks"] == 3 and r["av_align"] == 1.0


def test_dancefusion_metrics_aggregate():
    rng = np.random.default_rng(0)
    gt = [rng.uniform(0, 100, (40, 17, 2)) for _ in range(4)]
    masks = [rng.random((40, 17)) > 0.2 for _ in range(4)]
    same = recon.dancefusion_metrics(gt, gt, masks)
    assert same["mse"] == 0 and same["l1"] == 0
    assert same["missing_rate"] == pytest.approx(1 - np.mean(masks))
    assert abs(recon.dancefusion_metrics(gt, gt)["fid"]) < 1e-3
    noisy = recon.dancefusion_metrics([g + 1.0 for g in gt], gt, masks)
    assert noisy["mse"] == pytest.approx(2.0) and noisy["l1"] == pytest.approx(2.0)   # (1^2 + 1^2), |1| + |1|
    r3 = recon.dancefusion_metrics([random_motion(30, s) for s in range(3)], [random_motion(30, s) for s in range(3)])
    assert r3["mse"] == 0 and np.isfinite(r3["fid"])


def test_dance_stats_known_values():
    from choreogen.eval.dance_stats import contact_skate, motion_stats

    T = 120
    rng = np.random.default_rng(0)
    pose = rng.normal(0, 0.3, (24, 3))
    pose[:, 1] = np.abs(pose[:, 1]) + 0.02  # above the floor
    still = np.repeat(pose[None], T, 0)
    s = motion_stats(still)
    assert s["speed_m_s"] == 0 and s["accel_m_s2"] == 0 and s["frozen_share"] == 1.0 and s["max_root_xz_m"] == 0
    walk = still.copy()
    walk[..., 0] += (np.arange(T) * 0.01)[:, None]  # 0.3 m/s glide: feet on the floor slide at 0.3 m/s
    walk[:, [7, 8, 10, 11], 1] = 0.0
    assert motion_stats(walk)["accel_m_s2"] == pytest.approx(0, abs=1e-9)
    assert motion_stats(walk)["max_root_xz_m"] == pytest.approx(1.19)
    assert contact_skate(walk) == pytest.approx(0.3)
    wave = still.copy()
    wave[:, 20, 1] += 0.1 * np.sin(np.arange(T) / 3)  # one wrist waving
    jump = wave.copy()
    jump[60:, 20, 1] += 0.05  # a step at frame 60 = a window seam (stride 30, overlap 30)
    assert motion_stats(wave, 30, 30, 30)["seam_accel_ratio"] == pytest.approx(1.0, abs=0.3)
    assert motion_stats(jump, 30, 30, 30)["seam_accel_ratio"] > 2.0
