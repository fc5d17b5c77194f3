"""MLS-AWS, MLS-LOG-001, MLS-SEC-003, MLS-IAM-004/005: SageMaker and Bedrock, as Terraform declares them.

Every check reads one evaluated resource instance (``TfResource``) and follows references through the
``TfInventory``: the role a model runs as, the policies attached to that role, the log group an endpoint
writes to. Attributes left out mean the provider default (``defaults.setting``); a value the configuration
does not determine statically is reported at low confidence, never silently passed.

Secret values are never echoed: a message shows at most the first four characters, then an ellipsis.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any, Iterator

from servegate.findings import Applicability, Confidence, Severity
from servegate.fix.model import AddResource, DeclareVariable, SetAttribute, SymbolicFix, safe, unsafe
from servegate.model.terraform.config import TfResource
from servegate.model.terraform.defaults import setting
from servegate.model.terraform.evaluator import references
from servegate.model.terraform.iam import Statement, matches, parse_policy
from servegate.model.terraform.inventory import TfInventory
from servegate.model.terraform.values import Unknown
from servegate.rules.artifacts import COMMIT, HUB_ID, TRUTHY
from servegate.rules.base import Hit, RelatedHit, RuleSet, Scope
from servegate.rules.secrets import TOKEN_NAMES, is_placeholder, mask, shape_of
from servegate.sources import hcl_ast as ast
from servegate.sources.embedded import decode_json, load_embedded

rules = RuleSet("aws-ml")

CIS_AWS = "CIS AWS Foundations Benchmark v3.0"
ML_LENS = "AWS Well-Architected Machine Learning Lens"
TF_DOCS = "Terraform AWS provider documentation"

# ---------------------------------------------------------------------------------------------------
# Small, total helpers over evaluated values (which may be Unknown anywhere)
# ---------------------------------------------------------------------------------------------------

# Names whose values come from outside the configuration's text: other resources' attributes (known after
# apply, or generated like random_password), data sources (Secrets Manager) and module outputs. Everything
# else an expression can name (var, local, each, count, for and dynamic iterators) is written in the code.
PROVIDER_PREFIXES = ("aws_", "awscc_", "google_", "azurerm_", "azapi_", "azuread_", "kubernetes_", "helm_", "random_",
                     "tls_", "null_", "time_", "external", "http", "vault_", "tfe_", "terraform_data")


def _external(root: str) -> bool:
    return root in ("data", "module") or root.startswith(PROVIDER_PREFIXES)


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _bool(value: Any) -> bool | None:
    """Terraform converts "true"/"false" strings to bool where a bool is expected."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _reason(value: Any) -> str:
    if isinstance(value, Unknown):
        return value.reason
    return "not known statically"


def _refers_outside(resource: TfResource, path: tuple) -> bool:
    """Does the expression at ``path`` reference a resource, data source or module output?"""
    try:
        refs = resource.references_of(path)
    except Exception:  # noqa: BLE001 - plan resources carry no expressions
        return False
    return any(_external(root) for root, _ in refs)


def _presence(resource: TfResource, *path: str | int) -> tuple[str, Any]:
    """("set" | "unset" | "unknown", value) of an optional attribute such as a KMS key.

    A reference to another resource's computed attribute (``aws_kms_key.models.arn``) is set even though
    its value is known only after apply; an unknown variable may still turn out null, so it stays unknown.
    """
    value = resource.get(*path)
    if value is None or value == "" or value == []:
        return "unset", value
    if isinstance(value, Unknown):
        if value.ref or _refers_outside(resource, tuple(path)):
            return "set", value
        return "unknown", value
    return "set", value


def _expr(resource: TfResource, path: tuple) -> ast.Expr | None:
    expressions = getattr(resource, "expressions", None) or {}
    return expressions.get(tuple(path))


def _attr_line(resource: TfResource, path: tuple) -> int | None:
    spans = getattr(resource, "spans", None) or {}
    span = spans.get(tuple(path))
    return span[0] if span else None


def _offset(resource: TfResource, path: tuple, line: int | None) -> int | None:
    """``scalar_line`` that moves a finding from the attribute at ``path`` to ``line`` of the same file."""
    start = _attr_line(resource, path)
    if start is None or line is None or line < start:
        return None
    return line - start or None


def _object_item(expr: ast.Expr | None, key: str) -> ast.Expr | None:
    """The value expression of ``key`` in an object constructor ``{ KEY = value }``."""
    if isinstance(expr, ast.Call) and expr.name in ("merge", "tomap") and expr.args:
        for arg in reversed(expr.args):
            found = _object_item(arg, key)
            if found is not None:
                return found
        return None
    if not isinstance(expr, ast.ObjectExpr):
        return None
    for k, v in expr.items:
        name = k.value if isinstance(k, ast.Literal) else None
        if name is None and isinstance(k, ast.Template) and all(isinstance(p, str) for p in k.parts):
            name = "".join(k.parts)
        if name is None and isinstance(k, ast.Variable):
            name = k.name
        if name == key:
            return v
    return None


def _key_offset(resource: TfResource, path: tuple, key: str) -> int | None:
    """Line offset of ``key`` inside the object written at ``path`` (one finding per map entry)."""
    item = _object_item(_expr(resource, path), key)
    if item is None:
        return None
    return _offset(resource, path, getattr(item, "span", ast.NO_SPAN)[0])


def _tuple_offset(resource: TfResource, path: tuple, index: int) -> int | None:
    expr = _expr(resource, path)
    if isinstance(expr, ast.TupleExpr) and 0 <= index < len(expr.items):
        return _offset(resource, path, expr.items[index].span[0])
    return None


def _heredoc_text(expr: ast.Expr | None) -> ast.Expr | None:
    """The multi-line string literal an attribute is made of, through base64encode() and friends."""
    while isinstance(expr, ast.Call) and expr.name in ("base64encode", "trimspace", "chomp") and expr.args:
        expr = expr.args[0]
    if isinstance(expr, (ast.Literal, ast.Template)) and expr.span[2] > expr.span[0]:
        return expr
    return None


def _text_offset(resource: TfResource, path: tuple, line_in_text: int) -> int | None:
    """Line offset of line ``line_in_text`` of a heredoc written at ``path`` (content starts one line down)."""
    heredoc = _heredoc_text(_expr(resource, path))
    if heredoc is None:
        return None
    return _offset(resource, path, heredoc.span[0] + 1 + line_in_text)


def _literal_strings(expr: Any) -> Iterator[str]:
    """Every literal string written inside an expression (format strings, template text, object values)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Literal):
            if isinstance(node.value, str):
                yield node.value
        elif isinstance(node, ast.Template):
            for part in node.parts:
                if isinstance(part, str):
                    yield part
                else:
                    stack.append(part)
        elif isinstance(node, ast.Call):
            stack.extend(node.args)
        elif isinstance(node, ast.TupleExpr):
            stack.extend(node.items)
        elif isinstance(node, ast.ObjectExpr):
            for k, v in node.items:
                stack.extend((k, v))
        elif isinstance(node, ast.Conditional):
            stack.extend((node.true, node.false))
        elif isinstance(node, ast.Binary):
            stack.extend((node.left, node.right))
        elif isinstance(node, (ast.TemplateIf,)):
            stack.extend(p for p in (*node.then, *node.otherwise) if not isinstance(p, str))
            yield from (p for p in (*node.then, *node.otherwise) if isinstance(p, str))


def _root(resource: TfResource) -> Any:
    """The root module instance a resource belongs to (one configuration); for plan-only resources, the plan."""
    module = resource.module
    while getattr(module, "parent", None) is not None:
        module = module.parent
    if not hasattr(module, "dir"):  # a resource known only from a plan file
        return ("plan", resource.file)
    return module


def _root_key(resource: TfResource) -> Any:
    root = _root(resource)
    return root if isinstance(root, tuple) else id(root)


def _sort_key(resource: TfResource) -> tuple:
    return resource.file, resource.block.span[0] if resource.block is not None else 0, resource.address


def _tags(resource: TfResource) -> dict[str, str]:
    return {str(k).lower(): v.lower() for k, v in _dict(resource.get("tags")).items() if isinstance(v, str)}


NON_PRODUCTION = frozenset({"dev", "development", "test", "testing", "sandbox", "qa", "demo", "poc", "experiment"})


def _non_production(resource: TfResource) -> bool:
    """Tagged explicitly as a non-production environment."""
    tags = _tags(resource)
    return any(tags.get(k) in NON_PRODUCTION for k in ("environment", "env", "stage", "tier"))


def _kms_phrase(state: str, value: Any) -> str:
    """Completes "<resource> <attribute> ...": the attribute is missing, or its value is not known."""
    return f"is set to a value not known statically ({_reason(value)})" if state == "unknown" else "is not set"


def _lacks(where: str, attribute: str, state: str, value: Any) -> str:
    if state == "unknown":
        return f"{where} sets {attribute} to a value not known statically ({_reason(value)})"
    return f"{where} has no {attribute}"


def _how(setting_: Any, default_text: str) -> str:
    """' = "Enabled"' when written, else ' unset (provider default: ...)'."""
    if setting_.written:
        value = setting_.value
        shown = json.dumps(value) if isinstance(value, (str, bool, int, float)) else str(value)
        return f" = {shown}"
    return f" unset (provider default: {default_text})"


# ---------------------------------------------------------------------------------------------------
# IAM policies anywhere in the configuration
# ---------------------------------------------------------------------------------------------------

POLICY_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "aws_iam_policy": ("policy",),
    "aws_iam_role_policy": ("policy",),
    "aws_iam_user_policy": ("policy",),
    "aws_iam_group_policy": ("policy",),
    "aws_iam_policy_document": ("json",),
}
POLICY_TYPES = tuple(POLICY_ATTRIBUTES) + ("aws_iam_role",)


@dataclass(frozen=True)
class Policy:
    resource: TfResource
    path: tuple
    statements: list[Statement]
    unknown: Unknown | None = None  # the document could not be read


def _policy_paths(resource: TfResource) -> list[tuple]:
    if resource.type == "aws_iam_role":
        return [("inline_policy", i, "policy") for i, _ in enumerate(_list(resource.get("inline_policy")))]
    if resource.type == "aws_iam_policy_document" and resource.mode != "data":
        return []
    attribute = POLICY_ATTRIBUTES.get(resource.type)
    return [attribute] if attribute else []


def _from_document(resource: TfResource, path: tuple, inventory: TfInventory) -> bool:
    """Is the policy at ``path`` built by an ``aws_iam_policy_document`` (which is judged on its own)?"""
    if resource.type == "aws_iam_policy_document":
        return False
    return bool(inventory.referenced(resource, path, "aws_iam_policy_document"))


def policies_of(resource: TfResource) -> list[Policy]:
    out = []
    for path in _policy_paths(resource):
        value = resource.get(*path)
        if value is None:
            continue
        parsed = parse_policy(value)
        if isinstance(parsed, Unknown):
            out.append(Policy(resource, path, [], parsed))
        else:
            out.append(Policy(resource, path, parsed))
    return out


def all_policies(inventory: TfInventory) -> list[Policy]:
    return inventory.memo("aws_ml.policies",
                          lambda: [p for r in inventory.of_type(*POLICY_TYPES) for p in policies_of(r)])


def _allowed(statements: list[Statement], action: str) -> list[Statement]:
    """Allow statements covering ``action``, unless a Deny statement on every resource takes it back."""
    if any(s.effect == "Deny" and s.allows_action(action) and "*" in s.resources and not s.conditions
           for s in statements):
        return []
    return [s for s in statements if s.allows and s.allows_action(action)]


def _on_everything(statement: Statement, pattern: str = "") -> bool:
    """Resource ``*`` (or a pattern that covers every resource of the kind, e.g. ``...:role/*``)."""
    if statement.not_resources:
        return True
    for resource in statement.resources:
        if resource == "*":
            return True
        if pattern and re.fullmatch(pattern, resource):
            return True
    return False


# ---------------------------------------------------------------------------------------------------
# Fix builders: the Terraform attributes an automatic fix sets (``servegate.fix`` writes them)
# ---------------------------------------------------------------------------------------------------

KMS_VARIABLE = "kms_key_arn"


def _kms_fixes(path: tuple) -> tuple[SymbolicFix, ...]:
    """A customer-managed key the module takes as a variable: the caller supplies its ARN."""
    return (unsafe(f"encrypt with a customer-managed key: {path[-1]} = var.{KMS_VARIABLE}",
                   SetAttribute(path, f"var.{KMS_VARIABLE}"),
                   DeclareVariable(KMS_VARIABLE, description="ARN of the customer-managed KMS key for ML data")),)


def _setting_fix(resource: TfResource, path: tuple, value: str, title: str,
                 applicability: Applicability = Applicability.UNSAFE) -> tuple[SymbolicFix, ...]:
    """``path = value``; overriding an expression (a variable, a conditional) is never called safe."""
    written = _expr(resource, path)
    if written is not None and not isinstance(written, ast.Literal):
        applicability = Applicability.UNSAFE
    maker = safe if applicability is Applicability.SAFE else unsafe
    return (maker(title, SetAttribute(path, value)),)


def _free_label(resource: TfResource, type_: str, label: str) -> str:
    """A resource label of ``type_`` not yet used in the resource's module."""
    taken = {tuple(b.labels) for b, _ in resource.module.dir.blocks("resource")} if hasattr(resource.module, "dir") \
        else set()
    candidate, number = label, 2
    while (type_, candidate) in taken:
        candidate, number = f"{label}_{number}", number + 1
    return candidate


# ---------------------------------------------------------------------------------------------------
# MLS-AWS-001 · SageMaker model without network isolation or VPC placement
# ---------------------------------------------------------------------------------------------------

OPEN_CIDRS = frozenset({"0.0.0.0/0", "::/0"})


def _open_egress(resource: TfResource, inventory: TfInventory, path: tuple) -> list[TfResource]:
    """Security groups at ``path`` that allow egress to anywhere (inline rules or separate rule resources)."""
    found = []
    for group in inventory.referenced(resource, path, "aws_security_group"):
        open_ = any(OPEN_CIDRS & set(_list(e.get("cidr_blocks")) + _list(e.get("ipv6_cidr_blocks")))
                    for e in map(_dict, _list(group.get("egress"))))
        for rule in inventory.attached(group, ("aws_security_group_rule",), "security_group_id"):
            if rule.get("type") == "egress" and OPEN_CIDRS & set(_list(rule.get("cidr_blocks")) +
                                                                 _list(rule.get("ipv6_cidr_blocks"))):
                open_ = True
        for rule in inventory.attached(group, ("aws_vpc_security_group_egress_rule",), "security_group_id"):
            if rule.get("cidr_ipv4") in OPEN_CIDRS or rule.get("cidr_ipv6") in OPEN_CIDRS:
                open_ = True
        if open_:
            found.append(group)
    return found


@rules.rule(
    id="MLS-AWS-001", name="sagemaker-model-network-isolation",
    title="SageMaker model without network isolation or VPC placement",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=("aws_sagemaker_model",),
    rationale="""
        A SageMaker inference container without `enable_network_isolation` can open outbound connections:
        a compromised or malicious model (pickle payload, `trust_remote_code`, a poisoned dependency) can
        send the weights it serves and the requests it receives anywhere, or fetch a second stage. Without
        `vpc_config` the container runs in a SageMaker-managed network with internet access that no
        security group, VPC endpoint policy or flow log of yours controls.""",
    remediation="""
        Set `enable_network_isolation = true` (SageMaker still downloads the model artifact and image for
        the container). If the container must reach VPC resources, place it in private subnets with
        `vpc_config { subnets, security_group_ids }` whose security groups allow egress only to the VPC
        endpoints it needs (S3, ECR, CloudWatch Logs), never to 0.0.0.0/0.""",
    bad="""
        resource "aws_sagemaker_model" "fraud" {
          name               = "fraud-v3"
          execution_role_arn = aws_iam_role.fraud_endpoint.arn
          primary_container {
            image          = var.image
            model_data_url = "s3://acme-ml-models-prod/fraud/v3/model.tar.gz"
          }
        }""",
    good="""
        resource "aws_sagemaker_model" "fraud" {
          name                     = "fraud-v3"
          execution_role_arn       = aws_iam_role.fraud_endpoint.arn
          enable_network_isolation = true
          vpc_config {
            subnets            = var.private_subnet_ids
            security_group_ids = [aws_security_group.sm_endpoint.id]
          }
          primary_container {
            image          = var.image_digest
            model_data_url = "s3://acme-ml-models-prod/fraud/v3/model.tar.gz"
          }
        }""",
    references=("OWASP ML05:2023 Model Theft", "OWASP LLM02:2025 Sensitive Information Disclosure",
                "MITRE ATLAS AML.T0025", "MITRE ATLAS AML.T0072",
                f"{ML_LENS}: security pillar (network isolation of ML workloads)",
                "AWS SageMaker documentation: Run Training and Inference Containers in Internet-Free Mode",
                f"{TF_DOCS}: aws_sagemaker_model (enable_network_isolation, vpc_config)"),
)
def sagemaker_model_isolation(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    where = resource.address
    fixes = _setting_fix(resource, ("enable_network_isolation",), "true", "set enable_network_isolation = true")
    isolation = setting(resource, "enable_network_isolation")
    if isolation.unknown:
        yield Hit(("enable_network_isolation",),
                  f"{where} sets enable_network_isolation to a value not known statically "
                  f"({_reason(isolation.value)}); unless it is true the inference container can open outbound "
                  "connections", confidence=Confidence.LOW, fixes=fixes)
        return
    if _bool(isolation.value) is True:
        return
    how = _how(isolation, "false")
    vpc = [v for v in _list(resource.get("vpc_config")) if isinstance(v, dict)]
    if not vpc:
        yield Hit(("enable_network_isolation",),
                  f"{where} has enable_network_isolation{how} and no vpc_config: the inference container has "
                  "unrestricted outbound internet access from a network no security group of yours controls",
                  fixes=fixes)
        return
    open_groups = _open_egress(resource, inventory, ("vpc_config", 0, "security_group_ids"))
    if open_groups:
        names = ", ".join(g.address for g in open_groups)
        yield Hit(("enable_network_isolation",),
                  f"{where} has enable_network_isolation{how} and its vpc_config security group {names} allows "
                  "egress to 0.0.0.0/0: the inference container can send data anywhere the subnets route",
                  related=tuple(RelatedHit(g, ("egress",), "security group allowing egress to anywhere")
                                for g in open_groups), fixes=fixes)
        return
    yield Hit(("enable_network_isolation",),
              f"{where} has enable_network_isolation{how}; it runs in a VPC (vpc_config), so its egress is limited "
              "to what the subnets and security groups allow, but the container can still open outbound "
              "connections", severity=Severity.MEDIUM, fixes=fixes)


# ---------------------------------------------------------------------------------------------------
# MLS-AWS-002 · endpoint storage / async output not encrypted with a customer key
# ---------------------------------------------------------------------------------------------------

# Instance families with NVMe instance storage: their volumes are encrypted in hardware, and
# CreateEndpointConfig rejects a KmsKeyId when any variant uses one.
LOCAL_STORAGE_FAMILIES = frozenset({"g5", "g6", "g6e", "gr6", "p5", "p5e", "p5en", "p6", "trn1", "trn1n", "trn2"})
INSTANCE_FAMILY = re.compile(r"^ml\.([a-z]+[0-9]+[a-z-]*)\.")


def _local_storage(instance_type: Any) -> bool:
    match = INSTANCE_FAMILY.match(instance_type) if isinstance(instance_type, str) else None
    if match is None:
        return False
    family = match.group(1)
    suffix = re.sub(r"^[a-z]+[0-9]+", "", family)
    return family in LOCAL_STORAGE_FAMILIES or family.split("-")[0] in LOCAL_STORAGE_FAMILIES or "d" in suffix


def _variants(resource: TfResource) -> list[tuple[str, int, dict]]:
    return [(block, i, v) for block in ("production_variants", "shadow_production_variants")
            for i, v in enumerate(_list(resource.get(block))) if isinstance(v, dict)]


def _serverless(variant: dict) -> bool:
    return bool(_list(variant.get("serverless_config")))


@rules.rule(
    id="MLS-AWS-002", name="sagemaker-endpoint-storage-kms",
    title="SageMaker endpoint storage or async output not encrypted with a customer-managed KMS key",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=("aws_sagemaker_endpoint_configuration",),
    rationale="""
        The ML storage volume of an endpoint instance holds the unpacked model weights and whatever the
        container writes to `/opt/ml` and `/tmp`; asynchronous inference writes every response (and failure
        payload) to S3. Without a customer-managed key, the volume is encrypted with a transient key and the
        async output with the account's default S3 key: nobody can audit who decrypts them, revoke access
        by disabling the key, or keep weights and payloads away from principals with broad S3 read.""",
    remediation="""
        Set `kms_key_arn` on the endpoint configuration to a customer-managed key (not for instance types
        with NVMe instance storage such as ml.g5 or ml.p4d, whose volumes are encrypted in hardware and for
        which SageMaker rejects a key), and `async_inference_config.output_config.kms_key_id` for
        asynchronous endpoints. Grant `kms:Decrypt`/`kms:GenerateDataKey` only to the endpoint role.""",
    bad="""
        resource "aws_sagemaker_endpoint_configuration" "fraud" {
          name = "fraud-v3"
          production_variants {
            variant_name  = "primary"
            model_name    = aws_sagemaker_model.fraud.name
            instance_type = "ml.c5.2xlarge"
          }
          async_inference_config {
            output_config { s3_output_path = "s3://acme-ml-async/fraud/" }
          }
        }""",
    good="""
        resource "aws_sagemaker_endpoint_configuration" "fraud" {
          name        = "fraud-v3"
          kms_key_arn = aws_kms_key.sagemaker.arn
          production_variants {
            variant_name  = "primary"
            model_name    = aws_sagemaker_model.fraud.name
            instance_type = "ml.c5.2xlarge"
          }
          async_inference_config {
            output_config {
              s3_output_path = "s3://acme-ml-async/fraud/"
              kms_key_id     = aws_kms_key.sagemaker.arn
            }
          }
        }""",
    references=("OWASP ML05:2023 Model Theft", "OWASP LLM02:2025 Sensitive Information Disclosure",
                f"{ML_LENS}: security pillar (encryption of ML data at rest)",
                "AWS SageMaker API reference: CreateEndpointConfig (KmsKeyId, local instance storage)",
                f"{TF_DOCS}: aws_sagemaker_endpoint_configuration (kms_key_arn, "
                "async_inference_config.output_config.kms_key_id)"),
)
def sagemaker_endpoint_kms(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    where = resource.address
    variants = _variants(resource)
    local = sorted({str(v.get("instance_type")) for _, _, v in variants if _local_storage(v.get("instance_type"))})
    state, value = _presence(resource, "kms_key_arn")
    if state != "set" and not local:
        unknown_type = any(isinstance(v.get("instance_type"), Unknown) for _, _, v in variants)
        confidence = Confidence.LOW if state == "unknown" or unknown_type else None
        extra = " (an instance type is not known statically; instance types with NVMe storage need no key)" \
            if unknown_type else ""
        yield Hit(("kms_key_arn",),
                  f"{_lacks(where, 'kms_key_arn', state, value)}: the ML storage volume holding the model weights "
                  f"on every endpoint instance is encrypted with a transient key, not a customer-managed KMS key"
                  f"{extra}", confidence=confidence, fixes=_kms_fixes(("kms_key_arn",)) if state == "unset" else ())
    for index, config in enumerate(_list(resource.get("async_inference_config"))):
        for out_index, output in enumerate(_list(_dict(config).get("output_config"))):
            path = ("async_inference_config", index, "output_config", out_index, "kms_key_id")
            state, value = _presence(resource, *path)
            if state == "set":
                continue
            target = _str(_dict(output).get("s3_output_path")) or "its S3 output path"
            yield Hit(path,
                      f"{where} writes asynchronous inference results to {target} and kms_key_id "
                      f"{_kms_phrase(state, value)}: responses are encrypted only with the account's default S3 key",
                      confidence=Confidence.LOW if state == "unknown" else None,
                      fixes=_kms_fixes(path) if state == "unset" else ())


# ---------------------------------------------------------------------------------------------------
# MLS-AWS-003 · data capture disabled or unencrypted
# ---------------------------------------------------------------------------------------------------

@rules.rule(
    id="MLS-AWS-003", name="sagemaker-endpoint-data-capture",
    title="SageMaker endpoint data capture disabled or unencrypted",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=("aws_sagemaker_endpoint_configuration",),
    rationale="""
        Data capture is the only record SageMaker keeps of what an endpoint was asked and what it answered.
        Without it there is no evidence to investigate model extraction, prompt injection or abuse, and no
        input for Model Monitor to detect drift or poisoning. Captured payloads are as sensitive as the
        requests themselves, so they need a customer-managed key.""",
    remediation="""
        Add `data_capture_config { enable_capture = true, initial_sampling_percentage > 0,
        destination_s3_uri, kms_key_id = <customer-managed key>, capture_options { capture_mode =
        "InputAndOutput" } }` to production endpoint configurations, and write captures to a private,
        versioned bucket. Tag non-production configurations (`Environment = "dev"`) to exempt them.""",
    bad="""
        resource "aws_sagemaker_endpoint_configuration" "fraud" {
          name = "fraud-v3"
          production_variants { model_name = aws_sagemaker_model.fraud.name  instance_type = "ml.c5.xlarge" }
          data_capture_config {
            enable_capture              = true
            initial_sampling_percentage = 100
            destination_s3_uri          = "s3://acme-ml-capture/fraud"
            capture_options { capture_mode = "InputAndOutput" }
          }
        }""",
    good="""
        data_capture_config {
          enable_capture              = true
          initial_sampling_percentage = 100
          destination_s3_uri          = "s3://acme-ml-capture/fraud"
          kms_key_id                  = aws_kms_key.capture.arn
          capture_options { capture_mode = "InputAndOutput" }
        }""",
    references=("OWASP ML01:2023 Input Manipulation Attack", "OWASP ML08:2023 Model Skewing",
                "OWASP ML05:2023 Model Theft", "OWASP LLM10:2025 Unbounded Consumption",
                "MITRE ATLAS AML.T0024", "MITRE ATLAS AML.T0029",
                f"{ML_LENS}: security pillar (monitoring of model inputs and outputs)",
                f"{TF_DOCS}: aws_sagemaker_endpoint_configuration (data_capture_config)"),
)
def sagemaker_data_capture(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    where = resource.address
    variants = _variants(resource)
    if variants and all(_serverless(v) for _, _, v in variants):
        return  # serverless endpoints do not support data capture
    captures = [c for c in _list(resource.get("data_capture_config")) if isinstance(c, dict)]
    if not captures:
        if not _non_production(resource):
            yield Hit(("data_capture_config",),
                      f"{where} has no data_capture_config: requests and responses of the endpoint are not recorded, "
                      "so model abuse, extraction attempts and drift cannot be investigated")
        return
    enabled = setting(resource, "data_capture_config", 0, "enable_capture")
    flag = _bool(enabled.value)
    if enabled.unknown:
        yield Hit(("data_capture_config", 0, "enable_capture"),
                  f"{where} sets data_capture_config.enable_capture to a value not known statically "
                  f"({_reason(enabled.value)})", confidence=Confidence.LOW)
    elif flag is not True:
        how = _how(enabled, "false")
        if not _non_production(resource):
            yield Hit(("data_capture_config", 0, "enable_capture"),
                      f"{where} has data_capture_config.enable_capture{how}: nothing is captured",
                      fixes=_setting_fix(resource, ("data_capture_config", 0, "enable_capture"), "true",
                                         "set data_capture_config.enable_capture = true", Applicability.SAFE))
        return
    percentage = resource.get("data_capture_config", 0, "initial_sampling_percentage")
    if isinstance(percentage, (int, float)) and not isinstance(percentage, bool) and percentage <= 0:
        yield Hit(("data_capture_config", 0, "initial_sampling_percentage"),
                  f"{where} captures data with initial_sampling_percentage = {percentage}: nothing is sampled")
    state, value = _presence(resource, "data_capture_config", 0, "kms_key_id")
    if state != "set":
        target = _str(resource.get("data_capture_config", 0, "destination_s3_uri")) or "S3"
        yield Hit(("data_capture_config", 0, "kms_key_id"),
                  f"{where} captures inference requests and responses to {target} and data_capture_config.kms_key_id "
                  f"{_kms_phrase(state, value)}: captured payloads are not encrypted with a customer-managed key",
                  confidence=Confidence.LOW if state == "unknown" or enabled.unknown else None,
                  fixes=_kms_fixes(("data_capture_config", 0, "kms_key_id")) if state == "unset" else ())


# ---------------------------------------------------------------------------------------------------
# MLS-AWS-004 · SSM access on production variants
# ---------------------------------------------------------------------------------------------------

def _ssm_session_anywhere(inventory: TfInventory) -> list[TfResource]:
    return inventory.memo("aws_ml.ssm", lambda: [
        p.resource for p in all_policies(inventory)
        if any(_on_everything(s) for s in _allowed(p.statements, "ssm:StartSession"))])


@rules.rule(
    id="MLS-AWS-004", name="sagemaker-variant-ssm-access",
    title="Interactive SSM access enabled on SageMaker production variants",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=("aws_sagemaker_endpoint_configuration",),
    rationale="""
        `enable_ssm_access = true` lets anyone allowed to start an SSM session open a shell inside the
        model container on the endpoint hosts, bypassing the inference API: they can copy the weights,
        read the requests in flight and use the execution role's credentials. It is a debugging aid
        that does not belong on production variants.""",
    remediation="""
        Remove `enable_ssm_access` (disabled by default) from production and shadow variants; when a
        shell is needed, use a separate debug endpoint configuration and a time-boxed IAM policy that
        allows `ssm:StartSession` on that endpoint's targets only.""",
    bad="""
        production_variants {
          variant_name      = "primary"
          model_name        = aws_sagemaker_model.fraud.name
          instance_type     = "ml.g5.2xlarge"
          enable_ssm_access = true
        }""",
    good="""
        production_variants {
          variant_name  = "primary"
          model_name    = aws_sagemaker_model.fraud.name
          instance_type = "ml.g5.2xlarge"
        }""",
    references=("MITRE ATLAS AML.T0044", "MITRE ATLAS AML.T0037", "OWASP ML05:2023 Model Theft",
                f"{TF_DOCS}: aws_sagemaker_endpoint_configuration (production_variants.enable_ssm_access)"),
)
def sagemaker_ssm_access(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for block, index, variant in _variants(resource):
        value = variant.get("enable_ssm_access")
        path = (block, index, "enable_ssm_access")
        name = _str(variant.get("variant_name")) or f"{block}[{index}]"
        if isinstance(value, Unknown):
            yield Hit(path, f"{resource.address} variant {name} sets enable_ssm_access to a value not known "
                            f"statically ({_reason(value)})", confidence=Confidence.LOW)
            continue
        if _bool(value) is not True:
            continue
        anyone = _ssm_session_anywhere(inventory)
        if anyone:
            yield Hit(path, f"{resource.address} variant {name} has enable_ssm_access = true and "
                            f"{anyone[0].address} allows ssm:StartSession on every target: its holders get a shell "
                            "in the model container", severity=Severity.HIGH,
                      related=(RelatedHit(anyone[0], (), "policy allowing ssm:StartSession on *"),))
        else:
            yield Hit(path, f"{resource.address} variant {name} has enable_ssm_access = true: principals allowed "
                            "to start SSM sessions get a shell in the model container, past the inference API")


# ---------------------------------------------------------------------------------------------------
# Lifecycle scripts (notebook instances, Studio): decoded text, line by line
# ---------------------------------------------------------------------------------------------------

LIFECYCLE_SCRIPTS: dict[str, tuple[str, ...]] = {
    "aws_sagemaker_notebook_instance_lifecycle_configuration": ("on_create", "on_start"),
    "aws_sagemaker_studio_lifecycle_config": ("studio_lifecycle_config_content",),
}


def _decode_script(value: Any) -> str | None:
    """The shell script of a lifecycle configuration (base64 in the API; tolerate plain text)."""
    if not isinstance(value, str) or not value.strip():
        return None
    compact = "".join(value.split())
    if re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", compact) and len(compact) % 4 == 0:
        try:
            return base64.b64decode(compact, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
    return value


def _scripts(resource: TfResource) -> Iterator[tuple[tuple, str]]:
    for attribute in LIFECYCLE_SCRIPTS.get(resource.type, ()):
        text = _decode_script(resource.get(attribute))
        if text is not None:
            yield (attribute,), text


DOWNLOAD_EXEC = (
    (re.compile(r"\b(?:curl|wget)\b[^|;&]*https?://[^|;&]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:ba|z|da)?sh\b"),
     "pipes a download from the internet into a shell"),
    (re.compile(r"\bpip3?\s+install\b[^;&|]*\bgit\+(?:https?|ssh)://"),
     "pip-installs a package straight from a Git URL"),
    (re.compile(r"\bpip3?\s+install\b[^;&|]*\bhttps?://\S+\.(?:whl|tar\.gz|zip)\b"),
     "pip-installs a package archive from a URL"),
    (re.compile(r"\bpip3?\s+install\b[^;&|]*--(?:extra-)?index-url[ =]+http://"),
     "pip-installs from a plain-HTTP package index"),
    (re.compile(r"\bpip3?\s+install\b[^;&|]*--trusted-host\b"), "pip-installs with TLS verification disabled"),
)


# ---------------------------------------------------------------------------------------------------
# MLS-AWS-005 · notebook instance hardening
# ---------------------------------------------------------------------------------------------------

@rules.rule(
    id="MLS-AWS-005", name="sagemaker-notebook-hardening",
    title="SageMaker notebook instance not hardened (internet, root, KMS, IMDS, VPC, lifecycle downloads)",
    severity=Severity.HIGH, scope=Scope.RESOURCE,
    kinds=("aws_sagemaker_notebook_instance", *LIFECYCLE_SCRIPTS),
    rationale="""
        A notebook instance is a Jupyter server running as its execution role, usually with read access to
        training data and model buckets. By default it has direct internet access (data can leave and code
        can come in without passing your VPC controls), gives its users root, keeps its ML volume under an
        AWS-managed key, accepts IMDSv1 (so an SSRF in any notebook server extension leaks the role's
        credentials) and runs outside your VPC. Lifecycle scripts that pipe downloads into a shell run as
        root at every start.""",
    remediation="""
        Set `direct_internet_access = "Disabled"` with `subnet_id` and `security_groups` in a private
        subnet (reach AWS APIs through VPC endpoints), `root_access = "Disabled"`, `kms_key_id` to a
        customer-managed key and `instance_metadata_service_configuration {
        minimum_instance_metadata_service_version = "2" }`. Install packages in lifecycle scripts from a
        private repository (CodeArtifact) with pinned versions, never with `curl | bash`.""",
    bad="""
        resource "aws_sagemaker_notebook_instance" "nb" {
          name          = "ds"
          role_arn      = aws_iam_role.nb.arn
          instance_type = "ml.g5.xlarge"
        }""",
    good="""
        resource "aws_sagemaker_notebook_instance" "nb" {
          name                   = "ds"
          role_arn               = aws_iam_role.nb.arn
          instance_type          = "ml.g5.xlarge"
          direct_internet_access = "Disabled"
          root_access            = "Disabled"
          kms_key_id             = aws_kms_key.nb.arn
          subnet_id              = var.private_subnet_id
          security_groups        = [aws_security_group.nb.id]
          instance_metadata_service_configuration {
            minimum_instance_metadata_service_version = "2"
          }
        }""",
    references=("OWASP ML05:2023 Model Theft", "MITRE ATLAS AML.T0049", "MITRE ATLAS AML.T0055",
                "OWASP ML06:2023 AI Supply Chain Attacks",
                f"{ML_LENS}: security pillar (least-privilege notebook environments)",
                "AWS SageMaker documentation: Connect a Notebook Instance in a VPC to External Resources",
                "AWS Security Hub SageMaker.1, SageMaker.2, SageMaker.3",
                f"{TF_DOCS}: aws_sagemaker_notebook_instance"),
)
def sagemaker_notebook_hardening(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if resource.type in LIFECYCLE_SCRIPTS:
        yield from _lifecycle_downloads(resource)
        return
    where = resource.address
    internet = setting(resource, "direct_internet_access")
    if internet.unknown:
        yield Hit(("direct_internet_access",), f"{where} sets direct_internet_access to a value not known statically "
                                               f"({_reason(internet.value)})", confidence=Confidence.LOW)
    elif str(internet.value) != "Disabled":
        how = _how(internet, '"Enabled"')
        yield Hit(("direct_internet_access",),
                  f"{where} has direct_internet_access{how}: the notebook reaches the internet directly, past "
                  "any VPC egress control, and data can leave it unobserved")
    root = setting(resource, "root_access")
    if root.unknown:
        yield Hit(("root_access",), f"{where} sets root_access to a value not known statically "
                                    f"({_reason(root.value)})", confidence=Confidence.LOW)
    elif str(root.value) != "Disabled":
        how = _how(root, '"Enabled"')
        yield Hit(("root_access",),
                  f"{where} has root_access{how}: every notebook user is root on the instance and can change "
                  "its software, lifecycle behaviour and credentials handling",
                  fixes=_setting_fix(resource, ("root_access",), '"Disabled"', 'set root_access = "Disabled"'))
    state, value = _presence(resource, "kms_key_id")
    if state != "set":
        yield Hit(("kms_key_id",),
                  f"{_lacks(where, 'kms_key_id', state, value)}: the ML storage volume with notebooks, data and "
                  "model files is encrypted with an AWS-managed key, not a customer-managed KMS key",
                  severity=Severity.MEDIUM, confidence=Confidence.LOW if state == "unknown" else None,
                  fixes=_kms_fixes(("kms_key_id",)) if state == "unset" else ())
    imds = setting(resource, "instance_metadata_service_configuration", 0, "minimum_instance_metadata_service_version")
    if imds.unknown:
        yield Hit(("instance_metadata_service_configuration", 0, "minimum_instance_metadata_service_version"),
                  f"{where} sets minimum_instance_metadata_service_version to a value not known statically "
                  f"({_reason(imds.value)})", severity=Severity.MEDIUM, confidence=Confidence.LOW)
    elif str(imds.value) != "2":
        how = _how(imds, '"1"')
        yield Hit(("instance_metadata_service_configuration", 0, "minimum_instance_metadata_service_version"),
                  f"{where} has minimum_instance_metadata_service_version{how}: IMDSv1 is accepted, so a server-side "
                  "request forgery in the notebook server leaks the execution role's credentials",
                  severity=Severity.MEDIUM, fixes=_setting_fix(
                      resource, ("instance_metadata_service_configuration", 0,
                                 "minimum_instance_metadata_service_version"), '"2"',
                      'require IMDSv2: minimum_instance_metadata_service_version = "2"'))
    state, value = _presence(resource, "subnet_id")
    if state != "set":
        yield Hit(("subnet_id",),
                  f"{_lacks(where, 'subnet_id', state, value)}: the notebook runs in a SageMaker-managed network "
                  "outside your VPC, beyond your security groups, VPC endpoint policies and flow logs",
                  severity=Severity.MEDIUM, confidence=Confidence.LOW if state == "unknown" else None)


def _lifecycle_downloads(resource: TfResource) -> Iterator[Hit]:
    for path, text in _scripts(resource):
        for number, line in enumerate(text.splitlines()):
            if line.lstrip().startswith("#"):
                continue
            for pattern, what in DOWNLOAD_EXEC:
                if pattern.search(line):
                    yield Hit(path, f"{resource.address} {path[0]} {what} (`{line.strip()[:120]}`): the script runs "
                                    "as root on the notebook at every start, so whoever controls that URL controls the "
                                    "instance and its role", scalar_line=_text_offset(resource, path, number))
                    break


# ---------------------------------------------------------------------------------------------------
# MLS-AWS-006 · Studio domain
# ---------------------------------------------------------------------------------------------------

SHARING_PATHS = {
    "aws_sagemaker_domain": ("default_user_settings", 0, "sharing_settings", 0),
    "aws_sagemaker_user_profile": ("user_settings", 0, "sharing_settings", 0),
}


@rules.rule(
    id="MLS-AWS-006", name="sagemaker-studio-domain-exposure",
    title="SageMaker Studio domain on the public internet, without a customer-managed key, or sharing notebook "
          "output unencrypted",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=("aws_sagemaker_domain", "aws_sagemaker_user_profile"),
    rationale="""
        With the default `app_network_access_type = "PublicInternetOnly"`, every Studio app (JupyterLab,
        Code Editor, kernels) talks to the internet through SageMaker's network, not your VPC: data can leave
        and packages come in past every egress control. The domain's EFS home volume holds users' notebooks,
        data extracts and credentials files; without `kms_key_id` it is under an AWS-managed key. Shared
        notebook snapshots land in S3 and include cell outputs, often with data samples.""",
    remediation="""
        Set `app_network_access_type = "VpcOnly"` with private `subnet_ids` and VPC endpoints, set
        `kms_key_id` to a customer-managed key, and in `sharing_settings` either set
        `notebook_output_option = "Disabled"` or give `s3_kms_key_id`.""",
    bad="""
        resource "aws_sagemaker_domain" "ml" {
          domain_name = "ml"
          auth_mode   = "IAM"
          vpc_id      = var.vpc_id
          subnet_ids  = var.private_subnet_ids
          default_user_settings { execution_role = aws_iam_role.studio.arn }
        }""",
    good="""
        resource "aws_sagemaker_domain" "ml" {
          domain_name             = "ml"
          auth_mode               = "IAM"
          vpc_id                  = var.vpc_id
          subnet_ids              = var.private_subnet_ids
          app_network_access_type = "VpcOnly"
          kms_key_id              = aws_kms_key.studio.arn
          default_user_settings {
            execution_role = aws_iam_role.studio.arn
            sharing_settings { notebook_output_option = "Disabled" }
          }
        }""",
    references=("OWASP ML05:2023 Model Theft", "MITRE ATLAS AML.T0025",
                f"{ML_LENS}: security pillar (least-privilege notebook environments)",
                "AWS SageMaker documentation: Connect Studio notebooks in a VPC to external resources",
                f"{TF_DOCS}: aws_sagemaker_domain (app_network_access_type, kms_key_id, sharing_settings)"),
)
def sagemaker_studio_domain(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    where = resource.address
    if resource.type == "aws_sagemaker_domain":
        access = setting(resource, "app_network_access_type")
        if access.unknown:
            yield Hit(("app_network_access_type",), f"{where} sets app_network_access_type to a value not known "
                                                    f"statically ({_reason(access.value)})", confidence=Confidence.LOW)
        elif str(access.value) != "VpcOnly":
            how = _how(access, '"PublicInternetOnly"')
            yield Hit(("app_network_access_type",),
                      f"{where} has app_network_access_type{how}: Studio apps reach the internet through "
                      "SageMaker's network instead of your VPC, past every egress control")
        state, value = _presence(resource, "kms_key_id")
        if state != "set":
            yield Hit(("kms_key_id",),
                      f"{_lacks(where, 'kms_key_id', state, value)}: the domain's EFS home volume with users' "
                      "notebooks and data is encrypted with an AWS-managed key, not a customer-managed KMS key",
                      severity=Severity.MEDIUM, confidence=Confidence.LOW if state == "unknown" else None)
    base = SHARING_PATHS[resource.type]
    if resource.get(*base) is None:
        return
    option = resource.get(*base, "notebook_output_option")
    if option == "Allowed":
        state, value = _presence(resource, *base, "s3_kms_key_id")
        if state != "set":
            yield Hit((*base, "s3_kms_key_id"),
                      f"{where} allows sharing notebooks with their cell outputs (notebook_output_option = "
                      f"\"Allowed\") and s3_kms_key_id {_kms_phrase(state, value)}: shared outputs are stored in S3 "
                      "without a customer-managed key", severity=Severity.MEDIUM,
                      confidence=Confidence.LOW if state == "unknown" else None)


# ---------------------------------------------------------------------------------------------------
# Container environments of SageMaker models
# ---------------------------------------------------------------------------------------------------

TRUST_ENV_NAMES = ("HF_MODEL_TRUST_REMOTE_CODE", "TRUST_REMOTE_CODE", "HF_TRUST_REMOTE_CODE",
                   "OPTION_TRUST_REMOTE_CODE",
                   "VLLM_TRUST_REMOTE_CODE")
MODEL_ID_ENV = ("HF_MODEL_ID", "OPTION_MODEL_ID", "MODEL_ID")
REVISION_ENV_NAMES = ("HF_MODEL_REVISION", "OPTION_REVISION", "REVISION", "HF_REVISION", "MODEL_REVISION")


def _containers(resource: TfResource) -> Iterator[tuple[tuple, dict]]:
    for block in ("primary_container", "container"):
        for index, container in enumerate(_list(resource.get(block))):
            if isinstance(container, dict):
                yield (block, index), container


def _env_entries(resource: TfResource) -> Iterator[tuple[tuple, dict, str, Any, int | None]]:
    """(environment path, container, name, value, scalar line of the entry) for every container env entry."""
    for base, container in _containers(resource):
        path = (*base, "environment")
        env = container.get("environment")
        if isinstance(env, Unknown):
            continue
        for name, value in _dict(env).items():
            yield path, container, str(name), value, _key_offset(resource, path, str(name))


def _entry_written_in_code(resource: TfResource, path: tuple, name: str) -> bool:
    """Is the value of ``name`` in the map at ``path`` a literal of the configuration (code, defaults, tfvars)?"""
    item = _object_item(_expr(resource, path), name)
    exprs = [item] if item is not None else ([_expr(resource, path)] if _expr(resource, path) is not None else [])
    if not exprs:
        return False
    for expr in exprs:
        if any(_external(root) for root, _ in references(expr)):
            return False
    return True


SECRET_WORDS = re.compile(r"(?:^|_)(?:PASSWORD|PASSWD|PASS|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|AUTH_?KEY|PRIVATE_?KEY|"
                          r"CREDENTIALS?|AUTHTOKEN|APIKEY|CLIENT_SECRET)(?:$|_)")
NOT_SECRET_WORDS = re.compile(r"(?:^|_)(?:NAME|REF|FILE|PATH|ARN|ID|URL|URI|ENABLED|ENABLE|TTL|EXPIRY|LENGTH|TYPE|"
                              r"KEY_ID|EXISTING|HEADER|FIELD|MOUNT|DIR|SECRET_KEY_REF)(?:$|_)|^EXISTING")
EXTRA_SHAPES = (
    (re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])"), "AWS access key id"),
    (re.compile(r"(?<![A-Za-z0-9_])(?:ghp|gho|ghs|ghu)_[A-Za-z0-9]{36}(?![A-Za-z0-9])"), "GitHub token"),
    (re.compile(r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{40,}"), "GitHub fine-grained token"),
    (re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----"), "private key"),
)


EXTRA_PLACEHOLDER = re.compile(r"replace|dummy|change[-_ ]?me|your[-_ ]|example|placeholder|sample|fake|redacted|xxxx|"
                               r"<[^>]*>|^todo|insert[-_ ]", re.IGNORECASE)


def placeholder(value: str) -> bool:
    """A value standing in for a secret ("DUMMY_TOKEN_REPLACE_ME", "<your-token>"), not one."""
    return is_placeholder(value) or bool(EXTRA_PLACEHOLDER.search(value))


def _normalise_name(name: str) -> str:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.split(".")[-1])
    return re.sub(r"[^A-Za-z0-9]+", "_", spaced).upper().strip("_")


def secret_name(name: str) -> bool:
    """A variable or key name that holds a credential (and not a reference to one)."""
    upper = _normalise_name(name)
    if upper in TOKEN_NAMES or name.strip().upper().replace("-", "_") in TOKEN_NAMES:
        return True
    return bool(SECRET_WORDS.search(upper)) and not NOT_SECRET_WORDS.search(upper)


def credential_shape(text: str) -> tuple[str, str] | None:
    found = shape_of(text)
    if found is not None and not placeholder(found[1]):
        return found
    for pattern, kind in EXTRA_SHAPES:
        match = pattern.search(text)
        if match and not placeholder(match.group(0)):
            return kind, match.group(0)
    return None


def _looks_secret(value: str) -> bool:
    """A literal that is plausibly a real credential, not a placeholder, flag or reference."""
    value = value.strip()
    if placeholder(value) or len(value) < 8 or " " in value:
        return False
    if value.lower() in ("true", "false", "enabled", "disabled") or re.fullmatch(r"[0-9.]+", value):
        return False
    if value.startswith(("arn:", "projects/", "/", "http://", "https://", "s3://", "secretsmanager:", "ssm:")):
        return False
    return any(ch.isdigit() for ch in value) or any(not ch.isalnum() for ch in value) or len(value) >= 20


def secret_in(name: str, value: str) -> str | None:
    """What credential ``name = value`` carries, or None."""
    shaped = credential_shape(value)
    if shaped is not None:
        return f"a literal {shaped[0]} ({mask(shaped[1])})"
    upper = _normalise_name(name)
    known_token = upper in TOKEN_NAMES and not placeholder(value) and bool(value.strip())
    if known_token or (secret_name(name) and _looks_secret(value)):
        return f"a literal value ({mask(value)})"
    return None


# ---------------------------------------------------------------------------------------------------
# MLS-AWS-007 · model container environment: remote code, unpinned hub pulls, tokens
# ---------------------------------------------------------------------------------------------------

@rules.rule(
    id="MLS-AWS-007", name="sagemaker-model-environment",
    title="SageMaker model container environment enables remote code, unpinned hub pulls or carries tokens",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=("aws_sagemaker_model",),
    rationale="""
        Hugging Face, TGI and LMI containers on SageMaker take their behaviour from the container
        environment. `HF_MODEL_TRUST_REMOTE_CODE=true` executes Python from the model repository;
        `HF_MODEL_ID=org/name` without a commit revision downloads whatever the repository holds at each
        scale-out, so whoever controls it controls the endpoint. Tokens in the environment are returned in
        plain text by `DescribeModel` to every principal with `sagemaker:Describe*`.""",
    remediation="""
        Stage the reviewed model in a private bucket and serve it with `model_data_url`
        (`s3://acme-ml-models-prod/<model>/<commit>/model.tar.gz`); if a hub pull is unavoidable pin
        `HF_MODEL_REVISION` to a 40-character commit. Remove `*_TRUST_REMOTE_CODE`. Keep hub tokens out of
        the environment: download gated models in CI with the token from Secrets Manager.""",
    bad="""
        primary_container {
          image = var.hf_tgi_image
          environment = {
            HF_MODEL_ID                = "org/new-model"
            HF_MODEL_TRUST_REMOTE_CODE = "true"
            HF_TOKEN                   = var.hf_token
          }
        }""",
    good="""
        primary_container {
          image          = var.hf_tgi_image
          model_data_url = "s3://acme-ml-models-prod/new-model/3f1c2a9/model.tar.gz"
          environment    = { HF_MODEL_ID = "/opt/ml/model" }
        }""",
    references=("OWASP ML06:2023 AI Supply Chain Attacks", "OWASP LLM03:2025 Supply Chain",
                "MITRE ATLAS AML.T0010.003", "MITRE ATLAS AML.T0055",
                "Hugging Face documentation: Deploy models to Amazon SageMaker (HF_MODEL_ID, HF_MODEL_REVISION)",
                f"{TF_DOCS}: aws_sagemaker_model (primary_container.environment)"),
)
def sagemaker_model_environment(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    where = resource.address
    for base, container in _containers(resource):
        path = (*base, "environment")
        env = container.get("environment")
        if isinstance(env, Unknown):
            continue
        env = _dict(env)
        label = f"{where} {base[0]}" + (f"[{base[1]}]" if base[0] == "container" else "")
        for name in TRUST_ENV_NAMES:
            value = env.get(name)
            if value is None:
                continue
            if isinstance(value, Unknown):
                yield Hit(path, f"{label} sets {name} to a value not known statically ({_reason(value)})",
                          confidence=Confidence.LOW, scalar_line=_key_offset(resource, path, name))
            elif str(value).strip().lower() in TRUTHY:
                yield Hit(path, f"{label} sets {name}={value}: the container executes Python code shipped in the "
                                "model repository", scalar_line=_key_offset(resource, path, name))
        yield from _hub_pull(resource, path, env, label, container)
        for name, value in env.items():
            if not secret_name(str(name)) or value is None:
                continue
            if isinstance(value, str) and (placeholder(value) or not value.strip()):
                continue
            if isinstance(value, str) and _entry_written_in_code(resource, path, str(name)):
                continue  # a literal: MLS-SEC-003
            yield Hit(path, f"{label} passes {name} in the container environment: environment values are returned "
                            "in plain text by DescribeModel to anyone with sagemaker:Describe* and stay in the model "
                            "definition", scalar_line=_key_offset(resource, path, str(name)))


def _hub_pull(resource: TfResource, path: tuple, env: dict, label: str, container: dict) -> Iterator[Hit]:
    for name in MODEL_ID_ENV:
        model_id = env.get(name)
        if model_id is None:
            continue
        offset = _key_offset(resource, path, name)
        if isinstance(model_id, Unknown):
            yield Hit(path, f"{label} sets {name} to a value not known statically ({_reason(model_id)}); a hub "
                            "id without a pinned revision is pulled unverified", confidence=Confidence.LOW,
                      scalar_line=offset)
            return
        if not isinstance(model_id, str) or not HUB_ID.match(model_id.strip()):
            return
        revision_name = next((r for r in REVISION_ENV_NAMES if env.get(r) is not None), None)
        revision = env.get(revision_name) if revision_name else None
        if isinstance(revision, Unknown):
            yield Hit(path, f"{label} pulls {model_id} from the Hugging Face Hub with {revision_name} not known "
                            f"statically ({_reason(revision)})", confidence=Confidence.LOW, scalar_line=offset)
        elif revision is None:
            yield Hit(path, f"{label} pulls {name}={model_id} from the Hugging Face Hub with no revision: every "
                            "instance start downloads whatever the repository holds then", scalar_line=offset)
        elif not COMMIT.match(str(revision).strip()):
            yield Hit(path, f"{label} pulls {model_id} from the Hugging Face Hub at {revision_name}={revision}, a "
                            "branch or tag that can be moved, not a commit", scalar_line=offset)
        return


# ---------------------------------------------------------------------------------------------------
# MLS-AWS-008 · Bedrock invocation logging, agents without guardrails or CMK
# ---------------------------------------------------------------------------------------------------

BEDROCK_LOGGING = "aws_bedrock_model_invocation_logging_configuration"
BEDROCK_TYPES = (
    "aws_bedrockagent_agent", "aws_bedrockagent_agent_alias", "aws_bedrockagent_agent_action_group",
    "aws_bedrockagent_agent_knowledge_base_association", "aws_bedrockagent_agent_collaborator",
    "aws_bedrockagent_knowledge_base", "aws_bedrockagent_data_source", "aws_bedrockagent_flow",
    "aws_bedrockagent_prompt", "aws_bedrock_custom_model", "aws_bedrock_provisioned_model_throughput",
    "aws_bedrock_guardrail", "aws_bedrock_guardrail_version", "aws_bedrock_inference_profile",
)


def _bedrock_anchors(inventory: TfInventory) -> dict[Any, tuple[TfResource, tuple, int | None]]:
    """For each root configuration, where its use of Bedrock shows first: a Bedrock resource, else the policy
    statement granting bedrock:InvokeModel*."""
    return inventory.memo("aws_ml.bedrock", lambda: _find_bedrock_anchors(inventory))


def _find_bedrock_anchors(inventory: TfInventory) -> dict[Any, tuple[TfResource, tuple, int | None]]:
    anchors: dict[Any, tuple[TfResource, tuple, int | None]] = {}
    for resource in sorted(inventory.of_type(*BEDROCK_TYPES), key=_sort_key):
        anchors.setdefault(_root_key(resource), (resource, (), None))
    for policy in sorted(all_policies(inventory), key=lambda p: _sort_key(p.resource)):
        for statement in policy.statements:
            if statement.allows and any(a.lower().startswith("bedrock:invoke") for a in statement.actions):
                path, offset = _statement_path(policy, statement, "bedrock:Invoke")
                anchors.setdefault(_root_key(policy.resource), (policy.resource, path, offset))
                break
    return anchors


@rules.rule(
    id="MLS-AWS-008", name="bedrock-invocation-logging",
    title="Amazon Bedrock without model-invocation logging, or agents without guardrails or a customer-managed key",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE,
    kinds=(*BEDROCK_TYPES, BEDROCK_LOGGING, *POLICY_TYPES),
    rationale="""
        Bedrock keeps no record of prompts and completions unless model-invocation logging is configured
        for the account and region. Without it, prompt injection, data leakage through answers, jailbreaks
        and cost harvesting with stolen credentials cannot be investigated. Agents act on tools and
        knowledge bases with their own role: without a guardrail nothing filters what they are asked or
        answer, and without a customer-managed key their session data is under an AWS-owned key.""",
    remediation="""
        Declare one `aws_bedrock_model_invocation_logging_configuration` per account and region with
        `text_data_delivery_enabled = true` and a CloudWatch Logs (KMS-encrypted, with retention) and/or S3
        destination. Give every `aws_bedrockagent_agent` a `guardrail_configuration` and a
        `customer_encryption_key_arn`.""",
    bad="""
        resource "aws_bedrockagent_agent" "support" {
          agent_name              = "support"
          agent_resource_role_arn = aws_iam_role.agent.arn
          foundation_model        = "anthropic.claude-3-5-sonnet-20240620-v1:0"
        }   # and no aws_bedrock_model_invocation_logging_configuration""",
    good="""
        resource "aws_bedrock_model_invocation_logging_configuration" "this" {
          logging_config {
            text_data_delivery_enabled = true
            cloudwatch_config {
              log_group_name = aws_cloudwatch_log_group.bedrock.name
              role_arn       = aws_iam_role.bedrock_logs.arn
            }
          }
        }
        resource "aws_bedrockagent_agent" "support" {
          agent_name                  = "support"
          agent_resource_role_arn     = aws_iam_role.agent.arn
          foundation_model            = "anthropic.claude-3-5-sonnet-20240620-v1:0"
          customer_encryption_key_arn = aws_kms_key.bedrock.arn
          guardrail_configuration {
            guardrail_identifier = aws_bedrock_guardrail.support.guardrail_id
            guardrail_version    = aws_bedrock_guardrail_version.support.version
          }
        }""",
    references=("OWASP LLM01:2025 Prompt Injection", "OWASP LLM02:2025 Sensitive Information Disclosure",
                "OWASP LLM10:2025 Unbounded Consumption", "MITRE ATLAS AML.T0051", "MITRE ATLAS AML.T0057",
                "MITRE ATLAS AML.T0034", "Amazon Bedrock documentation: Monitor model invocation using CloudWatch "
                "Logs and Amazon S3", f"{TF_DOCS}: aws_bedrock_model_invocation_logging_configuration, "
                "aws_bedrockagent_agent"),
)
def bedrock_logging(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    where = resource.address
    if resource.type == BEDROCK_LOGGING:
        yield from _logging_configuration(resource)
        return
    if resource.type == "aws_bedrockagent_agent":
        if not [g for g in _list(resource.get("guardrail_configuration")) if isinstance(g, dict)]:
            yield Hit(("guardrail_configuration",),
                      f"{where} has no guardrail_configuration: nothing filters prompts, tool inputs or answers of "
                      "the agent for injection, harmful content or sensitive data")
        state, value = _presence(resource, "customer_encryption_key_arn")
        if state != "set":
            yield Hit(("customer_encryption_key_arn",),
                      f"{_lacks(where, 'customer_encryption_key_arn', state, value)}: the agent's session data is "
                      "encrypted with an AWS-owned key, not a customer-managed KMS key",
                      confidence=Confidence.LOW if state == "unknown" else None)
    if inventory.of_type(BEDROCK_LOGGING):
        return
    anchor = _bedrock_anchors(inventory).get(_root_key(resource))
    if anchor is None or anchor[0] is not resource:
        return
    users = [r.address for r in inventory.of_type(*BEDROCK_TYPES) if _root_key(r) == _root_key(resource)][:3]
    uses = ", ".join(users) if users else f"{where} grants bedrock:InvokeModel"
    yield Hit(anchor[1], f"this configuration uses Amazon Bedrock ({uses}) but declares no "
                  f"{BEDROCK_LOGGING}: prompts and completions are not logged anywhere", scalar_line=anchor[2])


def _logging_configuration(resource: TfResource) -> Iterator[Hit]:
    where = resource.address
    config = _dict(resource.get("logging_config", 0))
    if not config:
        return
    base = ("logging_config", 0)
    text = config.get("text_data_delivery_enabled")
    if isinstance(text, Unknown):
        yield Hit((*base, "text_data_delivery_enabled"),
                  f"{where} sets text_data_delivery_enabled to a value not known statically ({_reason(text)})",
                  confidence=Confidence.LOW)
    elif _bool(text) is False:
        yield Hit((*base, "text_data_delivery_enabled"),
                  f"{where} has text_data_delivery_enabled = false: prompts and completions are not logged")
    if not _list(config.get("cloudwatch_config")) and not _list(config.get("s3_config")):
        yield Hit(base, f"{where} has neither cloudwatch_config nor s3_config: invocation logs are delivered nowhere")


# ---------------------------------------------------------------------------------------------------
# MLS-LOG-001 · SageMaker / Bedrock log groups
# ---------------------------------------------------------------------------------------------------

MIN_RETENTION_DAYS = 90
ML_LOG_PREFIXES = ("/aws/sagemaker/", "/aws/bedrock")


def _bedrock_log_groups(inventory: TfInventory) -> list[TfResource]:
    out = []
    for config in inventory.of_type(BEDROCK_LOGGING):
        path = ("logging_config", 0, "cloudwatch_config", 0, "log_group_name")
        out.extend(inventory.referenced(config, path, "aws_cloudwatch_log_group"))
        name = _str(config.get(*path))
        if name:
            out.extend(g for g in inventory.of_type("aws_cloudwatch_log_group") if g.get("name") == name)
    return out


def _template_head(expr: ast.Expr | None) -> ast.Expr | None:
    """The leading literal text of a template (``"/aws/sagemaker/Endpoints/${var.name}"``), as a Literal."""
    if isinstance(expr, ast.Template) and expr.parts and isinstance(expr.parts[0], str):
        return ast.Literal(expr.parts[0])
    return None


def _ml_log_group(group: TfResource, inventory: TfInventory) -> str | None:
    """What makes the log group an ML one (its name, or a Bedrock logging configuration using it)."""
    for attribute in ("name", "name_prefix"):
        name = group.get(attribute)
        if isinstance(name, str) and name.startswith(ML_LOG_PREFIXES):
            return f"log group {name}"
        if isinstance(name, Unknown):
            literal = next(iter(_literal_strings(_template_head(_expr(group, (attribute,))))), "")
            if literal.startswith(ML_LOG_PREFIXES):
                return f"log group {literal}..."
    if any(g is group for g in _bedrock_log_groups(inventory)):
        return "the Bedrock invocation log group"
    if inventory.referenced(group, ("name",), "aws_sagemaker_endpoint", "aws_sagemaker_model"):
        return "a SageMaker log group"
    return None


@rules.rule(
    id="MLS-LOG-001", name="ml-log-group-kms-retention",
    title="SageMaker or Bedrock log group without KMS or retention, or not pre-created for an endpoint",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=("aws_cloudwatch_log_group", "aws_sagemaker_endpoint"),
    supersedes=("TF-AWS-017", "TF-AWS-018"),
    rationale="""
        Endpoint container logs and Bedrock invocation logs carry request fragments, prompts, completions and
        stack traces with configuration values. SageMaker creates `/aws/sagemaker/Endpoints/<name>` itself
        when Terraform does not: without a KMS key and with logs that never expire, readable by anyone with
        `logs:GetLogEvents` on the account. Retention that is too short loses the evidence before an
        incident is noticed.""",
    remediation="""
        Declare `aws_cloudwatch_log_group` for `/aws/sagemaker/Endpoints/<endpoint name>` (and the Bedrock
        invocation log group) before the endpoint, with `kms_key_id` set to a customer-managed key whose
        policy allows the CloudWatch Logs service, and `retention_in_days` between 90 and 400 (365 is
        common).""",
    bad="""
        resource "aws_sagemaker_endpoint" "fraud" {
          name                 = "fraud-prod"
          endpoint_config_name = aws_sagemaker_endpoint_configuration.fraud.name
        }   # no log group: SageMaker creates one without KMS that never expires""",
    good="""
        resource "aws_cloudwatch_log_group" "fraud" {
          name              = "/aws/sagemaker/Endpoints/fraud-prod"
          kms_key_id        = aws_kms_key.logs.arn
          retention_in_days = 365
        }""",
    references=("OWASP ML05:2023 Model Theft", "OWASP LLM02:2025 Sensitive Information Disclosure",
                "MITRE ATLAS AML.T0057", f"{ML_LENS}: security pillar (monitoring of model inputs and outputs)",
                "AWS SageMaker documentation: Log Amazon SageMaker Events with Amazon CloudWatch",
                f"{TF_DOCS}: aws_cloudwatch_log_group (kms_key_id, retention_in_days)"),
)
def ml_log_groups(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if resource.type == "aws_sagemaker_endpoint":
        yield from _endpoint_log_group(resource, inventory)
        return
    what = _ml_log_group(resource, inventory)
    if what is None:
        return
    where = resource.address
    state, value = _presence(resource, "kms_key_id")
    if state != "set":
        yield Hit(("kms_key_id",),
                  f"{_lacks(where, 'kms_key_id', state, value)} ({what}): logs with payload fragments and prompts "
                  "are encrypted only with the CloudWatch Logs service key",
                  confidence=Confidence.LOW if state == "unknown" else None,
                  fixes=_kms_fixes(("kms_key_id",)) if state == "unset" else ())
    retention = setting(resource, "retention_in_days")
    if retention.unknown:
        yield Hit(("retention_in_days",), f"{where} ({what}) sets retention_in_days to a value not known statically "
                                          f"({_reason(retention.value)})", confidence=Confidence.LOW)
    elif isinstance(retention.value, (int, float)) and not isinstance(retention.value, bool):
        if retention.value == 0:
            how = " = 0 (never expire)" if retention.written else " unset (logs never expire)"
            yield Hit(("retention_in_days",),
                      f"{where} ({what}) has retention_in_days{how}: inference payloads in the logs are kept "
                      "indefinitely, with no retention policy", fixes=retention_fixes(resource))
        elif retention.value < MIN_RETENTION_DAYS:
            yield Hit(("retention_in_days",),
                      f"{where} ({what}) keeps logs for retention_in_days = {retention.value}, less than "
                      f"{MIN_RETENTION_DAYS} days: the evidence is gone before most incidents are investigated",
                      fixes=retention_fixes(resource))


RETENTION_DAYS = 365


def retention_fixes(group: TfResource) -> tuple[SymbolicFix, ...]:
    return _setting_fix(group, ("retention_in_days",), str(RETENTION_DAYS),
                        f"set retention_in_days = {RETENTION_DAYS}")


def _endpoint_log_group(endpoint: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    where = endpoint.address
    name = endpoint.get("name")
    groups = inventory.of_type("aws_cloudwatch_log_group")
    if any(endpoint in inventory.referenced(g, ("name",), "aws_sagemaker_endpoint") for g in groups):
        return
    if name is None:
        yield Hit(("name",), f"{where} has no name, so Terraform generates one and no log group can be pre-created: "
                             "SageMaker creates /aws/sagemaker/Endpoints/<generated> itself, without KMS and with "
                             "logs that never expire")
        return
    if isinstance(name, Unknown):
        if any(isinstance(g.get("name"), Unknown) for g in groups):
            return  # a log group with a computed name may well be this endpoint's
        yield Hit(("name",), f"{where} has a name not known statically ({_reason(name)}) and no log group "
                             "/aws/sagemaker/Endpoints/<name> is declared for it", confidence=Confidence.LOW)
        return
    expected = f"/aws/sagemaker/Endpoints/{name}"
    if any(g.get("name") == expected for g in groups):
        return
    if any(isinstance(g.get("name"), Unknown) and any("/aws/sagemaker/Endpoints" in s
                                                       for s in _literal_strings(_expr(g, ("name",))))
           for g in groups):
        return  # a templated endpoint log group that may be this one
    yield Hit(("name",), f"{where} has no aws_cloudwatch_log_group named {expected}: SageMaker creates it on first "
                         "log write, without a KMS key and with logs that never expire",
              fixes=_endpoint_log_group_fixes(endpoint, expected))


def _endpoint_log_group_fixes(endpoint: TfResource, name: str) -> tuple[SymbolicFix, ...]:
    """The endpoint's log group, declared with retention and a customer-managed key, created before it."""
    if endpoint.block is None or "depends_on" in endpoint.block.body.attributes:
        return ()
    label = _free_label(endpoint, "aws_cloudwatch_log_group", endpoint.name)
    return (unsafe(f"declare log group {name} with retention_in_days = {RETENTION_DAYS} and kms_key_id = "
                   f"var.{KMS_VARIABLE}, created before the endpoint",
                   AddResource("aws_cloudwatch_log_group", label, (
                       ("name", json.dumps(name)), ("retention_in_days", str(RETENTION_DAYS)),
                       ("kms_key_id", f"var.{KMS_VARIABLE}"))),
                   SetAttribute(("depends_on",), f"[aws_cloudwatch_log_group.{label}]"),
                   DeclareVariable(KMS_VARIABLE, description="ARN of the customer-managed KMS key for ML data")),)


# ---------------------------------------------------------------------------------------------------
# MLS-SEC-003 · secrets in Terraform ML resources
# ---------------------------------------------------------------------------------------------------

SCRIPT_SECRET = (
    re.compile(r"""(?:^|[\s'"(;])(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=["']?([^"'\s;]+)"""),
    re.compile(r"""(?:huggingface-cli|hf)\s+(?:auth\s+)?login\b.*?--token[ =]["']?([^"'\s;]+)"""),
    re.compile(r"""--(?:token|password|api[-_]key|hf[-_]token|access[-_]token)[ =]["']?([^"'\s;$]+)"""),
    re.compile(r"""\b[a-z][a-z0-9+.-]*://[^:/@\s'"]+:([^@/\s'"$]+)@"""),
)


def _script_secrets(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines()):
        if line.lstrip().startswith("#"):
            continue
        shaped = credential_shape(line)
        if shaped is not None:
            yield number, f"a literal {shaped[0]} ({mask(shaped[1])})"
            continue
        assignment = next((m for m in SCRIPT_SECRET[0].finditer(line) if secret_name(m.group(1))
                           and "$" not in m.group(2) and _looks_secret(m.group(2))), None)
        if assignment:
            yield number, f"{assignment.group(1)} as a literal ({mask(assignment.group(2))})"
            continue
        for pattern in SCRIPT_SECRET[1:]:
            match = pattern.search(line)
            if match and "$" not in match.group(1) and not placeholder(match.group(1)) and len(match.group(1)) >= 6:
                yield number, f"a literal credential on the command line ({mask(match.group(1))})"
                break


def _walk_values(node: Any, trail: tuple = ()) -> Iterator[tuple[tuple, str, str]]:
    """(key trail, key, string value) for every string leaf of a decoded YAML/JSON document."""
    if isinstance(node, dict):
        env_style = isinstance(node.get("name"), str) and isinstance(node.get("value"), str)
        if env_style:  # {name: HF_TOKEN, value: ...} entries of env lists
            yield (*trail, "value"), node["name"], node["value"]
        for key, value in node.items():
            if env_style and key == "value":
                continue
            if isinstance(value, str):
                yield (*trail, str(key)), str(key), value
            else:
                yield from _walk_values(value, (*trail, str(key)))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk_values(item, (*trail, index))


def _document_line(text: str, key: str, value: str) -> int | None:
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if re.search(rf"""(?:^|[\s"'{{,]){re.escape(key)}["']?\s*[:=]""", line) and value[:8] in line:
            return number
    return next((number for number, line in enumerate(lines) if value[:12] in line), None)


@rules.rule(
    id="MLS-SEC-003", name="terraform-ml-secret-literal",
    title="Secret written into a Terraform ML resource (SageMaker environment, lifecycle script, Helm values, "
          "Kubernetes Secret)",
    severity=Severity.HIGH, scope=Scope.RESOURCE,
    kinds=("aws_sagemaker_model", *LIFECYCLE_SCRIPTS, "helm_release", "kubernetes_secret", "kubernetes_secret_v1"),
    rationale="""
        A token written into Terraform lives in Git history, in every plan and in the state file, and
        usually in a cloud API that returns it to broad roles: `DescribeModel` returns container
        environments, `DescribeNotebookInstanceLifecycleConfig` returns lifecycle scripts, `helm get
        values` returns release values, and a `kubernetes_secret` is only base64 in etcd. Hub tokens with
        write scope allow pushing poisoned weights; LLM API keys are spent by whoever finds them.""",
    remediation="""
        Keep secrets out of the configuration: store them in Secrets Manager (or an External Secrets
        backend) and read them at runtime with the workload's role (an entrypoint for SageMaker, a
        lifecycle script calling `aws secretsmanager get-secret-value`, `existingSecret` for Helm charts).
        Pre-stage gated models in a private bucket so no hub token is needed to serve. Rotate the exposed
        token.""",
    bad="""
        resource "aws_sagemaker_model" "llm" {
          primary_container {
            image       = var.tgi_image
            environment = { HF_MODEL_ID = "meta-llama/Llama-3.1-8B-Instruct", HF_TOKEN = "hf_AbCdEf..." }
          }
        }""",
    good="""
        resource "aws_sagemaker_model" "llm" {
          primary_container {
            image          = var.tgi_image
            model_data_url = "s3://acme-ml-models-prod/llama-3.1-8b/0e9e39f/model.tar.gz"
          }
        }""",
    references=("MITRE ATLAS AML.T0055", "OWASP LLM02:2025 Sensitive Information Disclosure",
                "OWASP ML06:2023 AI Supply Chain Attacks",
                "Terraform documentation: Sensitive Data in State"),
)
def terraform_ml_secrets(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if resource.type == "aws_sagemaker_model":
        yield from _model_env_secrets(resource)
    elif resource.type in LIFECYCLE_SCRIPTS:
        for path, text in _scripts(resource):
            for number, what in _script_secrets(text):
                yield Hit(path, f"{resource.address} {path[0]} holds {what}: lifecycle scripts are returned by the "
                                "SageMaker API and stored in Terraform state",
                          scalar_line=_text_offset(resource, path, number))
    elif resource.type == "helm_release":
        yield from _helm_secrets(resource)
    else:
        yield from _kubernetes_secret(resource)


def _model_env_secrets(resource: TfResource) -> Iterator[Hit]:
    for path, _, name, value, offset in _env_entries(resource):
        if not isinstance(value, str) or not _entry_written_in_code(resource, path, name):
            continue
        what = secret_in(name, value)
        if what:
            yield Hit(path, f"{resource.address} sets {name} in the container environment to {what}: it is in the "
                            "code, the state and every DescribeModel response", scalar_line=offset)


def _helm_secrets(resource: TfResource) -> Iterator[Hit]:
    where = resource.address
    spans = getattr(resource, "spans", None) or {}
    for block in ("set", "set_sensitive"):
        for index, entry in enumerate(_list(resource.get(block))):
            entry = _dict(entry)
            name, value = entry.get("name"), entry.get("value")
            if not isinstance(name, str) or not isinstance(value, str):
                continue
            path = (block, index, "value")
            if path in spans:  # a set { } block
                written, offset = not _refers_outside(resource, path), None
            else:  # set = [{ name = ..., value = ... }] (provider v3)
                item = _object_item(_item_expr(resource, (block,), index), "value")
                written = item is not None and not any(_external(root) for root, _ in references(item))
                offset = _offset(resource, (block,), item.span[0]) if item is not None else None
            if not written:
                continue
            what = secret_in(name, value)
            if what:
                yield Hit(path, f"{where} sets Helm value {name} to {what}: it is in the code, the state and "
                                "`helm get values`", scalar_line=offset)
    for index, text in enumerate(_list(resource.get("values"))):
        if not isinstance(text, str):
            continue
        for trail, key, value in _walk_values(load_embedded(text)):
            what = secret_in(key, value)
            if not what:
                continue
            line = _document_line(text, key, value)
            offset = _tuple_offset(resource, ("values",), index)
            heredoc = None
            expr = _expr(resource, ("values",))
            if isinstance(expr, ast.TupleExpr) and index < len(expr.items):
                heredoc = _heredoc_text(expr.items[index])
            if heredoc is not None and line is not None:
                offset = _offset(resource, ("values",), heredoc.span[0] + 1 + line)
            dotted = ".".join(str(t) for t in trail)
            yield Hit(("values", index), f"{where} values set {dotted} to {what}: it is in the code, the state and "
                                         "`helm get values`", scalar_line=offset)


def _kubernetes_secret(resource: TfResource) -> Iterator[Hit]:
    where = resource.address
    data = resource.get("data")
    for key, value in _dict(data).items():
        if not isinstance(value, str) or not _entry_written_in_code(resource, ("data",), str(key)):
            continue
        what = secret_in(str(key), value)
        if what is None and value.lstrip().startswith("{"):
            try:
                document = decode_json(value)
            except ValueError:
                document = None
            for trail, inner, leaf in _walk_values(document):
                what = secret_in(inner, leaf)
                if what:
                    what = f"{what} under {'.'.join(str(t) for t in trail)}"
                    break
        if what:
            yield Hit(("data",), f"{where} holds {key} as {what} written in the Terraform code: it is in Git, the "
                                 "state and every plan", scalar_line=_key_offset(resource, ("data",), str(key)))


# ---------------------------------------------------------------------------------------------------
# MLS-IAM-004 · SageMaker execution role with broad AWS-managed policies
# ---------------------------------------------------------------------------------------------------

BROAD_POLICIES = {
    "AdministratorAccess": "full control of the account",
    "PowerUserAccess": "every service except IAM administration",
    "AmazonSageMakerFullAccess": "control of all SageMaker resources and S3 on every bucket named *sagemaker*",
    "AmazonS3FullAccess": "read and write on every bucket of the account",
    "IAMFullAccess": "creating users, roles and policies (privilege escalation)",
}
MANAGED_ARN = re.compile(r"arn:[^:]*:iam::aws:policy/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)$")
MANAGED_IN_TEXT = re.compile(r"iam::aws:policy/(?:[\w+=,.@-]+/)*(" + "|".join(BROAD_POLICIES) + r")\b")

SAGEMAKER_ROLE_PATHS: dict[str, tuple[tuple, ...]] = {
    "aws_sagemaker_model": (("execution_role_arn",),),
    "aws_sagemaker_endpoint_configuration": (("execution_role_arn",),),
    "aws_sagemaker_notebook_instance": (("role_arn",),),
    "aws_sagemaker_domain": (("default_user_settings", 0, "execution_role"),
                             ("default_space_settings", 0, "execution_role")),
    "aws_sagemaker_user_profile": (("user_settings", 0, "execution_role"),),
    "aws_sagemaker_pipeline": (("role_arn",),),
}


def _item_expr(resource: TfResource, path: tuple, index: int | None) -> ast.Expr | None:
    expr = _expr(resource, path)
    if index is None:
        return expr
    return expr.items[index] if isinstance(expr, ast.TupleExpr) and 0 <= index < len(expr.items) else None


def _data_sources(resource: TfResource, expr: ast.Expr | None, inventory: TfInventory, type_: str) -> list[TfResource]:
    """Data sources of ``type_`` named by ``expr`` (in the resource's own module)."""
    if expr is None:
        return []
    names = {steps[1] for root, steps in references(expr) if root == "data" and len(steps) >= 2 and steps[0] == type_}
    return [r for r in inventory.of_type(type_) if r.mode == "data" and r.name in names and r.module is resource.module]


def _managed_policy(resource: TfResource, path: tuple, inventory: TfInventory, value: Any,
                    index: int | None = None) -> str | None:
    """The broad AWS-managed policy named by ``value`` (an ARN, a data source, or a format string)."""
    if isinstance(value, str):
        match = MANAGED_ARN.match(value.strip())
        return match.group(1) if match and match.group(1) in BROAD_POLICIES else None
    if not isinstance(value, Unknown):
        return None
    expr = _item_expr(resource, path, index)
    for source in _data_sources(resource, expr, inventory, "aws_iam_policy"):
        match = MANAGED_ARN.match(_str(source.get("arn")) or "")
        found = match.group(1) if match else _str(source.get("name"))
        if found in BROAD_POLICIES:
            return found
    for text in _literal_strings(expr):
        match = MANAGED_IN_TEXT.search(text)
        if match:
            return match.group(1)
    return None


def _trusts_sagemaker(role: TfResource, inventory: TfInventory) -> bool:
    value = role.get("assume_role_policy")
    parsed = parse_policy(value) if value is not None else []
    if not isinstance(parsed, Unknown):
        for statement in parsed:
            if any(p.lower().startswith("service:sagemaker.") for p in statement.principals):
                return True
    texts = list(_literal_strings(_expr(role, ("assume_role_policy",))))
    for document in inventory.referenced(role, ("assume_role_policy",), "aws_iam_policy_document"):
        for index, block in enumerate(_list(document.get("statement"))):
            for p_index, _ in enumerate(_list(_dict(block).get("principals"))):
                texts.extend(_literal_strings(_expr(document, ("statement", index, "principals", p_index,
                                                               "identifiers"))))
                identifiers = _dict(_list(_dict(block).get("principals"))[p_index]).get("identifiers")
                texts.extend(i for i in _list(identifiers) if isinstance(i, str))
    return any(re.match(r"sagemaker\.(?:amazonaws\.com|%s|\$)", t) for t in texts)


def _role_users(role: TfResource, inventory: TfInventory) -> list[tuple[TfResource, tuple]]:
    """SageMaker resources that run as ``role`` (by reference or by ARN/name value)."""
    name = _str(role.get("name"))
    users = []
    for kind, paths in SAGEMAKER_ROLE_PATHS.items():
        for consumer in inventory.of_type(kind):
            for path in paths:
                value = consumer.get(*path)
                if role in inventory.referenced(consumer, path, "aws_iam_role"):
                    users.append((consumer, path))
                elif name and isinstance(value, str) and re.search(rf":role/(?:[^:]*/)?{re.escape(name)}$", value):
                    users.append((consumer, path))
    return users


def _roles_of(resource: TfResource, path: tuple, inventory: TfInventory) -> list[TfResource]:
    roles = [r for r in inventory.referenced(resource, path, "aws_iam_role") if r.mode == "managed"]
    value = resource.get(*path)
    names = [value] if isinstance(value, str) else [v for v in _list(value) if isinstance(v, str)]
    for name in names:
        roles.extend(r for r in inventory.of_type("aws_iam_role")
                     if r.mode == "managed" and r.get("name") == name and r not in roles)
    return roles


def _sagemaker_role(role: TfResource, inventory: TfInventory) -> tuple[list[tuple[TfResource, tuple]], bool]:
    users = _role_users(role, inventory)
    return users, bool(users) or _trusts_sagemaker(role, inventory)


@rules.rule(
    id="MLS-IAM-004", name="sagemaker-role-broad-managed-policy",
    title="SageMaker execution role uses broad AWS-managed policies",
    supersedes=("TF-AWS-011",),
    severity=Severity.HIGH, scope=Scope.RESOURCE,
    kinds=("aws_iam_role_policy_attachment", "aws_iam_role", "aws_iam_policy_attachment",
           "aws_iam_role_policy_attachments_exclusive"),
    rationale="""
        Code running in a SageMaker container or notebook has its execution role's credentials: a malicious
        model file, a `trust_remote_code` repository or a notebook user inherits everything the role can
        do. `AmazonSageMakerFullAccess` (the console default) controls every SageMaker resource and reads
        and writes every bucket whose name contains "sagemaker"; `AdministratorAccess`, `PowerUserAccess`
        or `AmazonS3FullAccess` turn one compromised endpoint into an account or data-lake compromise.""",
    remediation="""
        Give each endpoint, notebook and Studio domain its own role with a customer-managed policy scoped
        to what it runs: `s3:GetObject` on its model prefix, `ecr:BatchGetImage` and
        `ecr:GetDownloadUrlForLayer` on its image repository, `logs:CreateLogStream`/`logs:PutLogEvents` on
        its log group and `kms:Decrypt` on its key.""",
    bad="""
        resource "aws_iam_role_policy_attachment" "sm" {
          role       = aws_iam_role.fraud_endpoint.name
          policy_arn = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
        }""",
    good="""
        resource "aws_iam_role_policy" "fraud_endpoint" {
          role   = aws_iam_role.fraud_endpoint.id
          policy = data.aws_iam_policy_document.fraud_endpoint.json   # model prefix, image repo, log group
        }""",
    references=("OWASP ML05:2023 Model Theft", "MITRE ATLAS AML.T0012", "MITRE ATLAS AML.T0075",
                f"{CIS_AWS} 1.16 (no full administrative privileges)",
                "AWS SageMaker documentation: How to use SageMaker AI execution roles",
                "AWS managed policy reference: AmazonSageMakerFullAccess"),
)
def sagemaker_role_managed_policies(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if resource.type == "aws_iam_role":
        arns = resource.get("managed_policy_arns")
        if arns is None:
            return
        users, is_sagemaker = _sagemaker_role(resource, inventory)
        if not is_sagemaker:
            return
        path = ("managed_policy_arns",)
        entries = list(enumerate(arns)) if isinstance(arns, list) else [(None, arns)]
        for index, value in entries:
            name = _managed_policy(resource, path, inventory, value, index)
            if name:
                offset = _tuple_offset(resource, path, index) if index is not None else None
                yield _role_hit(resource, path, name, resource, users, offset)
        return
    if resource.type == "aws_iam_role_policy_attachments_exclusive":
        role_path, path = ("role_name",), ("policy_arns",)
        arns = resource.get("policy_arns")
        entries = list(enumerate(arns)) if isinstance(arns, list) else [(None, arns)]
    else:
        role_path = ("roles",) if resource.type == "aws_iam_policy_attachment" else ("role",)
        path, entries = ("policy_arn",), [(None, resource.get("policy_arn"))]
    found = [(index, name) for index, value in entries
             if (name := _managed_policy(resource, path, inventory, value, index))]
    if not found:
        return
    for role in _roles_of(resource, role_path, inventory):
        users, is_sagemaker = _sagemaker_role(role, inventory)
        if not is_sagemaker:
            continue
        for index, name in found:
            offset = _tuple_offset(resource, path, index) if index is not None else None
            yield _role_hit(resource, path, name, role, users, offset)


def _role_hit(resource: TfResource, path: tuple, policy: str, role: TfResource,
              users: list[tuple[TfResource, tuple]], offset: int | None) -> Hit:
    if users:
        runs = ", ".join(sorted({u.address for u, _ in users})[:3])
        who = f"the execution role of {runs}"
    else:
        who = "a role SageMaker can assume (its trust policy names sagemaker.amazonaws.com)"
    if role is resource:
        text = (f"{resource.address} lists the AWS-managed policy {policy} ({BROAD_POLICIES[policy]}) in "
                f"managed_policy_arns and is {who}: code in the container or notebook gets all of it")
    else:
        text = (f"{resource.address} attaches the AWS-managed policy {policy} ({BROAD_POLICIES[policy]}) to "
                f"{role.address}, {who}: code in the container or notebook gets all of it")
    return Hit(path, text,
               related=tuple(RelatedHit(u, p, f"{u.address} runs as {role.address}") for u, p in users[:5]),
               scalar_line=offset,
               severity=Severity.CRITICAL if policy == "AdministratorAccess" else None)


# ---------------------------------------------------------------------------------------------------
# MLS-IAM-005 · principal can pass a role to SageMaker compute
# ---------------------------------------------------------------------------------------------------

ALL_ROLES = r"arn:[^:]*:iam::[^:]*:(?:role/)?(?:[^:]*/)?\*"
ALL_NOTEBOOKS = r"arn:[^:]*:sagemaker:[^:]*:[^:]*:(?:notebook-instance/)?\*"
ALL_DOMAINS = r"arn:[^:]*:sagemaker:[^:]*:[^:]*:(?:user-profile/)?\*(?:/\*)?"
PASS_PATHS: tuple[tuple[str, ...], ...] = (
    ("sagemaker:CreateNotebookInstance",), ("sagemaker:CreateTrainingJob",), ("sagemaker:CreateProcessingJob",),
    ("sagemaker:CreateHyperParameterTuningJob",), ("sagemaker:CreateAutoMLJob",), ("sagemaker:CreateAutoMLJobV2",),
    ("sagemaker:CreateModel", "sagemaker:CreateEndpointConfig", "sagemaker:CreateEndpoint"),
)


def _passed_to(statement: Statement) -> tuple[str, ...] | None:
    """Values of an iam:PassedToService condition, or None when there is none."""
    values: list[str] = []
    found = False
    for _, key, items in statement.conditions:
        if key.lower() == "iam:passedtoservice":
            found = True
            values.extend(items)
    return tuple(values) if found else None


def _source_statements(resource: TfResource) -> int:
    count = 0
    for source in _list(resource.get("source_policy_documents")):
        try:
            count += len(_list(_dict(decode_json(source)).get("Statement"))) if isinstance(source, str) else 0
        except ValueError:
            pass
    return count


def _statement_path(policy: Policy, statement: Statement, needle: str) -> tuple[tuple, int | None]:
    """Where a statement is written: its block in a policy document, else its line in the JSON."""
    resource = policy.resource
    if resource.type == "aws_iam_policy_document":
        index = statement.index - _source_statements(resource)
        if 0 <= index < len(_list(resource.get("statement"))):
            return ("statement", index), None
        return ("statement",), None
    path = policy.path
    expr = _expr(resource, path)
    while isinstance(expr, ast.Call) and expr.name == "jsonencode" and expr.args:
        expr = expr.args[0]
    statements = _object_item(expr, "Statement")
    if isinstance(statements, ast.TupleExpr) and statement.index < len(statements.items):
        return path, _offset(resource, path, statements.items[statement.index].span[0])
    heredoc = _heredoc_text(_expr(resource, path))
    text = resource.get(*path)
    if heredoc is not None and isinstance(text, str):
        lines = text.splitlines()
        for pattern in (re.escape(needle), r'"Action"\s*:\s*\[?\s*"\*"', r'^\s*"\*"\s*,?\s*$'):
            for number, line in enumerate(lines):
                if re.search(pattern, line, re.IGNORECASE):
                    return path, _offset(resource, path, heredoc.span[0] + 1 + number)
    return path, None


@rules.rule(
    id="MLS-IAM-005", name="sagemaker-passrole-escalation",
    title="Principal can pass a role to SageMaker compute (privilege escalation)",
    severity=Severity.HIGH, scope=Scope.RESOURCE,
    kinds=("aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy",
           "aws_iam_policy_document", "aws_iam_role"),
    rationale="""
        `iam:PassRole` on every role plus a SageMaker action that launches compute (a notebook instance,
        a training, processing or tuning job, or a model behind an endpoint) lets the holder run code of
        their choice as any role SageMaker can assume, typically a far more privileged one. Presigned
        notebook or Studio URLs on every resource, or rewriting a notebook's lifecycle configuration, give
        a shell as the notebook's role without passing anything.""",
    remediation="""
        Restrict `iam:PassRole` to the specific execution roles the principal needs, with a condition
        `iam:PassedToService = sagemaker.amazonaws.com`, and scope the SageMaker create actions to the
        principal's own resources (name prefix, `aws:ResourceTag`). Grant presigned-URL actions only on the
        user's own notebook or user profile.""",
    bad="""
        statement {
          actions   = ["iam:PassRole", "sagemaker:CreateModel", "sagemaker:CreateEndpointConfig",
                       "sagemaker:CreateEndpoint"]
          resources = ["*"]
        }""",
    good="""
        statement {
          actions   = ["iam:PassRole"]
          resources = [aws_iam_role.fraud_endpoint.arn]
          condition {
            test     = "StringEquals"
            variable = "iam:PassedToService"
            values   = ["sagemaker.amazonaws.com"]
          }
        }
        statement {
          actions   = ["sagemaker:CreateModel", "sagemaker:CreateEndpointConfig", "sagemaker:CreateEndpoint"]
          resources = ["arn:aws:sagemaker:*:123456789012:*/fraud-*"]
        }""",
    references=("MITRE ATLAS AML.T0012", "MITRE ATLAS AML.T0106", "OWASP ML06:2023 AI Supply Chain Attacks",
                f"{CIS_AWS} 1.16", "Rhino Security Labs: AWS IAM privilege escalation methods (SageMaker)",
                "salesforce/cloudsplaining privilege-escalation paths (PassExistingRoleToNewSageMaker*)"),
)
def sagemaker_passrole(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for policy in policies_of(resource):
        if _from_document(resource, policy.path, inventory):
            continue
        yield from _passrole_hits(policy)


def _passrole_hits(policy: Policy) -> Iterator[Hit]:
    where = policy.resource.address
    statements = policy.statements
    if policy.unknown is not None:
        return  # a document whose statements are not known at all: nothing to judge
    enabled_paths = [p for p in PASS_PATHS if all(_allowed(statements, a) for a in p)]
    pass_any = [s for s in _allowed(statements, "iam:PassRole") if _on_everything(s, ALL_ROLES)]
    if enabled_paths and pass_any:
        actions = ", ".join("+".join(a.split(":")[1] for a in p) for p in enabled_paths[:4])
        unrestricted = [s for s in pass_any if _passed_to(s) is None]
        to_sagemaker = [s for s in pass_any if _passed_to(s) is not None
                        and any(matches(v, "sagemaker.amazonaws.com") for v in _passed_to(s) or ())]
        if unrestricted:
            path, offset = _statement_path(policy, unrestricted[0], "iam:PassRole")
            yield Hit(path, f"{where} allows iam:PassRole on all roles without an iam:PassedToService condition, "
                            f"together with sagemaker:{actions}: its holder can run code as any role SageMaker can "
                            "assume", scalar_line=offset)
        elif to_sagemaker:
            path, offset = _statement_path(policy, to_sagemaker[0], "iam:PassRole")
            yield Hit(path, f"{where} allows iam:PassRole on all roles (limited to iam:PassedToService "
                            f"sagemaker.amazonaws.com) together with sagemaker:{actions}: its holder can run code as "
                            "any role that trusts SageMaker", scalar_line=offset, severity=Severity.MEDIUM)
    if enabled_paths and pass_any:
        return  # one escalation finding per policy
    for action, pattern, what in (
            ("sagemaker:CreatePresignedNotebookInstanceUrl", ALL_NOTEBOOKS, "a Jupyter shell on every notebook "
                                                                             "instance, as its role"),
            ("sagemaker:CreatePresignedDomainUrl", ALL_DOMAINS, "a Studio session as every user profile")):
        grants = [s for s in _allowed(statements, action) if _on_everything(s, pattern)]
        if grants:
            path, offset = _statement_path(policy, grants[0], action)
            yield Hit(path, f"{where} allows {action} on every resource: {what}", scalar_line=offset)
    lifecycle = _allowed(statements, "sagemaker:CreateNotebookInstanceLifecycleConfig")
    update = _allowed(statements, "sagemaker:UpdateNotebookInstance")
    if lifecycle and update:
        path, offset = _statement_path(policy, update[0], "sagemaker:UpdateNotebookInstance")
        yield Hit(path, f"{where} allows sagemaker:CreateNotebookInstanceLifecycleConfig and "
                        "sagemaker:UpdateNotebookInstance: its holder can make an existing notebook run a script of "
                        "their choice as root with the notebook's role", scalar_line=offset)

