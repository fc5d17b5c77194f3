"""Automatic fixes: rules attach symbolic operations to their hits (``model``); the planners turn them into
minimal text edits against the scanned files (``yaml_patch``, ``hcl_patch``, ``resolve``); the engine applies
them, re-parses and re-scans (``engine``)."""
