"""The rule registry: every family, listed explicitly, in documentation order."""

from __future__ import annotations

from servegate.rules import artifacts, gpu_workloads, k8s_hardening, ml_apps, model_servers, network, secrets
from servegate.rules import cloud_network
from servegate.rules import aws_ml
from servegate.rules import aws_cloud
from servegate.rules import azure
from servegate.rules import gcp
from servegate.rules import mesh
from servegate.rules import graph
from servegate.rules.base import Rule

FAMILIES = (
    model_servers.rules,
    ml_apps.rules,
    gpu_workloads.rules,
    network.rules,
    artifacts.rules,
    secrets.rules,
    k8s_hardening.rules,
    cloud_network.rules,
    aws_ml.rules,
    aws_cloud.rules,
    azure.rules,
    gcp.rules,
    mesh.rules,
    graph.rules,
)

REGISTRY: tuple[Rule, ...] = tuple(rule for family in FAMILIES for rule in family)
BY_ID: dict[str, Rule] = {rule.id: rule for rule in REGISTRY}

if len(BY_ID) != len(REGISTRY):
    raise RuntimeError("duplicate rule ids in the registry")
