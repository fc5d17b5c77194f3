#!/usr/bin/env python3
"""How the resource graph's build time grows with the size of a scan.

    python bench/graph_scale.py [--objects 5000] [--repeat 3]

Generates three scans of N, 2N and 4N objects (default N = 5,000, so up to 20,000): tenants, each with a
namespace, a model server Deployment behind a Service and an Ingress, a ServiceAccount annotated for IRSA,
a Role and RoleBinding, NetworkPolicies, Istio policies and routes, a PVC and a ConfigMap, plus, in a
Terraform folder, the tenant's IAM role, policy and model bucket. Each scan is loaded once (not timed),
then ``ResourceGraph.build`` is timed (best of --repeat). Linear growth means a steady time per object.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from pathlib import Path

from servegate.model.graph import ResourceGraph
from servegate.scan import ScanOptions, scan

TENANT_YAML = """\
apiVersion: v1
kind: Namespace
metadata: {{name: t{i}, labels: {{istio-injection: enabled}}}}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: server
  namespace: t{i}
  annotations: {{eks.amazonaws.com/role-arn: "arn:aws:iam::123456789012:role/t{i}-serving"}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: read-config, namespace: t{i}}}
rules: [{{apiGroups: [""], resources: ["configmaps"], verbs: ["get"]}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: server, namespace: t{i}}}
subjects: [{{kind: ServiceAccount, name: server, namespace: t{i}}}]
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: read-config}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: model, namespace: t{i}}}
spec:
  selector: {{matchLabels: {{app: model, version: v1}}}}
  template:
    metadata: {{labels: {{app: model, version: v1}}}}
    spec:
      serviceAccountName: server
      containers:
      - name: triton
        image: nvcr.io/nvidia/tritonserver:25.08-py3
        args: ["tritonserver", "--model-repository=s3://t{i}-models/model/v1"]
        ports: [{{containerPort: 8000, name: http}}]
        volumeMounts: [{{name: cache, mountPath: /cache}}]
      volumes: [{{name: cache, persistentVolumeClaim: {{claimName: cache}}}}]
---
apiVersion: v1
kind: Service
metadata: {{name: model, namespace: t{i}}}
spec:
  selector: {{app: model}}
  ports: [{{port: 80, targetPort: http}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: model, namespace: t{i}}}
spec:
  rules:
  - host: t{i}.example.com
    http:
      paths: [{{path: /v2/models/model/infer, pathType: Exact, backend: {{service: {{name: model, port: {{number: 80}}}}}}}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: default-deny, namespace: t{i}}}
spec: {{podSelector: {{}}, policyTypes: [Ingress, Egress]}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: model, namespace: t{i}}}
spec:
  podSelector: {{matchLabels: {{app: model}}}}
  ingress: [{{from: [{{namespaceSelector: {{matchLabels: {{name: ingress}}}}}}]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {{name: allow-nothing, namespace: t{i}}}
spec: {{}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: model, namespace: t{i}}}
spec:
  host: model
  subsets: [{{name: v1, labels: {{version: v1}}}}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: cache, namespace: t{i}}}
spec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 10Gi}}}}}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: config, namespace: t{i}}}
data: {{log-level: info}}
"""
TENANT_TF = """\
resource "aws_s3_bucket" "t{i}" {{
  bucket = "t{i}-models"
}}
resource "aws_iam_role" "t{i}" {{
  name               = "t{i}-serving"
  assume_role_policy = "{{}}"
}}
resource "aws_iam_role_policy" "t{i}" {{
  role   = aws_iam_role.t{i}.name
  policy = jsonencode({{ Statement = [{{ Effect = "Allow", Action = "s3:GetObject", Resource = "${{aws_s3_bucket.t{i}.arn}}/model/*" }}] }})
}}
"""
OBJECTS_PER_TENANT = TENANT_YAML.count("\nkind: ") + 1 + TENANT_TF.count("resource ")


def generate(folder: Path, objects: int) -> int:
    tenants = max(1, objects // OBJECTS_PER_TENANT)
    (folder / "k8s").mkdir(parents=True)
    (folder / "infra").mkdir()
    per_file = 50
    for start in range(0, tenants, per_file):
        chunk = range(start, min(start + per_file, tenants))
        (folder / "k8s" / f"tenants-{start:05d}.yaml").write_text("---\n".join(TENANT_YAML.format(i=i) for i in chunk))
        (folder / "infra" / f"tenants-{start:05d}.tf").write_text("".join(TENANT_TF.format(i=i) for i in chunk))
    return tenants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=5000, help="objects in the smallest scan (1x)")
    parser.add_argument("--repeat", type=int, default=3, help="builds per scan; the best is reported")
    args = parser.parse_args()
    print(f"{'scale':>5} {'objects':>8} {'edges':>8} {'build s':>8} {'us/object':>10} {'vs 1x':>6}")
    base = None
    for scale in (1, 2, 4):
        with tempfile.TemporaryDirectory() as tmp:
            generate(Path(tmp), args.objects * scale)
            result = scan([Path(tmp)], ScanOptions(rules=()))
            assert not result.errors, result.errors[:3]
            inventory = result.inventory
            best, graph = float("inf"), None
            for _ in range(args.repeat):
                graph = None
                gc.collect()  # start each build from the same heap: earlier builds' garbage is not its cost
                started = time.perf_counter()
                graph = ResourceGraph.build(inventory, inventory.terraform)
                best = min(best, time.perf_counter() - started)
            per_object = best / result.objects * 1e6
            base = base or per_object
            print(f"{scale:>4}x {result.objects:>8} {len(graph.edges):>8} {best:>8.2f} {per_object:>10.1f} "
                  f"{per_object / base:>6.2f}")


if __name__ == "__main__":
    main()
