"""Terraform, evaluated statically the way Terraform would, without running anything."""
