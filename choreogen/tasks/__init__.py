"""Task rooms: each task is a thin composition of the shared rooms.

* :mod:`.dance3d` -- music -> SMPL dance by diffusion (EDGE/GCDance): config, Lightning module,
  pipeline object, long-form sampling, editing, post-processing;
* :mod:`.skeleton` -- DanceFusion: skeleton repair VAE and audio-driven skeleton generation.

Only ``cli`` (and a future ``web``) import this room; shared rooms never import it.
"""
