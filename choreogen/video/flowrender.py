"""Pure pieces of the latent-flow route: latent flows -> full-size frames (NumPy / OpenCV, no torch).

Flows are *backward* flows in grid_sample's normalised units (x, y in -1..1 across the image,
pixel centres, align_corners=False): output pixel p samples the source at p + flow(p). A flow of
any resolution h x w applies to an image of any size S by bilinear upsampling (the units do not
change). Frames: (S, S, 3) uint8 RGB; masks (S, S) float32 in [0, 1].
"""
from __future__ import annotations

import numpy as np


def resize_field(a: np.ndarray, size: int) -> np.ndarray:
    """(h, w[, C]) float field -> (size, size[, C]) bilinear (cv2, pixel centres)."""
    import cv2

    return cv2.resize(np.ascontiguousarray(a, np.float32), (size, size), interpolation=cv2.INTER_LINEAR)


def remap(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Back-warp (S, S[, C]) ``img`` by ``flow`` (2, h, w) normalised units (upsampled to S); border replicate."""
    import cv2

    S = img.shape[0]
    f = resize_field(np.moveaxis(flow, 0, -1), S)
    xs = np.arange(S, dtype=np.float32)
    mx = xs[None, :] + f[..., 0] * (S / 2.0)
    my = xs[:, None] + f[..., 1] * (S / 2.0)
    return cv2.remap(img, mx, my, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def inpaint_background(image: np.ndarray, mask: np.ndarray, radius: int = 5) -> np.ndarray:
    """The photo with the (dilated) person ``mask`` filled by OpenCV Telea (as the geometric animator)."""
    import cv2

    S = image.shape[0]
    hard = (mask > 0.3).astype(np.uint8)
    grow = max(3, int(round(S / 32)) | 1)
    hole = cv2.dilate(hard, np.ones((grow, grow), np.uint8))
    return cv2.inpaint(image, hole * 255, radius, cv2.INPAINT_TELEA)


def upscale(frame: np.ndarray, size: int) -> np.ndarray:
    """(s, s, 3) uint8 -> (size, size, 3) uint8, bicubic."""
    import cv2

    if frame.shape[0] == size:
        return frame
    return cv2.resize(frame, (size, size), interpolation=cv2.INTER_CUBIC)


def compose(decoded: np.ndarray, flow: np.ndarray, occ: np.ndarray, photo: np.ndarray, mask: np.ndarray,
            background: np.ndarray, mode: str = "decoder") -> np.ndarray:
    """One output frame at S = photo size.

    decoded: (s, s, 3) uint8 the LFAE decoder's frame; flow (2, h, w), occ (h, w) in [0, 1];
    photo (S, S, 3) uint8, mask (S, S) person mask of the photo, background (S, S, 3) its inpainted
    background. The person's mask is warped by the flow; inside it the person is taken from
    ``decoded`` upscaled (mode "decoder", the paper's route) or from the full-size photo warped by
    the flow, the decoder filling where the occlusion says the photo has nothing (mode "warp").
    Outside it the sharp inpainted background is used. Mode "raw": the decoded frame upscaled, nothing else.
    """
    S = photo.shape[0]
    if mode == "raw":
        return upscale(decoded, S)
    dec = upscale(decoded, S).astype(np.float32)
    m = np.clip(remap(mask.astype(np.float32), flow), 0, 1)[..., None]
    if mode == "warp":
        o = np.clip(resize_field(occ, S), 0, 1)[..., None]
        person = o * remap(photo, flow).astype(np.float32) + (1 - o) * dec
    elif mode == "decoder":
        person = dec
    else:
        raise ValueError(f"unknown compose mode {mode!r}")
    out = m * person + (1 - m) * background.astype(np.float32)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def interpolate_time(a: np.ndarray, src_fps: float, fps: float, n: int | None = None) -> np.ndarray:
    """(T, ...) per-frame fields at ``src_fps`` -> (n, ...) at ``fps`` by linear interpolation
    (frame k at time k / fps; default n = round(T * fps / src_fps))."""
    T = len(a)
    n = int(round(T * fps / src_fps)) if n is None else int(n)
    t = np.clip(np.arange(n) / fps * src_fps, 0, T - 1)
    i0 = np.floor(t).astype(int)
    i1 = np.minimum(i0 + 1, T - 1)
    w = (t - i0).reshape((-1,) + (1,) * (a.ndim - 1)).astype(a.dtype)
    return a[i0] * (1 - w) + a[i1] * w
