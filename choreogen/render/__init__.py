"""Fast mp4 rendering of motions (numpy + OpenCV drawing, ffmpeg H.264 encoding with music).

Entry point: :func:`render_motion`. Submodules: ``camera`` (follow camera), ``draw`` (floor, shadow,
figure), ``encoder`` (ffmpeg pipe, media probing), ``video`` (the frame loop).
"""
from .video import render_motion, resolve_music

__all__ = ["render_motion", "resolve_music"]
