"""A run's files: checkpoints (read safely), exported weights, result.json, run-folder helpers."""
