"""Applications the run_app, CLI and gunicorn tests serve in subprocesses."""
