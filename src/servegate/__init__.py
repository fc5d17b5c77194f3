"""servegate: a static security auditor for ML model-serving infrastructure-as-code."""

__version__ = "0.1.0"
