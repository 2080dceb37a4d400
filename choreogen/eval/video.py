"""2D and video metrics: 2D beat alignment, AV-Align, PSNR, SSIM and pose consistency.

None of them needs learned weights.

* :func:`bas_2d` -- beat alignment on 2D keypoint sequences (DabFusion's "2D-MM Align", arXiv
  2405.09266 eq. 7: mean over *kinematic* beats of ``exp(-d^2 / (2 sigma^2))`` to the nearest music
  beat). DabFusion publishes no code and leaves the detector and sigma unspecified, so this is our
  definition, fixed in seconds so that it does not depend on the video frame rate: keypoints are
  divided by the body size, the envelope is the mean speed over the joints present in both frames,
  smoothed by a Gaussian of 5/30 s, kinematic beats are its strict local minima, and sigma = 0.1 s
  (LODGE's 3 frames at 30 fps). Music beats: librosa ``beat_track`` defaults at 22050 Hz.
* :func:`av_align` -- AV-Align (TempoTokens ``av_align.py``, pinned at commit ``bf0b1e3``;
  METRICS_SPEC §11a): Farneback optical-flow peaks >= 0.1 vs librosa onsets, one-to-one matching
  within one frame, IoU.
* :func:`psnr` / :func:`ssim` -- per-frame averages via torchmetrics (Gaussian 11x11, sigma 1.5).
* :func:`pose_consistency` -- keypoints re-detected in generated frames vs the driving skeleton:
  PCK@alpha of the body size and the normalised mean error, with confidence masking.
"""
from __future__ import annotations

import os
import subprocess
import tempfile

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import argrelextrema

from ..errors import InputError

CONF_THRESHOLD = 0.3


# ------------------------------------------------------------------------------- 2D keypoints
def _present(kp: np.ndarray, conf: np.ndarray | None, thr: float) -> np.ndarray:
    ok = np.isfinite(kp).all(axis=-1)
    if conf is not None:
        ok &= np.asarray(conf) > thr
    return ok


def body_size(kp, conf=None, thr: float = CONF_THRESHOLD) -> np.ndarray:
    """Per-frame body size (T,) in the keypoints' units: the larger side of the bounding box of
    the present keypoints (NaN for frames with fewer than 2 present keypoints)."""
    kp = np.asarray(kp, dtype=np.float64)
    ok = _present(kp, conf, thr)
    x = np.where(ok[..., None], kp, np.nan)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ext = np.nanmax(x, axis=1) - np.nanmin(x, axis=1)
    size = np.nanmax(np.where(np.isfinite(ext), ext, -np.inf), axis=-1)
    size[(ok.sum(axis=1) < 2) | ~np.isfinite(size) | (size <= 0)] = np.nan
    return size


def motion_envelope_2d(kp, conf=None, fps: float = 30.0, smooth_s: float = 5.0 / 30.0,
                       thr: float = CONF_THRESHOLD) -> np.ndarray:
    """(T-1,) mean per-joint speed in body sizes per frame over joints present in both frames,
    Gaussian-smoothed by ``smooth_s`` seconds. Frames with no usable joint are interpolated."""
    kp = np.asarray(kp, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[-1] != 2:
        raise InputError(f"2D keypoints must have shape (T, J, 2), got {kp.shape}")
    ok = _present(kp, conf, thr)
    size = np.nanmedian(body_size(kp, conf, thr)) if ok.any() else np.nan
    if not np.isfinite(size):
        return np.zeros(max(len(kp) - 1, 0))
    both = ok[1:] & ok[:-1]
    sp = np.linalg.norm(np.nan_to_num(kp[1:] - kp[:-1]), axis=-1) / size
    n = both.sum(axis=1)
    env = np.where(n > 0, (sp * both).sum(axis=1) / np.maximum(n, 1), np.nan)
    good = np.isfinite(env)
    if not good.any():
        return np.zeros(len(env))
    env = np.interp(np.arange(len(env)), np.flatnonzero(good), env[good])
    return gaussian_filter1d(env, smooth_s * fps) if smooth_s > 0 and len(env) else env


def music_beat_times(path) -> np.ndarray:
    """Music beat times in seconds (librosa ``beat_track`` defaults at 22050 Hz)."""
    import librosa

    from .beats import load_audio

    y = load_audio(path, 22050)
    _, beats = librosa.beat.beat_track(y=y, sr=22050)
    return librosa.frames_to_time(beats, sr=22050)


def bas_2d(kp, music_beat_s, fps: float, conf=None, sigma_s: float = 0.1,
           smooth_s: float = 5.0 / 30.0) -> dict:
    """2D beat alignment of a (T, J, 2) keypoint sequence at ``fps`` with music beats in seconds.

    Returns ``{"bas", "motion_beats_s"}``; 0.0 when there is no kinematic or no music beat.
    """
    from .beats import alignment_score

    env = motion_envelope_2d(kp, conf, fps, smooth_s)
    mb = argrelextrema(env, np.less)[0] if len(env) >= 3 else np.zeros(0, int)
    t_motion = (mb + 1) / fps           # envelope index k is the step into frame k + 1
    score = alignment_score(np.asarray(music_beat_s, float), t_motion, sigma_s, over="motion")
    return {"bas": score, "motion_beats_s": t_motion}


def pose_consistency(pred, ref, pred_conf=None, ref_conf=None, alpha: float = 0.2,
                     thr: float = CONF_THRESHOLD) -> dict:
    """Re-detected keypoints ``pred`` (T, J, 2) vs driving keypoints ``ref`` (T, J, 2).

    Only (frame, joint) pairs present in ``ref`` count. ``pck``: fraction of them where ``pred``
    is present and within ``alpha`` x the reference body size (:func:`body_size`) -- a missed
    detection is a miss. ``nme``: mean error in body sizes over pairs present in both.
    ``detected``: fraction of reference-present pairs that ``pred`` has at all.
    """
    pred = np.asarray(pred, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if pred.shape != ref.shape or pred.ndim != 3:
        raise InputError(f"keypoint sequences must have the same (T, J, 2) shape, got {pred.shape} and {ref.shape}")
    ok_r = _present(ref, ref_conf, thr)
    ok_p = _present(pred, pred_conf, thr)
    size = body_size(ref, ref_conf, thr)[:, None]
    ok_r &= np.isfinite(size)
    if not ok_r.any():
        raise InputError("the reference keypoints have no present joint in any frame")
    both = ok_r & ok_p
    err = np.linalg.norm(np.nan_to_num(pred - ref), axis=-1) / np.where(np.isfinite(size), size, 1.0)
    hit = both & (err <= alpha)
    return {"pck": float(hit.sum() / ok_r.sum()),
            "nme": float(err[both].mean()) if both.any() else float("nan"),
            "detected": float(both.sum() / ok_r.sum())}


# ------------------------------------------------------------------------------- video I/O
def read_frames(path, gray: bool = False) -> tuple[np.ndarray, float]:
    """All frames of a video (T, H, W, 3) uint8 RGB (or (T, H, W) gray) and its fps, via OpenCV."""
    import cv2

    p = os.fspath(path)
    if not os.path.isfile(p):
        raise InputError("video file not found", p)
    cap = cv2.VideoCapture(p)
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    frames = []
    while True:
        ok, fr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(fr, cv2.COLOR_BGR2GRAY if gray else cv2.COLOR_BGR2RGB))
    cap.release()
    if not frames or fps <= 0:
        raise InputError("cannot decode video (no frames or no frame rate)", p)
    return np.stack(frames), fps


def _extract_audio(video_path: str) -> str:
    import imageio_ffmpeg

    fd, wav = tempfile.mkstemp(suffix=".wav")
    os.close(fd)
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i", video_path, "-vn", "-ac", "1", wav]
    r = subprocess.run(cmd, capture_output=True)
    if r.returncode != 0 or os.path.getsize(wav) == 0:
        os.unlink(wav)
        raise InputError("video has no readable audio track (pass the audio file explicitly)", video_path)
    return wav


def av_align(video, audio=None) -> dict:
    """AV-Align of a video and its audio (``audio`` None: the video's own audio track).

    Returns ``{"av_align", "n_video_peaks", "n_audio_peaks", "matches"}``. With no peak at all the
    reference divides by zero; we return 0.0.
    """
    import cv2
    import librosa

    from .beats import load_audio

    gray, fps = read_frames(video, gray=True)
    mags = []
    for a, b in zip(gray[:-1], gray[1:]):
        flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
        mag, _ = cv2.cartToPolar(flow[..., 0], flow[..., 1])
        mags.append(float(mag.mean()))
    traj = np.array(mags[:1] + mags) if mags else np.zeros(len(gray))
    idx = [i for i in range(1, len(traj) - 1) if traj[i - 1] < traj[i] > traj[i + 1] and traj[i] >= 0.1]
    t_video = np.array(idx, float) / fps
    tmp = None
    try:
        src = os.fspath(audio) if audio is not None else (tmp := _extract_audio(os.fspath(video)))
        y = load_audio(src, 22050)
    finally:
        if tmp:
            os.unlink(tmp)
    onsets = librosa.onset.onset_detect(y=y, sr=22050)
    t_audio = librosa.frames_to_time(onsets, sr=22050)
    used = np.zeros(len(t_video), bool)
    m = 0
    for ta in t_audio:
        for k, tv in enumerate(t_video):
            if not used[k] and tv - 1.0 / fps < ta < tv + 1.0 / fps:
                used[k] = True
                m += 1
                break
    denom = len(t_audio) + len(t_video) - m
    return {"av_align": float(m / denom) if denom else 0.0, "n_video_peaks": len(t_video),
            "n_audio_peaks": len(t_audio), "matches": m}


# ------------------------------------------------------------------------------- image quality
def _as_tensor(frames: np.ndarray):
    import torch

    x = torch.as_tensor(np.asarray(frames), dtype=torch.float64)
    if x.ndim == 3:
        x = x[..., None]
    return x.permute(0, 3, 1, 2)  # (T, C, H, W)


def _pair(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise InputError(f"frame stacks differ in shape: {a.shape} vs {b.shape}")
    return a, b


def psnr(frames, ref, data_range: float = 255.0) -> float:
    """Mean per-frame PSNR (dB) of (T, H, W[, C]) frames against ``ref`` (inf if identical)."""
    from torchmetrics.functional.image import peak_signal_noise_ratio

    a, b = _pair(frames, ref)
    x, y = _as_tensor(a), _as_tensor(b)
    vals = [float(peak_signal_noise_ratio(x[i:i + 1], y[i:i + 1], data_range=data_range)) for i in range(len(x))]
    return float(np.mean(vals))


def ssim(frames, ref, data_range: float = 255.0) -> float:
    """Mean per-frame SSIM (Wang et al. 2004; Gaussian 11x11, sigma 1.5, K = 0.01/0.03)."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    a, b = _pair(frames, ref)
    x, y = _as_tensor(a), _as_tensor(b)
    vals = [float(structural_similarity_index_measure(x[i:i + 1], y[i:i + 1], data_range=data_range))
            for i in range(len(x))]
    return float(np.mean(vals))
