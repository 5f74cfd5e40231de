"""A sweep's W&B workspace and report: the spec, its rendering, publishing, offline runs."""
