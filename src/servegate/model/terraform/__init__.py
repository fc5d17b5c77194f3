"""Terraform, evaluated statically the way Terraform would, without running anything."""

from __future__ import annotations


def looks_like_plan(text: str) -> bool:
    """A JSON plan (`terraform show -json`): told apart from other JSON without reading the HCL model."""
    head = text[:4096]
    return '"format_version"' in head and ('"planned_values"' in text or '"resource_changes"' in text)
