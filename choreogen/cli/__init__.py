"""Command-line interface (typer). Entry point: :func:`choreogen.cli.app.main`."""
