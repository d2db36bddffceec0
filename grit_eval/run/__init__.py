"""The evaluation run: prediction store, runner, run directory and manifest."""
