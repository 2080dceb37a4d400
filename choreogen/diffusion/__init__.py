"""diffusion room."""
