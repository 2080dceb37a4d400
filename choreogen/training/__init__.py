"""Training room: one Lightning runner for every model (see runner.py)."""
