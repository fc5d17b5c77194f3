"""AWS: model buckets, model registries and serving identities (the catalogue's ART, IAM and LOG ids),
plus ``TF-AWS-*``, a baseline of general AWS hygiene so no second scanner is needed.

A *model bucket* is an S3 bucket a SageMaker model loads its artifacts from
(``primary_container``/``container`` ``model_data_url`` or ``model_data_source.s3_data_source.s3_uri``),
or one whose name says it holds models. A *serving identity* is the IAM role a SageMaker model runs as,
or a role bound to a Kubernetes service account (IRSA annotation, EKS Pod Identity) or named for serving.
Findings on model buckets, serving roles and serving images say why the object counts as one.

The catalogue rules supersede their generic ``TF-AWS`` counterparts where both flag the same line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Iterator

from servegate.findings import Confidence, Severity
from servegate.fix.model import AddResource, SetAttribute, SymbolicFix, safe, unsafe
from servegate.model.graph import graph_of_terraform
from servegate.model.terraform import iam
from servegate.model.terraform.config import ModuleInstance, TfResource
from servegate.model.terraform.defaults import setting
from servegate.model.terraform.evaluator import evaluate_safely, references
from servegate.model.terraform.iam import UNKNOWN_ITEM, Statement, parse_policy
from servegate.model.terraform.inventory import TfInventory
from servegate.model.terraform.values import Unknown, is_known
from servegate.rules.aws_ml import retention_fixes
from servegate.rules.base import Hit, RelatedHit, RuleSet, Scope
from servegate.sources import hcl_ast as ast
from servegate.sources.embedded import decode_json

rules = RuleSet("aws-cloud")

CIS_AWS = "CIS AWS Foundations Benchmark v3.0.0"
CIS_EKS = "CIS Amazon EKS Benchmark v1.5.0"
ML05 = "OWASP ML05:2023 Model Theft"
ML06 = "OWASP ML06:2023 AI Supply Chain Attacks"
ML10 = "OWASP ML10:2023 Model Poisoning"
WA_ML = "AWS Well-Architected Machine Learning Lens"

S3_BUCKET = "aws_s3_bucket"
S3_PAB_DOC = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html"
PAB_FLAGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
PUBLIC_ACLS = {"public-read": "public-read (anyone can list and read objects)",
               "public-read-write": "public-read-write (anyone can read, write and delete objects)",
               "authenticated-read": "authenticated-read (every AWS account can read objects)"}
PUBLIC_GRANTEES = ("http://acs.amazonaws.com/groups/global/AllUsers",
                   "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
# Condition keys that pin a "Principal: *" statement to an organisation, account, network or caller.
RESTRICTING_CONDITION_KEYS = frozenset({
    "aws:sourcevpce", "aws:sourcevpc", "aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount",
    "aws:sourceaccount", "aws:sourcearn", "aws:sourceowner", "aws:principalarn", "aws:sourceip", "aws:userid",
    "aws:username", "aws:principalservicename", "aws:sourceorgid", "aws:sourceorgpaths", "aws:calledvia",
    "kms:calleraccount", "s3:dataaccesspointaccount", "s3:dataaccesspointarn", "aws:resourceorgid",
    "aws:vpcsourceip",
})
ORG_CONDITION_KEYS = frozenset({"aws:principalorgid", "aws:principalorgpaths", "aws:sourceorgid", "aws:sourceorgpaths"})
ADMIN_MANAGED_POLICIES = {
    "AdministratorAccess": (Severity.HIGH, "full control of every AWS service"),
    "IAMFullAccess": (Severity.HIGH, "full IAM control, enough to grant itself administrator rights"),
    "PowerUserAccess": (Severity.MEDIUM, "full control of every service except IAM and Organizations"),
}
SERVING_HINT = re.compile(r"serving|serve\b|inference|infer\b|predict|endpoint|kserve|triton|vllm|torchserve|seldon",
                          re.IGNORECASE)
MODEL_HINT = re.compile(r"model", re.IGNORECASE)
IMAGE_HINT = re.compile(r"model|serving|serve\b|inference|infer\b|predict|endpoint|triton|vllm|torchserve|tgi\b|"
                        r"text-generation|seldon|kserve", re.IGNORECASE)


# --- small helpers ------------------------------------------------------------------------------------

def _managed(resource: TfResource) -> bool:
    return resource.mode == "managed"


def _root(module: ModuleInstance) -> ModuleInstance:
    while module.parent is not None:
        module = module.parent
    return module


def _text(value: Any) -> str:
    """A value for a message: strings quoted, unknowns described."""
    if isinstance(value, Unknown):
        return "a value not known statically"
    return json.dumps(value) if not isinstance(value, str) else f'"{value}"'


def _unknown_reason(value: Any) -> str:
    return value.reason if isinstance(value, Unknown) else "not known statically"


def _known_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _blocks(value: Any) -> list[tuple[int, dict]]:
    """(index, block) of a nested-block list, skipping what is not a block."""
    return [(i, b) for i, b in enumerate(value) if isinstance(b, dict)] if isinstance(value, list) else []


def _strings(value: Any) -> list[Any]:
    """The items of a list attribute (a single string counts as one item); unknown items stay Unknown."""
    if isinstance(value, (str, Unknown)):
        return [value]
    return [v for v in value if isinstance(v, (str, Unknown))] if isinstance(value, list) else []


def _points_at(resource: TfResource, path: tuple, target: TfResource, inventory: TfInventory,
               names: Iterable[str]) -> bool:
    """Does the attribute at ``path`` name ``target``: an equal known value (its name or ARN), an unknown
    value computed from it, or else an expression referring to it?"""
    value = resource.get(*path)
    same_root = _root(resource.module) is _root(target.module)  # examples side by side reuse names
    if isinstance(value, str):
        return same_root and value in set(names)
    if isinstance(value, list):
        return any(same_root and isinstance(v, str) and v in set(names) or _ref_of(v, target, resource)
                   for v in value) or (not is_known(value) and target in inventory.referenced(resource, path))
    if isinstance(value, Unknown):
        if value.ref:
            return _ref_of(value, target, resource)
        return target in inventory.referenced(resource, path)
    return False


def _ref_of(value: Any, target: TfResource, holder: TfResource) -> bool:
    return (isinstance(value, Unknown) and bool(value.ref) and value.ref.startswith(target.address + ".")
            and _root(holder.module) is _root(target.module))


# --- S3 buckets and their companion resources --------------------------------------------------------

def _bucket_name(bucket: TfResource) -> str | None:
    return _known_str(bucket.values.get("bucket"))


def _bucket_ids(bucket: TfResource) -> set[str]:
    name = _bucket_name(bucket)
    return {name, f"arn:aws:s3:::{name}"} if name else set()


def _companions(bucket: TfResource, inventory: TfInventory, *types: str, attribute: str = "bucket") -> list[TfResource]:
    """Resources of ``types`` configuring ``bucket`` (aws_s3_bucket_versioning, ..._policy, ...)."""
    ids = _bucket_ids(bucket)
    return [c for c in inventory.of_type(*types) if _managed(c) and _points_at(c, (attribute,), bucket, inventory, ids)]


def _s3_url(value: Any) -> tuple[str, str] | None:
    """(bucket, key) of an ``s3://bucket/key`` or ``https://bucket.s3...amazonaws.com/key`` URL."""
    if not isinstance(value, str):
        return None
    match = re.match(r"s3://([^/]+)/?(.*)$", value) or re.match(
        r"https://([^/]+?)\.s3[.-][^/]*amazonaws\.com/?(.*)$", value)
    return (match.group(1), match.group(2)) if match else None


@dataclass
class _ModelBucket:
    reason: str  # why the bucket counts as a model bucket, for messages
    related: list[RelatedHit] = field(default_factory=list)


@dataclass
class _Index:
    """What the rules of one scan share: which buckets hold models, which roles and images serve them."""

    inventory: TfInventory
    model_buckets: dict[int, _ModelBucket] = field(default_factory=dict)
    serving_roles: dict[int, tuple[str, list[RelatedHit]]] = field(default_factory=dict)
    serving_repos: dict[int, tuple[str, list[RelatedHit]]] = field(default_factory=dict)
    # id(role) -> (model, bucket, object key) of the SageMaker models running as the role
    role_models: dict[int, list[tuple[TfResource, TfResource, str]]] = field(default_factory=dict)


def _index(inventory: TfInventory) -> _Index:
    return inventory.memo("aws_cloud.index", lambda: _indexed(inventory))


def _indexed(inventory: TfInventory) -> _Index:
    index = _Index(inventory)
    _classify_buckets(index)
    _classify_roles(index)
    _classify_workloads(index)
    _classify_repos(index)
    return index


def _model_locations(model: TfResource) -> Iterator[tuple[tuple, Any]]:
    for key in ("primary_container", "container"):
        for i, container in _blocks(model.values.get(key)):
            yield (key, i, "model_data_url"), container.get("model_data_url")
            for j, source in _blocks(container.get("model_data_source")):
                for k, s3 in _blocks(source.get("s3_data_source")):
                    yield (key, i, "model_data_source", j, "s3_data_source", k, "s3_uri"), s3.get("s3_uri")


def _roles_named(resource: TfResource, path: tuple, inventory: TfInventory) -> list[TfResource]:
    """The aws_iam_role(s) an ARN attribute names: by reference, by computed ARN, or by a literal ARN."""
    found = []
    for role in inventory.of_type("aws_iam_role"):
        if not _managed(role):
            continue
        name = _known_str(role.values.get("name"))
        value = resource.get(*path)
        if isinstance(value, str) and name and _root(resource.module) is _root(role.module) and re.fullmatch(
                rf"arn:aws[\w-]*:iam::[^:]*:role/(.*/)?{re.escape(name)}", value):
            found.append(role)
        elif not isinstance(value, str) and _points_at(resource, path, role, inventory, ()):
            found.append(role)
    return found


def _classify_buckets(index: _Index) -> None:
    inventory = index.inventory
    buckets = [b for b in inventory.of_type(S3_BUCKET) if _managed(b)]
    objects = [o for o in inventory.of_type("aws_s3_object", "aws_s3_bucket_object") if _managed(o)]
    for model in inventory.of_type("aws_sagemaker_model"):
        if not _managed(model):
            continue
        roles = _roles_named(model, ("execution_role_arn",), inventory)
        for path, url in _model_locations(model):
            parsed = _s3_url(url)
            for bucket in buckets:
                name = _bucket_name(bucket)
                hit = bool(parsed and name and parsed[0] == name and _root(bucket.module) is _root(model.module))
                if not hit and not isinstance(url, str):
                    hit = _points_at(model, path, bucket, inventory, ()) or any(
                        _points_at(model, path, o, inventory, ()) and _points_at(o, ("bucket",), bucket, inventory,
                                                                                  _bucket_ids(bucket))
                        for o in objects)
                if not hit:
                    continue
                where = url if isinstance(url, str) else "an S3 URI that names this bucket"
                entry = index.model_buckets.setdefault(
                    id(bucket), _ModelBucket(f"{model.address} loads its model artifacts from {where}"))
                entry.related.append(RelatedHit(model, path, f"{model.address} loads its model from this bucket"))
                key = parsed[1] if parsed else None
                for role in roles:
                    if key is not None:
                        index.role_models.setdefault(id(role), []).append((model, bucket, key))
    for bucket in buckets:
        if id(bucket) in index.model_buckets:
            continue
        for attribute in ("bucket", "bucket_prefix"):
            value = _known_str(bucket.values.get(attribute))
            if value and MODEL_HINT.search(value):
                index.model_buckets[id(bucket)] = _ModelBucket(f'its name "{value}" says it holds models')
                break
        else:
            if MODEL_HINT.search(bucket.name):
                index.model_buckets[id(bucket)] = _ModelBucket(
                    f'its Terraform name "{bucket.name}" says it holds models')


def _own_prefix(key: str) -> str:
    """The part of the bucket a model owns: its top-level folder (``fraud/`` of ``fraud/v3/model.tar.gz``)."""
    return key.split("/", 1)[0] + "/" if "/" in key else key


def _model_bucket(bucket: TfResource, inventory: TfInventory) -> _ModelBucket | None:
    if not _managed(bucket):
        return None
    return _index(inventory).model_buckets.get(id(bucket))


def _as_model_bucket(bucket: TfResource, entry: _ModelBucket) -> str:
    return f"{bucket.address} is a model bucket ({entry.reason})"


# --- public access: block, ACLs, policies -------------------------------------------------------------

def _account_block(inventory: TfInventory) -> TfResource | None:
    """An account-wide public access block with all four settings on (it overrides every bucket's)."""
    for account in inventory.of_type("aws_s3_account_public_access_block"):
        if _managed(account) and all(setting(account, flag).value is True for flag in PAB_FLAGS):
            return account
    return None


def _block_gaps(block: TfResource) -> tuple[list[tuple[str, bool]], list[str]]:
    """(settings off as (name, written), settings unknown) of a public access block."""
    off, unknown = [], []
    for flag in PAB_FLAGS:
        current = setting(block, flag)
        if current.unknown:
            unknown.append(flag)
        elif current.value is not True:
            off.append((flag, current.written))
    return off, unknown


S3_MODULE_SOURCE = "terraform-aws-modules/s3-bucket/aws"
S3_MODULE = "module:" + S3_MODULE_SOURCE


def _module_major(call: TfResource) -> int | None:
    """The major version a registry module call pins (``3.7.0``, ``~> 3.0``), or None."""
    match = re.search(r"(\d+)(?:\.\d+)*", str(call.values.get("version") or ""))
    return int(match.group(1)) if match else None


def _s3_module_block(call: TfResource) -> Iterator[Hit]:
    """The s3-bucket registry module makes the bucket's public access block from its inputs; before
    version 4 the four settings default to false, and attach_public_policy = false drops the block."""
    if call.values.get("attach_public_policy") is False:
        yield Hit(("attach_public_policy",), f"{call.address} sets attach_public_policy = false: the module "
                                              "creates no public access block for the bucket")
        return
    major = _module_major(call)
    defaults_off = major is not None and major < 4
    off = [(flag, flag in call.values) for flag in PAB_FLAGS
           if call.values.get(flag) is False or (flag not in call.values and defaults_off)]
    if off:
        path = next(((flag,) for flag, written in off if written), ())
        described = ", ".join(f"{flag} = false" if written else f"{flag} unset (default false before version 4)"
                              for flag, written in off)
        yield Hit(path, f"{call.address} (module {S3_MODULE_SOURCE} {call.values.get('version', '')}) leaves "
                        f"public access partly open: {described}")


def _block_hit(block: TfResource, prefix: str = "") -> Hit | None:
    off, unknown = _block_gaps(block)
    if off:
        path = next(((flag,) for flag, written in off if written), (off[0][0],))
        described = ", ".join(f"{flag} = false" if written else f"{flag} unset (default: false)"
                              for flag, written in off)
        fix = safe(f"set {', '.join(flag for flag, _ in off)} = true",
                   *(SetAttribute((flag,), "true") for flag, _ in off))
        return Hit(path, f"{prefix}{block.address} leaves public access partly open: {described}", fixes=(fix,))
    if unknown:
        return Hit((unknown[0],), f"{prefix}{block.address} sets {', '.join(unknown)} to values not known "
                                  "statically, so whether public access is blocked is not known",
                   confidence=Confidence.LOW)
    return None


def _public_access_block_fixes(bucket: TfResource) -> tuple[SymbolicFix, ...]:
    """A public access block for the bucket, with all four settings on, right after it."""
    if bucket.block is None or {"count", "for_each"} & set(bucket.block.body.attributes):
        return ()  # a plan entry, or one block for many buckets: written by hand
    body = (("bucket", "{self}.id"),) + tuple((flag, "true") for flag in PAB_FLAGS)
    return (safe("add an aws_s3_bucket_public_access_block with all four settings true",
                 AddResource("aws_s3_bucket_public_access_block", bucket.name, body)),)


def _acl_hits(resource: TfResource) -> Iterator[tuple[tuple, str, bool]]:
    """(path, what is public, known) for the public ACLs of a bucket (legacy ``acl``/``grant``) or an
    aws_s3_bucket_acl."""
    acl = resource.values.get("acl")
    if isinstance(acl, str) and acl in PUBLIC_ACLS:
        yield ("acl",), f"the canned ACL {PUBLIC_ACLS[acl]}", True
    elif isinstance(acl, Unknown):
        yield ("acl",), f"a canned ACL not known statically ({acl.reason})", False
    grants = list(_blocks(resource.values.get("grant")))
    for p, policy in _blocks(resource.values.get("access_control_policy")):
        grants.extend(((("access_control_policy", p, "grant", g)), grant) for g, grant in _blocks(policy.get("grant")))
    for index, grant in grants:
        path = index if isinstance(index, tuple) else ("grant", index)
        uris = [grant.get("uri")] + [g.get("uri") for _, g in _blocks(grant.get("grantee"))]
        for uri in uris:
            if isinstance(uri, str) and uri in PUBLIC_GRANTEES:
                group = uri.rsplit("/", 1)[-1]
                permission = grant.get("permission") or ", ".join(p for p in _strings(grant.get("permissions"))
                                                                  if isinstance(p, str)) or "grant"
                yield path, f"a {permission} grant to the {group} group", True


def _allows(statement: Statement) -> bool:
    """An Allow statement; one without Effect (which IAM rejects) is read as Allow, to be safe."""
    return statement.effect != "Deny"


def _public_principal(statement: Statement) -> bool:
    return any(p == "*" or p.endswith(":*") for p in statement.principals)


def _restricted(statement: Statement) -> bool:
    for operator, key, values in statement.conditions:
        if key.lower() not in RESTRICTING_CONDITION_KEYS:
            continue
        if key.lower() == "aws:sourceip" and any(v in ("0.0.0.0/0", "::/0") for v in values):
            continue
        if any(v == "*" for v in values) or operator.startswith(("StringNot", "ArnNot", "NotIp")):
            continue
        return True
    return False


def _actions_text(statement: Statement) -> str:
    if statement.not_actions:
        return "every action except " + ", ".join(statement.not_actions)
    return ", ".join(statement.actions) or "no action"


def _statement_path(owner: TfResource, attribute: tuple, statement: Statement, part: str = "actions") -> tuple:
    """Where a statement sits: its block of a policy-document data source, else the policy attribute."""
    if owner.mode == "data" and owner.type == "aws_iam_policy_document":
        index = statement.index - _merged_count(owner)
        if 0 <= index < len(_blocks(owner.values.get("statement"))):
            return ("statement", index, part, 0) if part == "principals" else ("statement", index, part)
    return attribute


def _merged_count(document: TfResource) -> int:
    """How many statements of a policy-document data source come from its source_policy_documents."""
    parsed = parse_policy(document.values.get("json"))
    total = len(parsed) if isinstance(parsed, list) else 0
    return max(0, total - len(_blocks(document.values.get("statement"))))


# --- policy documents: where they are, and which statements they hold ----------------------------------

@dataclass
class _Doc:
    owner: TfResource  # where findings go: the policy resource, or the policy-document data source
    attribute: tuple  # the attribute holding the document (on the owner unless owner is a data source)
    statements: list[Statement]
    refs: dict[int, set[str]]  # statement index -> references of unknown Resource entries
    unknown: bool = False  # the document could not be read

    def path(self, statement: Statement, part: str = "actions") -> tuple:
        return _statement_path(self.owner, self.attribute, statement, part)


def _unknown_refs(document: Any) -> dict[int, set[str]]:
    raw = document.partial if isinstance(document, Unknown) else document
    if isinstance(raw, str):
        try:
            raw = decode_json(raw)
        except ValueError:
            return {}
    statements = raw.get("Statement") if isinstance(raw, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    out: dict[int, set[str]] = {}
    for i, statement in enumerate(statements if isinstance(statements, list) else ()):
        if isinstance(statement, dict):
            items = statement.get("Resource")
            items = items if isinstance(items, list) else [items]
            out[i] = {item.ref for item in items if isinstance(item, Unknown) and item.ref}
    return out


def _decode(value: Any) -> Any:
    """A JSON policy string decoded leniently, as IAM-minded scanners do: trailing commas are dropped and a
    Principal given as a bare list is read as AWS principals. Anything else is returned as it is."""
    if not isinstance(value, str):
        return value
    try:
        decoded = decode_json(value)
    except ValueError:
        try:
            decoded = decode_json(re.sub(r",(\s*[}\]])", r"\1", value))
        except ValueError:
            return value
    statements = decoded.get("Statement") if isinstance(decoded, dict) else None
    for statement in statements if isinstance(statements, list) else [statements]:
        if isinstance(statement, dict) and isinstance(statement.get("Principal"), list):
            statement["Principal"] = {"AWS": statement["Principal"]}
    return decoded


def _document(resource: TfResource, path: tuple, inventory: TfInventory) -> _Doc:
    """The policy document at ``path``; a document that comes from one aws_iam_policy_document data source
    is attributed to that data source (its statement blocks locate the findings)."""
    value = resource.get(*path)
    sources = [d for d in inventory.referenced(resource, path, "aws_iam_policy_document") if d.mode == "data"]
    owner, attribute = resource, path
    if len(sources) == 1 and not sources[0].values.get("source_policy_documents") \
            and not sources[0].values.get("override_policy_documents"):
        owner, attribute, value = sources[0], ("json",), sources[0].values.get("json")
    value = _decode(value)
    statements = parse_policy(value) if value is not None else []
    if isinstance(statements, Unknown):
        return _Doc(owner, attribute, [], {}, unknown=True)
    if owner.mode == "data" and owner.type == "aws_iam_policy_document":
        statements = _with_context(owner, statements)
    return _Doc(owner, attribute, statements, _unknown_refs(value))


# Data sources whose values only fill in the partition, region or account of an ARN.
CONTEXT_SOURCES = {"aws_partition": "aws", "aws_region": "*", "aws_caller_identity": "*"}


def _context_part(part: Any) -> str | None:
    refs = references(part)
    if len(refs) == 1:
        root, steps = next(iter(refs))
        if root == "data" and steps and steps[0] in CONTEXT_SOURCES:
            return CONTEXT_SOURCES[steps[0]]
    return None


def _render(expr: Any, scope: Any) -> str | None:
    """A template like ``arn:${data.aws_partition.current.partition}:s3:::models/*`` rendered with the
    partition ("aws"), region and account ("*") that are only known at plan time."""
    if not isinstance(expr, ast.Template):
        return None
    out = []
    for part in expr.parts:
        if isinstance(part, str):
            out.append(part)
            continue
        if isinstance(part, (ast.TemplateIf, ast.TemplateFor)):
            return None
        value = evaluate_safely(part, scope)
        if isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            out.append(str(value))
            continue
        context = _context_part(part)
        if context is None:
            return None
        out.append(context)
    return "".join(out)


def _with_context(document: TfResource, statements: list[Statement]) -> list[Statement]:
    """Fill the unknown Resource entries of a policy document's own statements that differ from a known ARN
    only by partition, region or account."""
    merged = _merged_count(document)
    out = []
    for statement in statements:
        block = statement.index - merged
        expr = document.expressions.get(("statement", block, "resources")) if block >= 0 else None
        if UNKNOWN_ITEM in statement.resources and isinstance(expr, ast.TupleExpr) \
                and len(expr.items) == len(statement.resources):
            rendered = [r if r != UNKNOWN_ITEM else (_render(item, document.module.scope) or UNKNOWN_ITEM)
                        for r, item in zip(statement.resources, expr.items)]
            statement = replace(statement, resources=tuple(rendered))
        out.append(statement)
    return out


def _policy_documents(resource: TfResource) -> Iterator[tuple[tuple, Any]]:
    """(path, document) of the policies a resource carries itself."""
    if resource.type == "aws_iam_role":
        for i, block in _blocks(resource.values.get("inline_policy")):
            if block.get("policy") is not None:
                yield ("inline_policy", i, "policy"), block.get("policy")
    elif resource.type == "aws_ssoadmin_permission_set_inline_policy":
        yield ("inline_policy",), resource.values.get("inline_policy")
    elif resource.type == "aws_iam_policy_document":
        yield ("json",), resource.values.get("json")
    elif resource.values.get("policy") is not None:
        yield ("policy",), resource.values.get("policy")


# --- serving identities and serving images --------------------------------------------------------------

def _hint(*values: Any) -> str | None:
    for value in values:
        if isinstance(value, str) and SERVING_HINT.search(value):
            return value
    return None


def _classify_roles(index: _Index) -> None:
    inventory = index.inventory

    def mark(role: TfResource, reason: str, related: list[RelatedHit]) -> None:
        index.serving_roles.setdefault(id(role), (reason, related))

    for model in inventory.of_type("aws_sagemaker_model"):
        if _managed(model):
            for role in _roles_named(model, ("execution_role_arn",), inventory):
                mark(role, f"the execution role of {model.address}",
                     [RelatedHit(model, ("execution_role_arn",), f"{model.address} runs as this role")])
    for association in inventory.of_type("aws_eks_pod_identity_association"):
        if not _managed(association):
            continue
        account, namespace = association.values.get("service_account"), association.values.get("namespace")
        for role in _roles_named(association, ("role_arn",), inventory):
            hint = _hint(account, namespace, role.values.get("name"), role.name)
            if hint:
                mark(role, f"bound by {association.address} to the Kubernetes service account "
                           f"{namespace}/{account} of a serving workload (\"{hint}\")",
                     [RelatedHit(association, ("role_arn",), f"{association.address} binds the role to pods")])
    for account in inventory.of_type("kubernetes_service_account", "kubernetes_service_account_v1"):
        for m, metadata in _blocks(account.values.get("metadata")):
            annotations = metadata.get("annotations")
            if not isinstance(annotations, dict) or "eks.amazonaws.com/role-arn" not in annotations:
                continue
            path = ("metadata", m, "annotations")
            for role in _roles_named(account, path + ("eks.amazonaws.com/role-arn",), inventory) or \
                    _irsa_roles(account, path, inventory):
                hint = _hint(metadata.get("name"), metadata.get("namespace"), role.values.get("name"), role.name)
                if hint:
                    mark(role, f"bound through IRSA to the Kubernetes service account {account.address} of a "
                               f"serving workload (\"{hint}\")",
                         [RelatedHit(account, path, f"{account.address} carries the IRSA annotation")])
    for role in inventory.of_type("aws_iam_role"):
        if _managed(role):
            hint = _hint(role.values.get("name"), role.values.get("name_prefix"), role.name)
            if hint:
                mark(role, f'its name "{hint}" says it serves models', [])


@dataclass(frozen=True)
class _PodUser:
    """A Kubernetes model server that runs as a role, listed in ``role_models`` next to SageMaker models."""

    obj: Any  # the workload's K8sObject
    path: tuple  # its serviceAccountName line
    address: str  # how messages name it


def _classify_workloads(index: _Index) -> None:
    """Roles Kubernetes model servers assume (IRSA annotation, EKS Pod Identity association), found by the
    resource graph across the scan's manifests and Terraform folders (catalogue G-03), and the buckets and
    prefixes those servers load their models from."""
    graph = graph_of_terraform(index.inventory)
    for pod in graph.serving_pods():
        roles = [link for link in graph.identities(pod) if link.identity.resource is not None
                 and link.identity.resource.type == "aws_iam_role" and _managed(link.identity.resource)]
        for link in roles:
            role = link.identity.resource
            index.serving_roles.setdefault(id(role), (f"assumed by the model server {pod.display} ({link.how})",
                                                      [RelatedHit(link.via, link.path, link.how)]))
            for location in graph.locations(pod):
                bucket = location.store.resource
                if bucket is None or bucket.type != S3_BUCKET or not _managed(bucket):
                    continue
                entry = index.model_buckets.setdefault(
                    id(bucket), _ModelBucket(f"{pod.display} loads its model from {location.uri}"))
                entry.related.append(RelatedHit(location.obj, location.path, f"{pod.display} loads its model here"))
                user = _PodUser(pod.obj, graph.account_path(pod), pod.display)
                index.role_models.setdefault(id(role), []).append((user, bucket, location.key))  # type: ignore[arg-type]


def _runs_as(user: Any, role: TfResource) -> RelatedHit:
    path = user.path if isinstance(user, _PodUser) else ("execution_role_arn",)
    return RelatedHit(user.obj if isinstance(user, _PodUser) else user, path, f"{user.address} runs as {role.address}")


def _irsa_roles(account: TfResource, path: tuple, inventory: TfInventory) -> list[TfResource]:
    """Roles an annotations map refers to (the annotation value alone has no expression of its own)."""
    return [r for r in inventory.referenced(account, path, "aws_iam_role") if _managed(r)]


def _image_repo_name(image: str) -> str | None:
    match = re.match(r"[0-9]{12}\.dkr\.ecr\.[^/]+\.amazonaws\.com(?:\.cn)?/([^:@]+)", image)
    return match.group(1) if match else None


def _classify_repos(index: _Index) -> None:
    inventory = index.inventory
    repos = [r for r in inventory.of_type("aws_ecr_repository") if _managed(r)]
    for model in inventory.of_type("aws_sagemaker_model"):
        if not _managed(model):
            continue
        for key in ("primary_container", "container"):
            for i, container in _blocks(model.values.get(key)):
                image, path = container.get("image"), (key, i, "image")
                for repo in repos:
                    name = _known_str(repo.values.get("name"))
                    if isinstance(image, str):
                        matched = bool(name) and _image_repo_name(image) == name \
                            and _root(repo.module) is _root(model.module)
                    else:
                        matched = _points_at(model, path, repo, inventory, ())
                    if matched:
                        shown = image if isinstance(image, str) else "an image URL that names this repository"
                        index.serving_repos.setdefault(id(repo), (
                            f"{model.address} serves its model with {shown}",
                            [RelatedHit(model, path, f"{model.address} pulls its serving image from this repository")]))
    for repo in repos:
        if id(repo) not in index.serving_repos:
            for value in (repo.values.get("name"), repo.name):
                if isinstance(value, str) and IMAGE_HINT.search(value):
                    index.serving_repos[id(repo)] = (f'its name "{value}" says it holds model-serving images', [])
                    break


# --- a role's policies ---------------------------------------------------------------------------------

MANAGED_POLICY_ARN = re.compile(r"arn:aws[\w-]*:iam::aws:policy/(?:.*/)?([^/]+)$")


def _policy_arn_targets(holder: TfResource, path: tuple, inventory: TfInventory) -> Iterator[tuple[str, Any]]:
    """What a policy ARN attribute names: ("policy", aws_iam_policy), ("managed", name) or ("unknown", value)."""
    value = holder.get(*path)
    policies = [p for p in inventory.of_type("aws_iam_policy") if _managed(p)]
    for item in _strings(value) if isinstance(value, list) else [value]:
        if isinstance(item, str):
            managed = MANAGED_POLICY_ARN.match(item)
            if managed:
                yield "managed", managed.group(1)
                continue
            named = next((p for p in policies if isinstance(p.values.get("name"), str)
                          and re.search(rf":policy/(.*/)?{re.escape(p.values['name'])}$", item)), None)
            if named is not None:
                yield "policy", named
        elif isinstance(item, Unknown):
            found = [p for p in policies if _ref_of(item, p, holder)]
            lookups = [d for d in inventory.referenced(holder, path, "aws_iam_policy") if d.mode == "data"]
            if found:
                yield from (("policy", p) for p in found)
            elif not item.ref:
                yield from (("policy", p) for p in inventory.referenced(holder, path, "aws_iam_policy") if _managed(p))
            for lookup in lookups:
                name = _known_str(lookup.values.get("name")) or _managed_name(lookup.values.get("arn"))
                if name:
                    yield "managed", name


def _managed_name(arn: Any) -> str | None:
    match = MANAGED_POLICY_ARN.match(arn) if isinstance(arn, str) else None
    return match.group(1) if match else None


@dataclass
class _Grant:
    """A policy that reaches a role, and through which resource."""

    doc: _Doc | None
    managed: str | None  # an AWS-managed policy name
    via: TfResource  # the attachment or inline-policy resource
    via_path: tuple


def _role_grants(role: TfResource, inventory: TfInventory) -> list[_Grant]:
    grants: list[_Grant] = []
    names = {v for v in (role.values.get("name"),) if isinstance(v, str)}
    for path, _ in _policy_documents(role):
        grants.append(_Grant(_document(role, path, inventory), None, role, path))
    if role.values.get("managed_policy_arns") is not None:
        grants.extend(_attached(role, ("managed_policy_arns",), inventory, role))
    for inline in inventory.of_type("aws_iam_role_policy"):
        if _managed(inline) and _points_at(inline, ("role",), role, inventory, names):
            grants.append(_Grant(_document(inline, ("policy",), inventory), None, inline, ("policy",)))
    for attachment in inventory.of_type("aws_iam_role_policy_attachment"):
        if _managed(attachment) and _points_at(attachment, ("role",), role, inventory, names):
            grants.extend(_attached(attachment, ("policy_arn",), inventory, role))
    for attachment in inventory.of_type("aws_iam_policy_attachment"):
        if _managed(attachment) and _points_at(attachment, ("roles",), role, inventory, names):
            grants.extend(_attached(attachment, ("policy_arn",), inventory, role))
    for attachment in inventory.of_type("aws_iam_role_policy_attachments_exclusive"):
        if _managed(attachment) and _points_at(attachment, ("role_name",), role, inventory, names):
            grants.extend(_attached(attachment, ("policy_arns",), inventory, role))
    return grants


def _attached(holder: TfResource, path: tuple, inventory: TfInventory, role: TfResource) -> list[_Grant]:
    out = []
    for kind, target in _policy_arn_targets(holder, path, inventory):
        if kind == "policy":
            out.append(_Grant(_document(target, ("policy",), inventory), None, holder, path))
        elif kind == "managed":
            out.append(_Grant(None, target, holder, path))
    return out


def _serving(role: TfResource, inventory: TfInventory) -> tuple[str, list[RelatedHit]] | None:
    if not _managed(role) or role.type != "aws_iam_role":
        return None
    return _index(inventory).serving_roles.get(id(role))


def _attached_anywhere(policy: TfResource, inventory: TfInventory) -> bool:
    for kind, attribute in ATTACHMENT_ARNS.items():
        for holder in inventory.of_type(kind):
            if _managed(holder) and holder.values.get(attribute) is not None and any(
                    target is policy for k, target in _policy_arn_targets(holder, (attribute,), inventory)
                    if k == "policy"):
                return True
    return False


def _serving_grants(resource: TfResource, inventory: TfInventory) -> tuple[str, list[_Grant], list[RelatedHit],
                                                                          Confidence | None] | None:
    """(who, grants, related, confidence) for a serving role, or for a policy named for a model server whose
    role is created outside this configuration (a remote IRSA module, another stack)."""
    if resource.type == "aws_iam_role":
        serving = _serving(resource, inventory)
        if serving is None:
            return None
        return f"{resource.address} ({serving[0]})", _role_grants(resource, inventory), serving[1], None
    if not _managed(resource) or resource.values.get("policy") is None:
        return None
    hint = _hint(resource.values.get("name"), resource.values.get("name_prefix"), resource.values.get("description"),
                 resource.name)
    if hint is None or _attached_anywhere(resource, inventory):
        return None
    grant = _Grant(_document(resource, ("policy",), inventory), None, resource, ("policy",))
    who = (f"the role that {resource.address} is attached to outside this configuration (the policy is named for "
           f"a model server: \"{hint}\")")
    return who, [grant], [], Confidence.MEDIUM


# --- bucket features: versioning, logging, encryption, object lock ------------------------------------

@dataclass
class _State:
    state: str  # "on", "off", "missing" or "unknown"
    obj: TfResource
    path: tuple
    value: Any = None


def _first(states: list[_State], bucket: TfResource, missing_path: tuple) -> _State:
    for wanted in ("on", "unknown", "off"):
        for state in states:
            if state.state == wanted:
                return state
    return _State("missing", bucket, missing_path)


def _versioning(bucket: TfResource, inventory: TfInventory) -> _State:
    states = []
    for companion in _companions(bucket, inventory, "aws_s3_bucket_versioning"):
        for i, block in _blocks(companion.values.get("versioning_configuration")) or [(0, {})]:
            status = block.get("status")
            path = ("versioning_configuration", i, "status")
            states.append(_State("on" if status == "Enabled" else "unknown" if isinstance(status, Unknown) else "off",
                                 companion, path, status))
    for i, block in _blocks(bucket.values.get("versioning")):
        enabled = block.get("enabled")
        states.append(_State("on" if enabled is True else "unknown" if isinstance(enabled, Unknown) else "off",
                             bucket, ("versioning", i, "enabled"), enabled if enabled is not None else False))
    return _first(states, bucket, ("versioning",))


def _object_lock(bucket: TfResource, inventory: TfInventory) -> bool:
    if setting(bucket, "object_lock_enabled").value is True:
        return True
    legacy = _blocks(bucket.values.get("object_lock_configuration"))
    if any(b.get("object_lock_enabled") == "Enabled" for _, b in legacy):
        return True
    return bool(_companions(bucket, inventory, "aws_s3_bucket_object_lock_configuration"))


def _logging(bucket: TfResource, inventory: TfInventory) -> _State:
    states = [_State("on", c, ("target_bucket",)) for c in _companions(bucket, inventory, "aws_s3_bucket_logging")]
    for i, block in _blocks(bucket.values.get("logging")):
        target = block.get("target_bucket")
        states.append(_State("on" if target is not None else "off", bucket, ("logging", i, "target_bucket"), target))
    return _first(states, bucket, ("logging",))


def _is_log_bucket(bucket: TfResource, inventory: TfInventory) -> bool:
    """A bucket that receives access logs (logging it to itself or another bucket is a loop or a chain)."""
    ids = _bucket_ids(bucket)
    for source in inventory.of_type("aws_s3_bucket_logging"):
        if _managed(source) and _points_at(source, ("target_bucket",), bucket, inventory, ids):
            return True
    for other in inventory.of_type(S3_BUCKET):
        for i, _ in _blocks(other.values.get("logging")):
            if _points_at(other, ("logging", i, "target_bucket"), bucket, inventory, ids):
                return True
    acls = [bucket] + _companions(bucket, inventory, "aws_s3_bucket_acl")
    return any(a.values.get("acl") == "log-delivery-write" for a in acls)


def _encryption(bucket: TfResource, inventory: TfInventory) -> _State:
    """"on" = SSE-KMS with a customer-managed key."""
    states = []
    rules_of = [(c, ("rule",), c.values.get("rule"))
                for c in _companions(bucket, inventory, "aws_s3_bucket_server_side_encryption_configuration")]
    for i, block in _blocks(bucket.values.get("server_side_encryption_configuration")):
        rules_of.append((bucket, ("server_side_encryption_configuration", i, "rule"), block.get("rule")))
    for obj, prefix, rule_blocks in rules_of:
        for r, rule in _blocks(rule_blocks):
            for d, default in _blocks(rule.get("apply_server_side_encryption_by_default")):
                path = prefix + (r, "apply_server_side_encryption_by_default", d)
                algorithm, key = default.get("sse_algorithm"), default.get("kms_master_key_id")
                if algorithm in ("aws:kms", "aws:kms:dsse") and _is_cmk_ref(key):
                    states.append(_State("on", obj, path + ("kms_master_key_id",), key))
                elif isinstance(algorithm, Unknown) or isinstance(key, Unknown):
                    states.append(_State("unknown", obj, path + ("kms_master_key_id",), key))
                elif algorithm in ("aws:kms", "aws:kms:dsse") and isinstance(key, str) and key \
                        and not key.endswith("alias/aws/s3"):
                    states.append(_State("on", obj, path + ("kms_master_key_id",), key))
                elif algorithm in ("aws:kms", "aws:kms:dsse"):
                    states.append(_State("off", obj, path + ("kms_master_key_id",),
                                         "the AWS-managed key aws/s3"))
                else:
                    states.append(_State("off", obj, path + ("sse_algorithm",), f"{algorithm} (S3-managed keys)"))
    return _first(states, bucket, ("server_side_encryption_configuration",))


def _is_cmk_ref(value: Any) -> bool:
    """An unknown key ARN computed from a KMS key this configuration manages or looks up."""
    return isinstance(value, Unknown) and bool(re.search(
        r"(^|\.)(aws_kms_key|aws_kms_alias|aws_kms_replica_key|aws_kms_external_key)\.", value.ref or ""))


def _public_policy_hits(holder: TfResource, path: tuple, inventory: TfInventory) -> Iterator[tuple[tuple, str, bool]]:
    """(path, description, known) for statements of the policy at ``path`` that any principal may use."""
    doc = _document(holder, path, inventory)
    if doc.unknown:
        return
    for statement in doc.statements:
        if _allows(statement) and _public_principal(statement) and not _restricted(statement):
            yield doc.path(statement, "principals"), (
                f"statement {statement.index + 1} allows {_actions_text(statement)} to Principal \"*\" with no "
                "condition on the caller's account, organisation or network"), True


def _bucket_policies(bucket: TfResource, inventory: TfInventory) -> list[tuple[TfResource, tuple]]:
    found = [(p, ("policy",)) for p in _companions(bucket, inventory, "aws_s3_bucket_policy")]
    if bucket.values.get("policy") is not None:
        found.append((bucket, ("policy",)))
    return found


# --- rules: model buckets (catalogue ART / LOG) -----------------------------------------------------------

@rules.rule(
    id="MLS-ART-001", name="model-bucket-public", title="Model bucket publicly readable or writable",
    severity=Severity.CRITICAL, scope=Scope.RESOURCE, kinds=(S3_BUCKET,),
    rationale="""
        Public read of a model bucket hands out the weights (model theft); public write lets anyone replace
        them with a poisoned or trojaned model that the next endpoint deployment loads. S3 Block Public Access
        with all four settings on is the guardrail that keeps a later ACL or bucket-policy mistake from
        making the bucket public.""",
    remediation="""
        Add an `aws_s3_bucket_public_access_block` for the bucket with `block_public_acls`,
        `block_public_policy`, `ignore_public_acls` and `restrict_public_buckets` all `true`; drop public
        canned ACLs and `Principal: "*"` statements, or pin them with `aws:PrincipalOrgID` /
        `aws:SourceVpce` conditions.""",
    bad="""
        resource "aws_s3_bucket" "models" { bucket = "acme-ml-models-prod" }
        resource "aws_s3_bucket_acl" "models" {
          bucket = aws_s3_bucket.models.id
          acl    = "public-read"
        }""",
    good="""
        resource "aws_s3_bucket_public_access_block" "models" {
          bucket                  = aws_s3_bucket.models.id
          block_public_acls       = true
          block_public_policy     = true
          ignore_public_acls      = true
          restrict_public_buckets = true
        }""",
    references=(ML05, ML10, "OWASP LLM03:2025 Supply Chain", "MITRE ATLAS AML.T0035", "MITRE ATLAS AML.T0010.003",
                f"{CIS_AWS} 2.1.4", S3_PAB_DOC),
    supersedes=("TF-AWS-001", "TF-AWS-002", "TF-AWS-003", "TF-AWS-004"),
)
def model_bucket_public(bucket: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    entry = _model_bucket(bucket, inventory)
    if entry is None:
        return
    why = _as_model_bucket(bucket, entry)
    related = tuple(entry.related)
    if _account_block(inventory) is None:
        blocks = _companions(bucket, inventory, "aws_s3_bucket_public_access_block")
        if not blocks:
            yield Hit(("public_access_block",),
                      f"{why} and has no aws_s3_bucket_public_access_block: nothing in the configuration stops a "
                      "public ACL or bucket policy (the AWS default for new buckets can be switched off outside "
                      "Terraform)", severity=Severity.MEDIUM, related=related,
                      fixes=_public_access_block_fixes(bucket))
        for block in blocks:
            hit = _block_hit(block)
            if hit is not None:
                yield Hit(hit.path, f"{why}; {hit.message[0].lower()}{hit.message[1:]}", obj=block,
                          severity=Severity.HIGH, confidence=hit.confidence, related=related, fixes=hit.fixes)
    for holder in [bucket] + _companions(bucket, inventory, "aws_s3_bucket_acl"):
        for path, what, known in _acl_hits(holder):
            yield Hit(path, f"{why}; {holder.address} grants {what}", obj=holder, related=related,
                      confidence=None if known else Confidence.LOW)
    for holder, path in _bucket_policies(bucket, inventory):
        doc = _document(holder, path, inventory)
        if doc.unknown:
            yield Hit(path, f"{why}; the bucket policy of {holder.address} is not known statically, so whether it "
                            "opens the bucket to any principal is not known", obj=holder, confidence=Confidence.LOW,
                      severity=Severity.MEDIUM, related=related)
        for hit_path, what, _ in _public_policy_hits(holder, path, inventory):
            yield Hit(hit_path, f"{why}; the bucket policy of {holder.address}: {what}", obj=doc.owner,
                      related=related)


@rules.rule(
    id="MLS-ART-002", name="model-bucket-unversioned", title="Model bucket without versioning or object lock",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=(S3_BUCKET,),
    rationale="""
        Silently overwriting the weights in place is the cheapest way to poison a served model. With
        versioning every overwrite keeps the previous object, so tampering is visible and a rollback is one
        copy away; object lock (retention) additionally stops anyone, including a compromised pipeline,
        from deleting those versions.""",
    remediation="""
        Add `aws_s3_bucket_versioning` with `versioning_configuration { status = "Enabled" }`; for
        production or registry buckets also create the bucket with `object_lock_enabled = true` and an
        `aws_s3_bucket_object_lock_configuration` default retention.""",
    bad='resource "aws_s3_bucket" "models" { bucket = "acme-ml-models-prod" }',
    good="""
        resource "aws_s3_bucket_versioning" "models" {
          bucket = aws_s3_bucket.models.id
          versioning_configuration { status = "Enabled" }
        }""",
    references=(f"{WA_ML} MLSEC04-BP03", ML10, "OWASP ML02:2023 Data Poisoning", "MITRE ATLAS AML.T0018.000",
                "MITRE ATLAS AML.T0076", "https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html"),
    supersedes=("TF-AWS-005",),
)
def model_bucket_unversioned(bucket: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    entry = _model_bucket(bucket, inventory)
    if entry is None:
        return
    why = _as_model_bucket(bucket, entry)
    state = _versioning(bucket, inventory)
    related = tuple(entry.related)
    if state.state == "missing":
        if not _object_lock(bucket, inventory):
            yield Hit(state.path, f"{why} but has no versioning (no aws_s3_bucket_versioning) and no object lock: "
                                  "an overwritten model cannot be detected or rolled back", related=related)
    elif state.state == "off":
        yield Hit(state.path, f"{why} but {state.obj.address} sets versioning to {_text(state.value)}: an "
                              "overwritten model cannot be detected or rolled back", obj=state.obj, related=related)
    elif state.state == "unknown":
        yield Hit(state.path, f"{why}; {state.obj.address} sets versioning to a value not known statically "
                              f"({_unknown_reason(state.value)})", obj=state.obj, confidence=Confidence.LOW,
                  related=related)
    elif not _object_lock(bucket, inventory) and re.search(r"prod|registry|release", " ".join(
            v for v in (_bucket_name(bucket), bucket.name) if v), re.IGNORECASE):
        yield Hit(("object_lock_enabled",), f"{why} and looks like a production/registry bucket, but has no object "
                                            "lock: versions of released models can still be deleted",
                  severity=Severity.MEDIUM, related=related)


@rules.rule(
    id="MLS-ART-003", name="model-bucket-no-cmk", title="Model artifacts not encrypted with a customer-managed key",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(S3_BUCKET,),
    rationale="""
        With SSE-S3 or the AWS-managed `aws/s3` key, anyone with s3:GetObject can read the weights and there is
        no separate key policy to revoke or audit. A customer-managed KMS key adds a second, audited
        permission (kms:Decrypt) in front of proprietary models.""",
    remediation="""
        Add `aws_s3_bucket_server_side_encryption_configuration` with `sse_algorithm = "aws:kms"` and
        `kms_master_key_id = aws_kms_key.models.arn` (and `bucket_key_enabled = true`).""",
    bad='resource "aws_s3_bucket" "models" { bucket = "acme-ml-models-prod" }',
    good="""
        resource "aws_s3_bucket_server_side_encryption_configuration" "models" {
          bucket = aws_s3_bucket.models.id
          rule {
            apply_server_side_encryption_by_default {
              sse_algorithm     = "aws:kms"
              kms_master_key_id = aws_kms_key.models.arn
            }
          }
        }""",
    references=(ML05, "OWASP LLM02:2025 Sensitive Information Disclosure", "MITRE ATLAS AML.T0035",
                "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html"),
)
def model_bucket_no_cmk(bucket: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    entry = _model_bucket(bucket, inventory)
    if entry is None:
        return
    why = _as_model_bucket(bucket, entry)
    state = _encryption(bucket, inventory)
    related = tuple(entry.related)
    if state.state == "missing":
        yield Hit(state.path, f"{why} but has no server-side encryption configuration: objects get SSE-S3 with "
                              "S3-managed keys, not a customer-managed KMS key", related=related)
    elif state.state == "off":
        yield Hit(state.path, f"{why} but {state.obj.address} encrypts with {state.value}, not a customer-managed "
                              "KMS key", obj=state.obj, related=related)
    elif state.state == "unknown":
        yield Hit(state.path, f"{why}; {state.obj.address} sets its encryption key to a value not known "
                              f"statically ({_unknown_reason(state.value)})", obj=state.obj,
                  confidence=Confidence.LOW, related=related)


def _trail_covers(trail: TfResource, bucket: TfResource) -> str:
    """"yes", "no" or "unknown": does the trail record write data events on the bucket's objects?"""
    name = _bucket_name(bucket)
    unknown = False

    def arn_covers(value: Any, starts: bool) -> bool:
        nonlocal unknown
        if isinstance(value, Unknown):
            if _ref_of(value, bucket, trail):
                return True
            unknown = True
            return False
        if not isinstance(value, str):
            return False
        if value in ("arn:aws:s3", "arn:aws:s3:::"):
            return True
        if name is None:
            unknown = unknown or value.startswith("arn:aws:s3:::")
            return False
        target = f"arn:aws:s3:::{name}/"
        return target.startswith(value) if starts else value in (target, f"arn:aws:s3:::{name}")

    if isinstance(trail.values.get("enable_logging"), bool) and trail.values.get("enable_logging") is False:
        return "no"
    for _, selector in _blocks(trail.values.get("event_selector")):
        if selector.get("read_write_type") == "ReadOnly":
            continue
        for _, resource in _blocks(selector.get("data_resource")):
            if resource.get("type") == "AWS::S3::Object" and any(arn_covers(v, True)
                                                                 for v in _strings(resource.get("values"))):
                return "yes"
    for _, selector in _blocks(trail.values.get("advanced_event_selector")):
        fields = {f.get("field"): f for _, f in _blocks(selector.get("field_selector"))}
        category, kind = fields.get("eventCategory", {}), fields.get("resources.type", {})
        if "Data" not in _strings(category.get("equals")) or "AWS::S3::Object" not in _strings(kind.get("equals")):
            continue
        if "true" in _strings(fields.get("readOnly", {}).get("equals")):
            continue
        arn = fields.get("resources.ARN")
        if arn is None or any(arn_covers(v, True) for v in _strings(arn.get("starts_with"))) or any(
                arn_covers(v, False) for v in _strings(arn.get("equals"))):
            return "yes"
    return "unknown" if unknown else "no"


@rules.rule(
    id="MLS-LOG-005", name="model-bucket-no-object-audit", title="No object-level audit trail on a model bucket",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=(S3_BUCKET,),
    rationale="""
        CloudTrail records management events only by default: a PutObject that silently replaces model weights
        leaves no trace unless the bucket has server access logging or the trail records S3 data events for
        it. Without either, a poisoning or theft of the model can be neither detected nor attributed.""",
    remediation="""
        Record write data events for the bucket's objects in CloudTrail (`advanced_event_selector` with
        `eventCategory = Data`, `resources.type = AWS::S3::Object`, `resources.ARN` starting with the bucket
        ARN), or at least enable server access logging with `aws_s3_bucket_logging`.""",
    bad="""
        resource "aws_cloudtrail" "main" {
          name           = "org-trail"
          s3_bucket_name = aws_s3_bucket.trail.id   # management events only
        }""",
    good="""
        resource "aws_cloudtrail" "main" {
          name           = "org-trail"
          s3_bucket_name = aws_s3_bucket.trail.id
          event_selector {
            read_write_type = "WriteOnly"
            data_resource {
              type   = "AWS::S3::Object"
              values = ["${aws_s3_bucket.models.arn}/"]
            }
          }
        }""",
    references=(f"{CIS_AWS} 3.8", ML10, "MITRE ATLAS AML.T0018.000",
                "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html"),
    supersedes=("TF-AWS-006",),
)
def model_bucket_no_audit(bucket: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    entry = _model_bucket(bucket, inventory)
    if entry is None or _logging(bucket, inventory).state in ("on", "unknown"):
        return
    verdicts = [_trail_covers(t, bucket) for t in inventory.of_type("aws_cloudtrail") if _managed(t)]
    if "yes" in verdicts:
        return
    why = _as_model_bucket(bucket, entry)
    trails = "no CloudTrail trail in the configuration records" if not verdicts else \
        "no aws_cloudtrail records"
    if "unknown" in verdicts:
        yield Hit(("logging",), f"{why}, has no server access logging, and whether a trail records its object writes "
                                "is not known statically", confidence=Confidence.LOW, related=tuple(entry.related))
        return
    yield Hit(("logging",), f"{why} but has no server access logging and {trails} S3 data events for its objects: "
                            "an overwrite of the model leaves no trace", related=tuple(entry.related))


def _block_of_unknown_bucket(bucket: TfResource, inventory: TfInventory) -> bool:
    """Does the bucket's module declare a public access block whose bucket cannot be told (an input without a
    value, a reference to nothing declared)? It may be this bucket's: saying it has none would be a guess."""
    return any(_managed(block) and block.module is bucket.module and isinstance(block.get("bucket"), Unknown)
               and not block.get("bucket").ref and not inventory.referenced(block, ("bucket",))
               for block in inventory.of_type("aws_s3_bucket_public_access_block"))


# --- rules: S3 baseline --------------------------------------------------------------------------------

@rules.rule(
    id="TF-AWS-001", name="s3-public-access-block-missing", title="S3 bucket without a public access block",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=(S3_BUCKET,),
    rationale="""
        Block Public Access is the guardrail that overrides public ACLs and bucket policies. New buckets get it
        by default since April 2023, but a configuration that does not declare it does not enforce it: anyone
        with s3:PutBucketPublicAccessBlock can switch it off and Terraform will not notice.""",
    remediation="""
        Declare `aws_s3_bucket_public_access_block` for the bucket with all four settings `true`, or an
        `aws_s3_account_public_access_block` for the whole account.""",
    bad='resource "aws_s3_bucket" "data" { bucket = "acme-data" }',
    good="""
        resource "aws_s3_bucket_public_access_block" "data" {
          bucket                  = aws_s3_bucket.data.id
          block_public_acls       = true
          block_public_policy     = true
          ignore_public_acls      = true
          restrict_public_buckets = true
        }""",
    references=(f"{CIS_AWS} 2.1.4", "Checkov CKV2_AWS_6", S3_PAB_DOC),
)
def s3_block_missing(bucket: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(bucket) or _account_block(inventory) is not None:
        return
    if not _companions(bucket, inventory, "aws_s3_bucket_public_access_block") and \
            not _block_of_unknown_bucket(bucket, inventory):
        yield Hit(("public_access_block",), f"{bucket.address} has no aws_s3_bucket_public_access_block (and the "
                                            "configuration has no account-level block)",
                  fixes=_public_access_block_fixes(bucket))


@rules.rule(
    id="TF-AWS-002", name="s3-public-access-block-partial", title="S3 public access block leaves settings off",
    severity=Severity.HIGH, scope=Scope.RESOURCE,
    kinds=("aws_s3_bucket_public_access_block", "aws_s3_account_public_access_block", "module:" + S3_MODULE_SOURCE),
    rationale="""
        Each of the four settings closes one path to a public bucket: new public ACLs, existing public ACLs,
        new public policies, and access granted by existing public policies. An unset setting defaults to
        false in this resource, so a block that names only some of them leaves the others open.""",
    remediation="Set `block_public_acls`, `block_public_policy`, `ignore_public_acls` and `restrict_public_buckets` "
                "all to `true`.",
    bad="""
        resource "aws_s3_bucket_public_access_block" "data" {
          bucket            = aws_s3_bucket.data.id
          block_public_acls = true
        }""",
    good="""
        resource "aws_s3_bucket_public_access_block" "data" {
          bucket                  = aws_s3_bucket.data.id
          block_public_acls       = true
          block_public_policy     = true
          ignore_public_acls      = true
          restrict_public_buckets = true
        }""",
    references=(f"{CIS_AWS} 2.1.4", "Checkov CKV_AWS_53, CKV_AWS_54, CKV_AWS_55, CKV_AWS_56",
                "Trivy AWS-0086, AWS-0087, AWS-0091, AWS-0093", S3_PAB_DOC),
)
def s3_block_partial(block: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if block.type == S3_MODULE:
        yield from _s3_module_block(block)
        return
    if not _managed(block):
        return
    account = _account_block(inventory)
    if account is not None and account is not block:
        return
    hit = _block_hit(block)
    if hit is not None:
        yield hit


@rules.rule(
    id="TF-AWS-003", name="s3-public-acl", title="S3 bucket ACL grants public access",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=(S3_BUCKET, "aws_s3_bucket_acl"),
    rationale="""
        The canned ACLs public-read and public-read-write, and grants to the AllUsers or AuthenticatedUsers
        groups, let anyone on the internet (or any AWS account) list, read or even write the bucket.""",
    remediation="Use `acl = \"private\"` (better: `aws_s3_bucket_ownership_controls` with `BucketOwnerEnforced`, "
                "which disables ACLs) and grant access through IAM or a bucket policy with conditions.",
    bad="""
        resource "aws_s3_bucket_acl" "site" {
          bucket = aws_s3_bucket.site.id
          acl    = "public-read"
        }""",
    good="""
        resource "aws_s3_bucket_ownership_controls" "site" {
          bucket = aws_s3_bucket.site.id
          rule { object_ownership = "BucketOwnerEnforced" }
        }""",
    references=(f"{CIS_AWS} 2.1.4", "Checkov CKV_AWS_20, CKV_AWS_57", "Trivy AWS-0092",
                "https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html"),
)
def s3_public_acl(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(resource):
        return
    for path, what, known in _acl_hits(resource):
        yield Hit(path, f"{resource.address} grants {what}", confidence=None if known else Confidence.LOW)


@rules.rule(
    id="TF-AWS-004", name="s3-public-bucket-policy", title="S3 bucket policy allows any principal",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=(S3_BUCKET, "aws_s3_bucket_policy"),
    rationale="""
        An Allow statement for `Principal: "*"` without a condition on the caller's organisation, account,
        VPC endpoint or source network opens the bucket to every AWS account and anonymous callers.""",
    remediation="Name the principals that need access, or add an `aws:PrincipalOrgID`, `aws:SourceVpce` or "
                "`aws:SourceAccount` condition to the statement.",
    bad="""
        resource "aws_s3_bucket_policy" "data" {
          bucket = aws_s3_bucket.data.id
          policy = jsonencode({Version = "2012-10-17", Statement = [{
            Effect = "Allow", Principal = "*", Action = "s3:GetObject", Resource = "${aws_s3_bucket.data.arn}/*"
          }]})
        }""",
    good="""
        Statement = [{
          Effect = "Allow", Principal = "*", Action = "s3:GetObject", Resource = "${aws_s3_bucket.data.arn}/*"
          Condition = { StringEquals = { "aws:PrincipalOrgID" = "o-abc123" } }
        }]""",
    references=("Checkov CKV_AWS_70", "Trivy AWS-0094",
                "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html"
                "#access-control-block-public-access-policy-status"),
)
def s3_public_policy(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(resource) or resource.values.get("policy") is None:
        return
    doc = _document(resource, ("policy",), inventory)
    for path, what, _ in _public_policy_hits(resource, ("policy",), inventory):
        yield Hit(path, f"the bucket policy of {resource.address}: {what}", obj=doc.owner)


@rules.rule(
    id="TF-AWS-005", name="s3-versioning-disabled", title="S3 bucket without versioning",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=(S3_BUCKET,),
    rationale="""
        Without versioning an overwrite or delete is final: ransomware, a bad pipeline run or a compromised
        credential destroys the data with no way back.""",
    remediation="Add `aws_s3_bucket_versioning` with `versioning_configuration { status = \"Enabled\" }`.",
    bad='resource "aws_s3_bucket" "data" { bucket = "acme-data" }',
    good="""
        resource "aws_s3_bucket_versioning" "data" {
          bucket = aws_s3_bucket.data.id
          versioning_configuration { status = "Enabled" }
        }""",
    references=("Checkov CKV_AWS_21", "Trivy AWS-0090",
                "https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html"),
)
def s3_versioning(bucket: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(bucket):
        return
    state = _versioning(bucket, inventory)
    if state.state == "missing":
        yield Hit(state.path, f"{bucket.address} has no versioning (no aws_s3_bucket_versioning or versioning block)")
    elif state.state == "off":
        yield Hit(state.path, f"{state.obj.address} sets versioning to {_text(state.value)}", obj=state.obj)
    elif state.state == "unknown":
        yield Hit(state.path, f"{state.obj.address} sets versioning to a value not known statically "
                              f"({_unknown_reason(state.value)})", obj=state.obj, confidence=Confidence.LOW)


@rules.rule(
    id="TF-AWS-006", name="s3-access-logging-disabled", title="S3 bucket without server access logging",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=(S3_BUCKET,),
    rationale="""
        Server access logs record every request to the bucket with the caller and the object; without them
        (or CloudTrail data events) a data theft or overwrite cannot be investigated.""",
    remediation="Add `aws_s3_bucket_logging` with a `target_bucket` dedicated to access logs.",
    bad='resource "aws_s3_bucket" "data" { bucket = "acme-data" }',
    good="""
        resource "aws_s3_bucket_logging" "data" {
          bucket        = aws_s3_bucket.data.id
          target_bucket = aws_s3_bucket.access_logs.id
          target_prefix = "acme-data/"
        }""",
    references=(f"{CIS_AWS} 3.4", "Checkov CKV_AWS_18", "Trivy AWS-0089",
                "https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html"),
)
def s3_access_logging(bucket: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(bucket) or _is_log_bucket(bucket, inventory):
        return
    state = _logging(bucket, inventory)
    if state.state == "missing":
        yield Hit(state.path, f"{bucket.address} has no server access logging (no aws_s3_bucket_logging or logging "
                              "block)")
    elif state.state == "off":
        yield Hit(state.path, f"{bucket.address} has a logging block without a target bucket")


@rules.rule(
    id="TF-AWS-007", name="s3-acls-enabled", title="S3 object ownership keeps ACLs enabled",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=("aws_s3_bucket_ownership_controls",),
    rationale="""
        With ObjectWriter or BucketOwnerPreferred ownership, ACLs stay active: every object can carry its own
        grants (including public ones), and objects uploaded by other accounts may stay owned by them.
        BucketOwnerEnforced disables ACLs so only IAM and the bucket policy decide access.""",
    remediation="Set `rule { object_ownership = \"BucketOwnerEnforced\" }`.",
    bad='rule { object_ownership = "ObjectWriter" }',
    good='rule { object_ownership = "BucketOwnerEnforced" }',
    references=("https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html",
                "Checkov CKV2_AWS_65"),
)
def s3_acls_enabled(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(resource):
        return
    for i, rule in _blocks(resource.values.get("rule")):
        ownership = rule.get("object_ownership")
        if ownership in ("ObjectWriter", "BucketOwnerPreferred"):
            yield Hit(("rule", i, "object_ownership"), f"{resource.address} sets object_ownership = \"{ownership}\": "
                                                       "per-object ACLs stay enabled")
        elif isinstance(ownership, Unknown):
            yield Hit(("rule", i, "object_ownership"), f"{resource.address} sets object_ownership to a value not "
                                                       f"known statically ({ownership.reason})",
                      confidence=Confidence.LOW)


# --- rules: KMS, resource policies, IAM baseline --------------------------------------------------------

@rules.rule(
    id="TF-AWS-008", name="kms-key-rotation-disabled", title="KMS key without automatic rotation",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=("aws_kms_key",),
    rationale="""
        Automatic rotation replaces the key material of a symmetric customer-managed key every year (or the
        period set), limiting how much data one compromised key version protects. It is off unless enabled.""",
    remediation="Set `enable_key_rotation = true` (and `rotation_period_in_days` if policy requires a shorter period).",
    bad='resource "aws_kms_key" "models" { description = "model artifacts" }',
    good="""
        resource "aws_kms_key" "models" {
          description         = "model artifacts"
          enable_key_rotation = true
        }""",
    references=(f"{CIS_AWS} 3.6", "Checkov CKV_AWS_7", "Trivy AWS-0065",
                "https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html"),
)
def kms_rotation(key: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(key):
        return
    spec, usage = key.values.get("customer_master_key_spec"), key.values.get("key_usage")
    if (isinstance(spec, str) and spec != "SYMMETRIC_DEFAULT") or \
            (isinstance(usage, str) and usage != "ENCRYPT_DECRYPT"):
        return  # asymmetric and HMAC keys cannot rotate automatically
    rotation = setting(key, "enable_key_rotation")
    if rotation.unknown:
        yield Hit(("enable_key_rotation",), f"{key.address} sets enable_key_rotation to a value not known statically "
                                            f"({_unknown_reason(rotation.value)})", confidence=Confidence.LOW)
    elif rotation.value is not True:
        state = "enable_key_rotation = false" if rotation.written else "enable_key_rotation unset (default: false)"
        yield Hit(("enable_key_rotation",), f"{key.address} has {state}: its key material never rotates")


# resource type -> attribute holding its resource policy (S3 buckets have their own rules)
RESOURCE_POLICIES = {
    "aws_kms_key": "policy", "aws_kms_key_policy": "policy", "aws_sqs_queue": "policy",
    "aws_sqs_queue_policy": "policy", "aws_sns_topic": "policy", "aws_sns_topic_policy": "policy",
    "aws_secretsmanager_secret": "policy", "aws_secretsmanager_secret_policy": "policy",
    "aws_ecr_repository_policy": "policy", "aws_efs_file_system_policy": "policy", "aws_backup_vault_policy": "policy",
    "aws_glacier_vault": "access_policy", "aws_elasticsearch_domain": "access_policies",
    "aws_elasticsearch_domain_policy": "access_policies", "aws_opensearch_domain": "access_policies",
    "aws_opensearch_domain_policy": "access_policies", "aws_sagemaker_model_package_group_policy": "resource_policy",
    "aws_iam_role": "assume_role_policy",
}


@rules.rule(
    id="TF-AWS-009", name="resource-policy-public-principal", title="Resource policy allows any principal",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=tuple(RESOURCE_POLICIES) + ("aws_lambda_permission",),
    rationale="""
        A resource policy (KMS key, queue, topic, secret, registry, domain) or a role trust policy that allows
        `Principal: "*"` without a condition on the caller's organisation, account or network lets every AWS
        account, and for some services anonymous callers, use the resource: decrypt with the key, read the
        secret, assume the role.""",
    remediation="Name the accounts or roles that need access, or add an `aws:PrincipalOrgID` / `aws:SourceAccount` "
                "/ `kms:CallerAccount` condition to the statement.",
    bad="""
        resource "aws_kms_key" "models" {
          policy = jsonencode({Version = "2012-10-17", Statement = [{
            Effect = "Allow", Principal = {AWS = "*"}, Action = "kms:*", Resource = "*"
          }]})
        }""",
    good="""
        Statement = [{
          Effect = "Allow", Principal = {AWS = "arn:aws:iam::111122223333:root"}, Action = "kms:*", Resource = "*"
        }]""",
    references=("Checkov CKV_AWS_33, CKV_AWS_168", "Trivy AWS-0032",
                "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html"),
)
def public_resource_policy(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(resource):
        return
    if resource.type == "aws_lambda_permission":
        principal = resource.values.get("principal")
        if principal == "*" and resource.values.get("source_arn") is None \
                and resource.values.get("source_account") is None and resource.values.get("principal_org_id") is None:
            yield Hit(("principal",), f"{resource.address} lets any principal ({_text(principal)}) invoke the "
                                      "function, with no source_arn, source_account or principal_org_id")
        return
    attribute = RESOURCE_POLICIES[resource.type]
    if resource.values.get(attribute) is None:
        return
    doc = _document(resource, (attribute,), inventory)
    what = "trust policy" if resource.type == "aws_iam_role" else "policy"
    for path, description, _ in _public_policy_hits(resource, (attribute,), inventory):
        yield Hit(path, f"the {what} of {resource.address}: {description}", obj=doc.owner)


IAM_POLICY_KINDS = ("aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy",
                    "aws_ssoadmin_permission_set_inline_policy", "aws_iam_role", "aws_iam_policy_document")


def _all_actions(statement: Statement) -> bool:
    if statement.not_actions:
        return True
    return any(a in ("*", "*:*") for a in statement.actions)


def _all_resources(statement: Statement) -> bool:
    return bool(statement.not_resources) or any(r == "*" for r in statement.resources)


def _all_roles(statement: Statement) -> bool:
    return _all_resources(statement) or any(
        re.fullmatch(r"arn:aws[\w-]*:iam::[^:]*:(role/)?\*", r) for r in statement.resources)


def _own_statements(resource: TfResource, doc: _Doc) -> list[Statement]:
    if resource.type == "aws_iam_policy_document":
        skip = _merged_count(resource)
        return [s for s in doc.statements if s.index >= skip]
    return doc.statements


@rules.rule(
    id="TF-AWS-010", name="iam-policy-admin-wildcard",
    title="IAM policy allows all actions or iam:PassRole on all roles",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=IAM_POLICY_KINDS,
    rationale="""
        `Action: "*"` on `Resource: "*"` (or an Allow with NotAction) is full administrator access: whoever
        holds the policy controls the account; on narrower resources it still grants every present and future
        action on them, deletion and policy changes included. `iam:PassRole` on every role lets the holder hand
        any role, including admin roles, to a service it controls (EC2, Lambda, SageMaker) and act as that role.""",
    remediation="List the actions and resources the identity needs; restrict `iam:PassRole` to the specific role "
                "ARNs and add an `iam:PassedToService` condition.",
    bad='statement { actions = ["*"] resources = ["*"] }',
    good='statement { actions = ["s3:GetObject"] resources = ["arn:aws:s3:::acme-ml-models-prod/fraud/*"] }',
    references=(f"{CIS_AWS} 1.16", "Checkov CKV_AWS_1, CKV_AWS_62, CKV_AWS_63", "Trivy AWS-0057",
                "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html"),
)
def iam_admin_wildcard(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if resource.type == "aws_iam_policy_document" and resource.mode != "data":
        return
    if resource.type != "aws_iam_policy_document" and not _managed(resource):
        return
    for path, _ in _policy_documents(resource):
        doc = _document(resource, path, inventory)
        if doc.owner is not resource:
            continue  # the policy-document data source it comes from is reported itself
        for statement in _own_statements(resource, doc):
            if not _allows(statement):
                continue
            if _all_actions(statement) and _all_resources(statement):
                yield Hit(doc.path(statement), f"{resource.address} statement {statement.index + 1} allows "
                                               f"{_actions_text(statement)} on all resources: full administrator "
                                               "access")
            elif _all_actions(statement):
                yield Hit(doc.path(statement), f"{resource.address} statement {statement.index + 1} allows all actions "
                                               f"({_actions_text(statement)}) on "
                                               f"{', '.join(statement.resources) or 'its resources'}, including "
                                               "deleting them and rewriting their resource policies",
                          severity=Severity.MEDIUM)
            elif statement.allows_action("iam:PassRole") and _all_roles(statement) \
                    and "iam:passedtoservice" not in statement.condition_keys():
                yield Hit(doc.path(statement), f"{resource.address} statement {statement.index + 1} allows "
                                               f"iam:PassRole (through {_actions_text(statement)}) on every role "
                                               f"({', '.join(statement.resources or statement.not_resources)}) "
                                               "without an iam:PassedToService condition")


ATTACHMENT_ARNS = {
    "aws_iam_role_policy_attachment": "policy_arn", "aws_iam_user_policy_attachment": "policy_arn",
    "aws_iam_group_policy_attachment": "policy_arn", "aws_iam_policy_attachment": "policy_arn",
    "aws_iam_role": "managed_policy_arns", "aws_ssoadmin_managed_policy_attachment": "managed_policy_arn",
    "aws_iam_role_policy_attachments_exclusive": "policy_arns",
    "aws_iam_user_policy_attachments_exclusive": "policy_arns",
    "aws_iam_group_policy_attachments_exclusive": "policy_arns",
}


@rules.rule(
    id="TF-AWS-011", name="iam-admin-managed-policy", title="AWS administrator managed policy attached",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=tuple(ATTACHMENT_ARNS) + ("aws_iam_policy",),
    rationale="""
        AdministratorAccess (and IAMFullAccess, which can grant it) gives a role, user, group or permission set
        complete control of the account; PowerUserAccess gives everything but IAM. Compromise of any
        credential or trust relationship of that identity is compromise of the account.""",
    remediation="Attach a customer-managed policy listing the actions the identity needs; keep administrator "
                "access for a few monitored break-glass identities.",
    bad="""
        resource "aws_iam_role_policy_attachment" "ci" {
          role       = aws_iam_role.ci.name
          policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
        }""",
    good="""
        resource "aws_iam_role_policy_attachment" "ci" {
          role       = aws_iam_role.ci.name
          policy_arn = aws_iam_policy.ci_deploy.arn
        }""",
    references=(f"{CIS_AWS} 1.16", "Checkov CKV_AWS_274",
                "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AdministratorAccess.html"),
)
def iam_admin_managed(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if resource.type == "aws_iam_policy":
        if resource.mode != "data":
            return
        name = _known_str(resource.values.get("name")) or _managed_name(resource.values.get("arn"))
        if name in ADMIN_MANAGED_POLICIES and not _lookup_used(resource, inventory):
            severity, what = ADMIN_MANAGED_POLICIES[name]
            yield Hit(("name",) if resource.values.get("name") else ("arn",),
                      f"{resource.address} looks up the AWS-managed {name} policy ({what})", severity=severity)
        return
    if not _managed(resource):
        return
    path = (ATTACHMENT_ARNS[resource.type],)
    if resource.values.get(path[0]) is None:
        return
    for kind, target in _policy_arn_targets(resource, path, inventory):
        if kind == "managed" and target in ADMIN_MANAGED_POLICIES:
            severity, what = ADMIN_MANAGED_POLICIES[target]
            yield Hit(path, f"{resource.address} attaches the AWS-managed {target} policy: {what}", severity=severity)


def _lookup_used(lookup: TfResource, inventory: TfInventory) -> bool:
    """Is an aws_iam_policy data source attached by one of the attachment resources (reported there)?"""
    for kind, attribute in ATTACHMENT_ARNS.items():
        for holder in inventory.of_type(kind):
            if lookup in inventory.referenced(holder, (attribute,), "aws_iam_policy"):
                return True
    return False


# --- rules: serving identities (catalogue IAM) -----------------------------------------------------------

OBJECT_WRITES = ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectAcl",
                 "s3:PutObjectVersionAcl", "s3:PutObjectRetention", "s3:PutObjectLegalHold",
                 "s3:BypassGovernanceRetention", "s3:ReplicateObject", "s3:ReplicateDelete")
BUCKET_WRITES = ("s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:PutBucketVersioning",
                 "s3:PutLifecycleConfiguration", "s3:PutBucketObjectLockConfiguration", "s3:PutBucketPublicAccessBlock",
                 "s3:DeleteBucket")
PROBE_KEY = "zz-servegate-probe/model.tar.gz"
ANY_BUCKET_OBJECT = "arn:aws:s3:::zz-servegate-any-bucket/zz-servegate-probe"
ANY_SAGEMAKER = "arn:aws:sagemaker:us-east-1:000000000000:endpoint/zz-servegate-probe"
WIDE_RESOURCE_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:PutBucketPolicy",
                         "sagemaker:CreateModel", "sagemaker:UpdateEndpoint", "sagemaker:DeleteEndpoint",
                         "sagemaker:CreatePresignedNotebookInstanceUrl", "ecr:PutImage",
                         "bedrock:CreateModelCustomizationJob")
WILDCARD_MANAGED = {"AdministratorAccess": "all actions on all resources", "PowerUserAccess": "every service but IAM",
                    "AmazonS3FullAccess": "s3:* on every bucket"}


def _bucket_arns(bucket: TfResource) -> tuple[str, str]:
    name = _bucket_name(bucket) or "zz-servegate-unnamed-bucket"
    return f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/{PROBE_KEY}"


def _refers_to(doc: _Doc, statement: Statement, target: TfResource) -> bool:
    return any(ref.startswith(target.address + ".") for ref in doc.refs.get(statement.index, ()))


def _unresolved(doc: _Doc, statement: Statement) -> bool:
    """Does the statement name a resource that is not known statically and not traceable to a resource?"""
    return statement.resources.count(UNKNOWN_ITEM) > len(doc.refs.get(statement.index, ()))


def _reaches_objects(statement: Statement, bucket: TfResource) -> bool:
    """Can the statement's resources name some object of the bucket (any prefix)?"""
    name = _bucket_name(bucket) or "zz-servegate-unnamed-bucket"
    base = f"arn:aws:s3:::{name}/"
    if statement.not_resources:
        return statement.covers_resource(base + PROBE_KEY)
    for pattern in statement.resources:
        cut = min((i for i in (pattern.find("*"), pattern.find("?")) if i >= 0), default=-1)
        literal = pattern if cut < 0 else pattern[:cut]
        if literal.startswith(base):
            return True
        if cut >= 0 and base.startswith(literal):
            rest = pattern[cut:].split("/", 1)[1] if "/" in pattern[cut:] else ""
            if any(iam.matches(pattern, base + tail, case=True)
                   for tail in ("x", rest.replace("*", "x").replace("?", "x"))):
                return True
    return False


def _writes(doc: _Doc, statement: Statement, bucket: TfResource) -> list[str]:
    bucket_arn, _ = _bucket_arns(bucket)
    by_ref = _refers_to(doc, statement, bucket)
    reaches = by_ref or _reaches_objects(statement, bucket)
    found = [a for a in OBJECT_WRITES if statement.allows_action(a) and reaches]
    found += [a for a in BUCKET_WRITES
              if statement.allows_action(a) and (by_ref or statement.covers_resource(bucket_arn))]
    return found


def _names_bucket(statement: Statement, bucket: TfResource) -> bool:
    """Does a resource pattern spell out the bucket's ARN (not just a wildcard that happens to cover it)?"""
    name = _bucket_name(bucket)
    return bool(name) and any(r.startswith(f"arn:aws:s3:::{name}") for r in statement.resources)


def _doc_name(doc: _Doc) -> str:
    if doc.owner.type == "aws_iam_role" and doc.attribute[:1] == ("inline_policy",):
        return f"the inline policy of {doc.owner.address}"
    return doc.owner.address


def _listing(actions: list[str], limit: int = 4) -> str:
    return ", ".join(actions[:limit]) + (f" and {len(actions) - limit} more" if len(actions) > limit else "")


def _bucket_label(bucket: TfResource) -> str:
    name = _bucket_name(bucket)
    return f'"{name}" ({bucket.address})' if name else bucket.address


def _giver(grant: _Grant, role: TfResource) -> str:
    return "managed_policy_arns gives" if grant.via is role else f"{grant.via.address} gives"


def _grant_related(grant: _Grant, role: TfResource, reason_related: list[RelatedHit]) -> tuple[RelatedHit, ...]:
    related = list(reason_related)
    if grant.via is not (grant.doc.owner if grant.doc else None) and grant.via is not role:
        related.append(RelatedHit(grant.via, grant.via_path, f"{grant.via.address} gives the policy to {role.address}"))
    return tuple(related)


S3_READ_ACTIONS = ("s3:GetObject", "s3:ListBucket")


def _hcl_source(expr: ast.Expr) -> str | None:
    """HCL text for the simple expressions policy resources are written with: strings and references."""
    if isinstance(expr, ast.Literal) and isinstance(expr.value, str):
        return json.dumps(expr.value).replace("${", "$${").replace("%{", "%%{")
    if isinstance(expr, ast.Variable):
        return expr.name
    if isinstance(expr, ast.GetAttr):
        target = _hcl_source(expr.target)
        return f"{target}.{expr.name}" if target and not target.startswith('"') else None
    if isinstance(expr, ast.Template):
        parts = []
        for part in expr.parts:
            inner = None if isinstance(part, str) else _hcl_source(part)
            if isinstance(part, str):
                parts.append(json.dumps(part)[1:-1].replace("${", "$${").replace("%{", "%%{"))
            elif inner is None or inner.startswith('"'):
                return None
            else:
                parts.append("${" + inner + "}")
        return '"' + "".join(parts) + '"'
    return None


def _model_prefix_resources(doc: _Doc, statement: Statement, role: TfResource,
                            inventory: TfInventory) -> tuple[SetAttribute, str] | None:
    """``resources`` narrowed from the whole model bucket to the bucket (for s3:ListBucket) and the prefix of
    the one model the role serves, keeping the expression the bucket ARN is written with."""
    uses = _index(inventory).role_models.get(id(role), ())
    owned = {(_bucket_name(bucket), _own_prefix(key)) for _, bucket, key in uses if _bucket_name(bucket)}
    path = doc.path(statement, "resources")
    expr = doc.owner.expressions.get(path) if path[:1] == ("statement",) else None
    if len(owned) != 1 or not isinstance(expr, ast.TupleExpr) or len(expr.items) != 1:
        return None
    name, prefix = owned.pop()
    text = _hcl_source(expr.items[0])
    if not prefix.endswith("/") or text is None or not text.endswith('/*"') or \
            list(statement.resources) != [f"arn:aws:s3:::{name}/*"]:
        return None
    bucket_text = text[:-3] + '"'
    interpolated = re.fullmatch(r'"\$\{([^{}"]*)\}"', bucket_text)
    bucket_text = interpolated.group(1) if interpolated else bucket_text
    objects = f"arn:aws:s3:::{name}/{prefix}*"
    return SetAttribute(path, f'[{bucket_text}, {text[:-3]}/{prefix}*"]'), objects


def _read_only_fixes(doc: _Doc, statement: Statement, role: TfResource,
                     inventory: TfInventory) -> tuple[SymbolicFix, ...]:
    """An S3 statement cut down to what serving needs, s3:GetObject and s3:ListBucket, on the model's prefix
    when the model data URL says which; only where the statement is a block of a policy document."""
    path = doc.path(statement)
    if path[:1] != ("statement",) or path not in doc.owner.spans or statement.not_actions or \
            not statement.actions or not all(a.lower().startswith("s3:") for a in statement.actions):
        return ()
    operations: list = [SetAttribute(path, json.dumps(list(S3_READ_ACTIONS)))]
    scoped = _model_prefix_resources(doc, statement, role, inventory)
    if scoped is not None:
        operations.append(scoped[0])
    where = f" on {scoped[1]}" if scoped is not None else ""
    return (unsafe(f"narrow the statement to {' and '.join(S3_READ_ACTIONS)}{where}", *operations),)


@rules.rule(
    id="MLS-IAM-001", name="serving-identity-writes-models",
    title="Serving identity can write, delete or re-ACL model artifacts",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=("aws_iam_role", "aws_iam_policy"),
    rationale="""
        Inference needs read access to the model, nothing more. If the serving role may put, delete or re-ACL
        objects in the model bucket, any code execution in the model server (a pickle payload, a server CVE)
        becomes persistent model poisoning: the attacker rewrites the weights every replica loads next.""",
    remediation="""
        Give the serving role `s3:GetObject` on its model prefix only; let a separate CI/registry role write
        models, and keep bucket policy/ACL changes out of every workload role.""",
    bad="""
        data "aws_iam_policy_document" "serve" {
          statement {
            actions   = ["s3:GetObject", "s3:PutObject"]
            resources = ["arn:aws:s3:::acme-ml-models-prod/*"]
          }
        }""",
    good="""
        data "aws_iam_policy_document" "serve" {
          statement {
            actions   = ["s3:GetObject"]
            resources = ["arn:aws:s3:::acme-ml-models-prod/fraud/v3/*"]
          }
        }""",
    references=(ML10, "OWASP ML02:2023 Data Poisoning", "OWASP LLM04:2025 Data and Model Poisoning",
                "MITRE ATLAS AML.T0018.000", "MITRE ATLAS AML.T0076",
                "https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html"),
)
def serving_role_writes_models(role: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    serving = _serving_grants(role, inventory)
    index = _index(inventory)
    buckets = [b for b in inventory.of_type(S3_BUCKET) if id(b) in index.model_buckets]
    if serving is None or not buckets:
        return
    who, grants, reason_related, confidence = serving
    for grant in grants:
        related = _grant_related(grant, role, reason_related)
        if grant.managed in ("AdministratorAccess", "PowerUserAccess", "AmazonS3FullAccess"):
            local = [b for b in buckets if _root(b.module) is _root(role.module)]
            if local:
                yield Hit(grant.via_path, f"{_giver(grant, role)} {who} the AWS-managed {grant.managed} policy, "
                                          f"which can overwrite and delete the models in {_bucket_label(local[0])}",
                          obj=grant.via, related=related, confidence=confidence)
            continue
        if grant.doc is None:
            continue
        for statement in grant.doc.statements:
            if not _allows(statement):
                continue
            hit_buckets = [(b, w) for b in buckets if (w := _writes(grant.doc, statement, b))
                           and (_root(b.module) is _root(role.module) or _names_bucket(statement, b))]
            if hit_buckets:
                bucket, writes = hit_buckets[0]
                entry = index.model_buckets[id(bucket)]
                others = f" (and {len(hit_buckets) - 1} more model bucket{'s' if len(hit_buckets) > 2 else ''})" \
                    if len(hit_buckets) > 1 else ""
                yield Hit(grant.doc.path(statement), f"{_doc_name(grant.doc)} statement {statement.index + 1} lets "
                                                     f"{who} {_listing(writes)} on {_bucket_label(bucket)}{others}, a "
                                                     f"model bucket because {entry.reason}",
                          obj=grant.doc.owner, related=related + tuple(entry.related[:1]), confidence=confidence,
                          fixes=_read_only_fixes(grant.doc, statement, role, inventory))
            if not hit_buckets and _unresolved(grant.doc, statement) and any(
                    statement.allows_action(a) for a in OBJECT_WRITES + BUCKET_WRITES):
                yield Hit(grant.doc.path(statement), f"{_doc_name(grant.doc)} statement {statement.index + 1} lets "
                                                     f"{who} write S3 objects on a resource not known statically; it "
                                                     "may be a model bucket", obj=grant.doc.owner,
                          confidence=Confidence.LOW, related=related)


def _wide(statement: Statement) -> tuple[str, bool] | None:
    """(what is wildcarded, covers all actions on all resources) of a serving-role statement, if any."""
    if not _allows(statement):
        return None
    everything = statement.allows_action("iam:ServegateProbe") and statement.allows_action("ec2:ServegateProbe")
    if everything:
        on_all = statement.covers_resource(ANY_BUCKET_OBJECT) and _all_resources(statement)
        return ("all actions on all resources" if on_all else
                f"all actions ({_actions_text(statement)}) on {', '.join(statement.resources)}"), on_all
    services = [s for s in ("s3", "sagemaker", "bedrock") if statement.allows_action(f"{s}:ServegateProbe")]
    if services:
        where = "all resources" if _all_resources(statement) else ", ".join(statement.resources or ("?",))
        return f"every {', '.join(services)} action ({_actions_text(statement)}) on {where}", False
    if statement.covers_resource(ANY_BUCKET_OBJECT) or statement.covers_resource(ANY_SAGEMAKER):
        wide = [a for a in WIDE_RESOURCE_ACTIONS if statement.allows_action(a)
                and statement.covers_resource(ANY_SAGEMAKER if a.startswith("sagemaker") else ANY_BUCKET_OBJECT)]
        if wide:
            listed = ", ".join(statement.resources or statement.not_resources)
            return f"{_listing(wide)} on every resource ({listed})", False
    return None


@rules.rule(
    id="MLS-IAM-002", name="serving-identity-wildcard-access",
    title="Serving identity has wildcard storage or service access",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=("aws_iam_role", "aws_iam_policy"),
    rationale="""
        `s3:*`, `sagemaker:*`, `Action: "*"` or object access on `Resource: "*"` turn one compromised model
        pod or endpoint container into account-wide data exfiltration and tampering: every bucket, every
        model, every endpoint.""",
    remediation="""
        List the actions the serving workload uses (`s3:GetObject`, `kms:Decrypt`, `logs:PutLogEvents`, ...)
        on the ARNs it uses (its model prefix, its key, its log group); use a separate `s3:ListBucket`
        statement with an `s3:prefix` condition if listing is needed.""",
    bad='statement { actions = ["s3:*"] resources = ["*"] }',
    good="""
        statement {
          actions   = ["s3:GetObject"]
          resources = ["arn:aws:s3:::acme-ml-models-prod/fraud/*"]
        }""",
    references=(f"{CIS_EKS} 5.2.1", ML05, "OWASP LLM02:2025 Sensitive Information Disclosure", "MITRE ATLAS AML.T0025",
                "MITRE ATLAS AML.T0036", "Checkov CKV_AWS_355, CKV_AWS_288", "Trivy AWS-0057"),
    supersedes=("TF-AWS-010", "TF-AWS-011"),
)
def serving_role_wildcards(role: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    serving = _serving_grants(role, inventory)
    if serving is None:
        return
    who, grants, reason_related, confidence = serving
    for grant in grants:
        related = _grant_related(grant, role, reason_related)
        if grant.managed in WILDCARD_MANAGED:
            yield Hit(grant.via_path, f"{_giver(grant, role)} {who} the AWS-managed {grant.managed} policy: "
                                      f"{WILDCARD_MANAGED[grant.managed]}", obj=grant.via, related=related,
                      confidence=confidence)
            continue
        for statement in grant.doc.statements if grant.doc else ():
            wide = _wide(statement)
            if wide is not None:
                yield Hit(grant.doc.path(statement), f"{_doc_name(grant.doc)} statement {statement.index + 1} "
                                                     f"allows {who} {wide[0]}", obj=grant.doc.owner, related=related,
                          confidence=confidence, fixes=_read_only_fixes(grant.doc, statement, role, inventory))


@rules.rule(
    id="MLS-IAM-003", name="serving-identity-cross-model-read",
    title="Serving identity can read other models' artifacts",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=("aws_iam_role",),
    rationale="""
        A SageMaker model's execution role needs its own model prefix only. If it can read the whole model
        bucket, compromising one endpoint exposes every other model's weights stored there (and, with write
        access, lets the attacker poison them).""",
    remediation="Scope `s3:GetObject` to the prefix of the model's `model_data_url` (for example "
                "`arn:aws:s3:::acme-ml-models-prod/fraud/*`), one role per model or tenant.",
    bad='resources = ["arn:aws:s3:::acme-ml-models-prod/*"]   # role of the fraud model only',
    good='resources = ["arn:aws:s3:::acme-ml-models-prod/fraud/*"]',
    references=(ML05, "OWASP LLM02:2025 Sensitive Information Disclosure", "MITRE ATLAS AML.T0035",
                "MITRE ATLAS AML.T0044"),
)
def serving_role_cross_model(role: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    index = _index(inventory)
    uses = index.role_models.get(id(role)) if _managed(role) else None
    if not uses:
        return
    owned: dict[int, tuple[TfResource, set[str], list[TfResource]]] = {}
    for model, bucket, key in uses:
        if _bucket_name(bucket) is None:
            continue
        entry = owned.setdefault(id(bucket), (bucket, set(), []))
        entry[1].add(_own_prefix(key))
        entry[2].append(model)
    if not owned:
        return
    grants = _role_grants(role, inventory)
    for bucket, prefixes, models in owned.values():
        if "" in prefixes:
            continue  # a model at the bucket root: the whole bucket is its own
        probe = "zz-servegate-other-model/model.tar.gz"
        other = f"arn:aws:s3:::{_bucket_name(bucket)}/{probe}"
        mine = ", ".join(sorted(p if p.endswith("/") else p for p in prefixes))
        related = tuple(_runs_as(m, role) for m in models[:3])
        for grant in grants:
            for statement in grant.doc.statements if grant.doc else ():
                if not _allows(statement) or not statement.allows_action("s3:GetObject"):
                    continue
                if statement.covers_resource(ANY_BUCKET_OBJECT):
                    continue  # any bucket at all: MLS-IAM-002
                if statement.covers_resource(other):
                    covering = [r for r in statement.resources if iam.matches(r, other, case=True)] or \
                        list(statement.not_resources)
                    scoped = _model_prefix_resources(grant.doc, statement, role, inventory)
                    yield Hit(grant.doc.path(statement, "resources"),
                              f"{_doc_name(grant.doc)} statement {statement.index + 1} lets {role.address} (the "
                              f"execution role of {', '.join(m.address for m in models[:3])}) read "
                              f"{', '.join(covering)}, beyond the prefix {mine} its models load from bucket "
                              f"\"{_bucket_name(bucket)}\"", obj=grant.doc.owner,
                              related=related + _grant_related(grant, role, []),
                              fixes=(unsafe(f"narrow resources to the bucket and {scoped[1]}", scoped[0]),)
                              if scoped else ())


# --- rules: model registries and serving images (catalogue ART-009) -------------------------------------

def _accounts(statement: Statement) -> list[str]:
    """Literal account ids among an Allow statement's AWS principals."""
    found = []
    for principal in statement.principals:
        match = re.match(r"AWS:(?:arn:aws[\w-]*:iam::)?([0-9]{12})(?::|$)", principal)
        if match:
            found.append(match.group(1))
    return found


def _resource_accounts(statement: Statement) -> set[str]:
    return {m.group(1) for r in statement.resources if (m := re.match(r"arn:aws[\w-]*:[^:]+:[^:]*:([0-9]{12}):", r))}


def _registry_policy_hits(holder: TfResource, attribute: str, inventory: TfInventory,
                          what: str) -> Iterator[tuple[_Doc, Statement, str, bool]]:
    """(document, statement, problem, known) for statements of a registry policy shared publicly or with other
    accounts outside an organisation condition."""
    if holder.values.get(attribute) is None:
        return
    doc = _document(holder, (attribute,), inventory)
    for statement in doc.statements:
        if not _allows(statement):
            continue
        if _public_principal(statement) and not _restricted(statement):
            yield doc, statement, (f"statement {statement.index + 1} allows {_actions_text(statement)} on {what} to "
                                   "Principal \"*\" with no condition on the caller's account or organisation"), True
            continue
        if statement.condition_keys() & ORG_CONDITION_KEYS:
            continue
        own = _resource_accounts(statement)
        foreign = [a for a in _accounts(statement) if a not in own]
        if foreign:
            known = bool(own)
            yield doc, statement, (f"statement {statement.index + 1} allows {_actions_text(statement)} on {what} to "
                                   f"account {', '.join(sorted(set(foreign)))} with no aws:PrincipalOrgID condition"
                                   + ("" if known else " (whether that account is your own is not known statically)")
                                   ), known


def _repository_of(policy: TfResource, inventory: TfInventory) -> TfResource | None:
    for repo in inventory.of_type("aws_ecr_repository"):
        name = _known_str(repo.values.get("name"))
        if _managed(repo) and _points_at(policy, ("repository",), repo, inventory, {name} if name else ()):
            return repo
    return None


@rules.rule(
    id="MLS-ART-009", name="model-registry-shared", title="Model registry or serving image repository shared publicly, "
                                                          "cross-account without conditions, or with mutable tags",
    severity=Severity.HIGH, scope=Scope.RESOURCE,
    kinds=("aws_sagemaker_model_package_group_policy", "aws_ecr_repository_policy", "aws_ecr_repository"),
    rationale="""
        The model registry decides which model version is approved; the image repository holds the server
        that loads it. A policy open to `*` or to foreign accounts without an organisation condition lets
        outsiders pull (steal) or register/push (poison) models and serving images, and mutable tags let a
        push silently replace the image behind a tag that endpoints deploy.""",
    remediation="""
        Name the deployment accounts as principals and add `Condition = { StringEquals = {
        "aws:PrincipalOrgID" = "o-..." } }`; set `image_tag_mutability = "IMMUTABLE"` on repositories holding
        model-server images.""",
    bad="""
        resource "aws_sagemaker_model_package_group_policy" "fraud" {
          model_package_group_name = aws_sagemaker_model_package_group.fraud.model_package_group_name
          resource_policy = jsonencode({Version = "2012-10-17", Statement = [{
            Effect = "Allow", Principal = "*", Action = ["sagemaker:DescribeModelPackage"], Resource = "*"
          }]})
        }""",
    good="""
        Statement = [{
          Effect = "Allow", Principal = {AWS = "arn:aws:iam::222233334444:root"},
          Action = ["sagemaker:DescribeModelPackage"], Resource = "*",
          Condition = { StringEquals = { "aws:PrincipalOrgID" = "o-abc123" } }
        }]""",
    references=(ML05, ML06, "OWASP LLM03:2025 Supply Chain", "MITRE ATLAS AML.T0010.004", "MITRE ATLAS AML.T0058",
                "MITRE ATLAS AML.T0035", f"{CIS_EKS} 5.1.1",
                "https://docs.aws.amazon.com/sagemaker/latest/dg/model-registry-ram.html"),
    supersedes=("TF-AWS-009", "TF-AWS-016"),
)
def model_registry_shared(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(resource):
        return
    index = _index(inventory)
    if resource.type == "aws_sagemaker_model_package_group_policy":
        for doc, statement, problem, known in _registry_policy_hits(resource, "resource_policy", inventory,
                                                                     "the model registry"):
            yield Hit(doc.path(statement, "principals"), f"{resource.address} (a SageMaker model package group, the "
                                                         f"model registry): {problem}", obj=doc.owner,
                      confidence=None if known else Confidence.LOW)
        return
    if resource.type == "aws_ecr_repository_policy":
        repo = _repository_of(resource, inventory)
        serving = index.serving_repos.get(id(repo)) if repo is not None else None
        if serving is None:
            return
        reason, related = serving
        for doc, statement, problem, known in _registry_policy_hits(resource, "policy", inventory,
                                                                     "the serving images"):
            yield Hit(doc.path(statement, "principals"), f"{resource.address} shares {repo.address}, a model-serving "
                                                         f"image repository because {reason}: {problem}",
                      obj=doc.owner, confidence=None if known else Confidence.LOW, related=tuple(related))
        return
    serving = index.serving_repos.get(id(resource))
    if serving is None:
        return
    reason, related = serving
    mutability = setting(resource, "image_tag_mutability")
    if mutability.unknown:
        yield Hit(("image_tag_mutability",), f"{resource.address} holds model-serving images ({reason}) and sets "
                                             "image_tag_mutability to a value not known statically",
                  confidence=Confidence.LOW, related=tuple(related))
    elif isinstance(mutability.value, str) and mutability.value.startswith("MUTABLE"):
        state = f'image_tag_mutability = "{mutability.value}"' if mutability.written else \
            'image_tag_mutability unset (default: "MUTABLE")'
        yield Hit(("image_tag_mutability",), f"{resource.address} holds model-serving images ({reason}) but has "
                                             f"{state}: a push can replace the image behind a deployed tag",
                  related=tuple(related))


# --- rules: EKS -----------------------------------------------------------------------------------------

EKS = ("aws_eks_cluster",)


def _eks_public(cluster: TfResource) -> Any:
    return setting(cluster, "vpc_config", 0, "endpoint_public_access").value


@rules.rule(
    id="TF-AWS-012", name="eks-public-endpoint", title="EKS API server endpoint is public",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=EKS,
    rationale="""
        With the public endpoint on (the default), the Kubernetes API of the cluster, including GPU inference
        clusters, is reachable from the internet; any leaked kubeconfig or token, or an API server
        vulnerability, is exploitable from anywhere.""",
    remediation="Set `vpc_config { endpoint_private_access = true  endpoint_public_access = false }` and reach the "
                "API through the VPC (VPN, bastion, CI runners in the VPC).",
    bad="vpc_config { subnet_ids = var.private_subnets }",
    good="""
        vpc_config {
          subnet_ids              = var.private_subnets
          endpoint_private_access = true
          endpoint_public_access  = false
        }""",
    references=(f"{CIS_EKS} 5.4.2", "Checkov CKV_AWS_39", "Trivy AWS-0040",
                "https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html"),
)
def eks_public_endpoint(cluster: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(cluster):
        return
    path = ("vpc_config", 0, "endpoint_public_access")
    public = setting(cluster, *path)
    if public.unknown:
        yield Hit(path, f"{cluster.address} sets endpoint_public_access to a value not known statically "
                        f"({_unknown_reason(public.value)})", confidence=Confidence.LOW)
    elif public.value is True:
        state = "endpoint_public_access = true" if public.written else "endpoint_public_access unset (default: true)"
        yield Hit(path, f"{cluster.address} has {state}: the Kubernetes API is reachable from the internet")


@rules.rule(
    id="TF-AWS-013", name="eks-public-endpoint-open-cidrs", title="EKS public endpoint open to 0.0.0.0/0",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=EKS,
    rationale="""
        A public endpoint without `public_access_cidrs` (or with 0.0.0.0/0) accepts connections from every
        address on the internet; an allow-list of the office/CI ranges shrinks the attack surface to them.""",
    remediation="Disable the public endpoint, or set `public_access_cidrs` to the ranges that need the API.",
    bad="vpc_config { endpoint_public_access = true }",
    good="""
        vpc_config {
          endpoint_public_access = true
          public_access_cidrs    = ["203.0.113.0/24"]
        }""",
    references=(f"{CIS_EKS} 5.4.2", "Checkov CKV_AWS_38", "Trivy AWS-0041",
                "https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html"),
)
def eks_open_cidrs(cluster: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(cluster):
        return
    public = _eks_public(cluster)
    if public is False:
        return
    path = ("vpc_config", 0, "public_access_cidrs")
    cidrs = setting(cluster, *path)
    if isinstance(cidrs.value, list) and not cidrs.value:
        yield Hit(path, f"{cluster.address} sets public_access_cidrs = [], which means the default 0.0.0.0/0: the "
                        "public endpoint accepts every address", confidence=None if public is True else Confidence.LOW)
        return
    if not is_known(cidrs.value):
        yield Hit(path, f"{cluster.address} sets public_access_cidrs to a value not known statically "
                        f"({_unknown_reason(cidrs.value)})", confidence=Confidence.LOW)
        return
    open_ranges = [c for c in _strings(cidrs.value) if c in ("0.0.0.0/0", "::/0")]
    if open_ranges:
        state = f"public_access_cidrs = {json.dumps(cidrs.value)}" if cidrs.written else \
            'public_access_cidrs unset (default: ["0.0.0.0/0"])'
        yield Hit(path, f"{cluster.address} has a public endpoint with {state}: every internet address can reach "
                        "the Kubernetes API", confidence=None if public is True else Confidence.LOW)


@rules.rule(
    id="TF-AWS-014", name="eks-secrets-not-encrypted", title="EKS secrets envelope encryption missing",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=EKS,
    rationale="""
        Without `encryption_config` for secrets, Kubernetes Secrets (model-hub tokens, registry and database
        credentials) sit in etcd protected only by the volume encryption EKS applies for everyone; envelope
        encryption with your KMS key adds a key policy you control and audit.""",
    remediation="Add `encryption_config { resources = [\"secrets\"]  provider { key_arn = aws_kms_key.eks.arn } }`.",
    bad='resource "aws_eks_cluster" "gpu" { name = "gpu" }',
    good="""
        encryption_config {
          resources = ["secrets"]
          provider { key_arn = aws_kms_key.eks.arn }
        }""",
    references=(f"{CIS_EKS} 5.3.1", "Checkov CKV_AWS_58", "Trivy AWS-0039",
                "https://docs.aws.amazon.com/eks/latest/userguide/envelope-encryption.html"),
)
def eks_secrets_encryption(cluster: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(cluster):
        return
    configs = _blocks(cluster.values.get("encryption_config"))
    if isinstance(cluster.values.get("encryption_config"), Unknown):
        yield Hit(("encryption_config",), f"{cluster.address} has an encryption_config not known statically",
                  confidence=Confidence.LOW)
        return
    unknown = False
    for i, config in configs:
        resources = config.get("resources")
        keys = [p.get("key_arn") for _, p in _blocks(config.get("provider"))]
        if not is_known(resources):
            unknown = True
        elif "secrets" in _strings(resources) and any(k is not None and k != "" for k in keys):
            return
    if unknown:
        yield Hit(("encryption_config", 0, "resources"), f"{cluster.address} encrypts resources not known statically",
                  confidence=Confidence.LOW)
    elif configs:
        i, config = configs[0]
        yield Hit(("encryption_config", i, "resources"), f"{cluster.address} has an encryption_config, but not for "
                                                         f"\"secrets\" with a KMS key (resources = "
                                                         f"{_text(config.get('resources'))})")
    else:
        yield Hit(("encryption_config",), f"{cluster.address} has no encryption_config: Kubernetes Secrets are not "
                                          "envelope-encrypted with a KMS key")


EKS_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")


@rules.rule(
    id="MLS-LOG-002", name="cluster-control-plane-logging-incomplete",
    title="GPU cluster control-plane / audit logging incomplete",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=EKS,
    rationale="""
        EKS sends no control-plane logs unless `enabled_cluster_log_types` lists them. Without the api, audit
        and authenticator logs there is no trace of who changed an InferenceService, read a model secret or
        exec'd into a GPU pod; controllerManager and scheduler logs complete the picture.""",
    remediation='Set `enabled_cluster_log_types = ["api", "audit", "authenticator", "controllerManager", '
                '"scheduler"]`.',
    bad='resource "aws_eks_cluster" "gpu" { name = "gpu" }',
    good='enabled_cluster_log_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]',
    references=(f"{CIS_EKS} 2.1.1", "NSA/CISA Kubernetes Hardening Guidance v1.2: Audit logging and threat detection",
                "Checkov CKV_AWS_37", "Trivy AWS-0038",
                "https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html"),
)
def eks_control_plane_logging(cluster: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(cluster):
        return
    path = ("enabled_cluster_log_types",)
    value = cluster.values.get("enabled_cluster_log_types")
    if value is not None and not is_known(value) and not isinstance(value, list):
        yield Hit(path, f"{cluster.address} sets enabled_cluster_log_types to a value not known statically "
                        f"({_unknown_reason(value)})", confidence=Confidence.LOW)
        return
    enabled = {v for v in _strings(value) if isinstance(v, str)}
    missing = [t for t in EKS_LOG_TYPES if t not in enabled]
    if not missing:
        return
    if value is not None and not is_known(value):
        yield Hit(path, f"{cluster.address} enables log types partly not known statically; {', '.join(missing)} "
                        "may be missing", confidence=Confidence.LOW)
        return
    essential = [t for t in missing if t in ("api", "audit", "authenticator")]
    state = "has no enabled_cluster_log_types (no control-plane logs at all)" if value is None else \
        f"does not enable the {', '.join(missing)} control-plane log{'s' if len(missing) > 1 else ''}"
    yield Hit(path, f"{cluster.address} {state}", severity=None if essential else Severity.LOW)


# --- rules: ECR -----------------------------------------------------------------------------------------

def _registry_scanning(inventory: TfInventory) -> bool:
    """Does an account-level scanning configuration scan every repository on push (or continuously)?"""
    for config in inventory.of_type("aws_ecr_registry_scanning_configuration"):
        if not _managed(config):
            continue
        if config.values.get("scan_type") == "ENHANCED":
            return True
        for _, rule in _blocks(config.values.get("rule")):
            if rule.get("scan_frequency") in ("SCAN_ON_PUSH", "CONTINUOUS_SCAN") and any(
                    f.get("filter") == "*" for _, f in _blocks(rule.get("repository_filter"))):
                return True
    return False


@rules.rule(
    id="TF-AWS-015", name="ecr-scan-on-push-disabled", title="ECR repository does not scan images on push",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=("aws_ecr_repository",),
    rationale="""
        Without scanning, images with known-vulnerable model servers, CUDA stacks or Python packages are
        pushed and deployed without anyone being told.""",
    remediation="Set `image_scanning_configuration { scan_on_push = true }`, or configure registry-wide enhanced "
                "scanning with `aws_ecr_registry_scanning_configuration`.",
    bad='resource "aws_ecr_repository" "triton" { name = "triton-server" }',
    good="""
        resource "aws_ecr_repository" "triton" {
          name = "triton-server"
          image_scanning_configuration { scan_on_push = true }
        }""",
    references=(f"{CIS_EKS} 5.1.1", "Checkov CKV_AWS_163", "Trivy AWS-0030",
                "https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning.html"),
)
def ecr_scan_on_push(repo: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(repo) or _registry_scanning(inventory):
        return
    path = ("image_scanning_configuration", 0, "scan_on_push")
    scan = setting(repo, *path)
    if scan.unknown:
        yield Hit(path, f"{repo.address} sets scan_on_push to a value not known statically", confidence=Confidence.LOW)
    elif scan.value is not True:
        state = "scan_on_push = false" if scan.written else "scan_on_push unset (default: false)"
        yield Hit(path, f"{repo.address} has {state} and the configuration has no registry-wide scanning")


@rules.rule(
    id="TF-AWS-016", name="ecr-tags-mutable", title="ECR repository allows mutable image tags",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=("aws_ecr_repository",),
    rationale="""
        With mutable tags a push can replace the image behind `v1.4.2` or `latest`; every node that pulls the
        tag afterwards runs the new image, whether or not it was reviewed or scanned.""",
    remediation="Set `image_tag_mutability = \"IMMUTABLE\"` and deploy by digest.",
    bad='resource "aws_ecr_repository" "app" { name = "app" }',
    good="""
        resource "aws_ecr_repository" "app" {
          name                 = "app"
          image_tag_mutability = "IMMUTABLE"
        }""",
    references=("Checkov CKV_AWS_51", "Trivy AWS-0031",
                "https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html"),
)
def ecr_tags_mutable(repo: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(repo):
        return
    mutability = setting(repo, "image_tag_mutability")
    if mutability.unknown:
        yield Hit(("image_tag_mutability",), f"{repo.address} sets image_tag_mutability to a value not known "
                                             "statically", confidence=Confidence.LOW)
    elif isinstance(mutability.value, str) and mutability.value.startswith("MUTABLE"):
        state = f'image_tag_mutability = "{mutability.value}"' if mutability.written else \
            'image_tag_mutability unset (default: "MUTABLE")'
        yield Hit(("image_tag_mutability",), f"{repo.address} has {state}")


# --- rules: CloudWatch Logs, API Gateway ----------------------------------------------------------------

@rules.rule(
    id="TF-AWS-017", name="log-group-no-retention", title="CloudWatch log group without retention",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=("aws_cloudwatch_log_group",),
    rationale="""
        Without `retention_in_days` (or with 0) log events are kept forever: endpoint and application logs,
        which often carry request payload fragments, tokens and stack traces, accumulate with no policy and
        no end.""",
    remediation="Set `retention_in_days` to the period your policy requires (for example 365).",
    bad='resource "aws_cloudwatch_log_group" "fraud" { name = "/aws/sagemaker/Endpoints/fraud-prod" }',
    good="""
        resource "aws_cloudwatch_log_group" "fraud" {
          name              = "/aws/sagemaker/Endpoints/fraud-prod"
          retention_in_days = 365
          kms_key_id        = aws_kms_key.logs.arn
        }""",
    references=("Checkov CKV_AWS_66",
                "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html"),
)
def log_group_retention(group: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(group):
        return
    retention = setting(group, "retention_in_days")
    if retention.unknown:
        yield Hit(("retention_in_days",), f"{group.address} sets retention_in_days to a value not known statically",
                  confidence=Confidence.LOW)
    elif retention.value in (0, None):
        state = "retention_in_days = 0" if retention.written else "no retention_in_days"
        yield Hit(("retention_in_days",), f"{group.address} has {state}: its events never expire",
                  fixes=retention_fixes(group))


@rules.rule(
    id="TF-AWS-018", name="log-group-no-cmk", title="CloudWatch log group not encrypted with a customer-managed key",
    severity=Severity.LOW, scope=Scope.RESOURCE, kinds=("aws_cloudwatch_log_group",),
    rationale="""
        Log groups are encrypted by CloudWatch with a service key everyone with logs:GetLogEvents can use.
        A customer-managed key puts a key policy, and an audited kms:Decrypt, in front of logs that carry
        request payloads and credentials.""",
    remediation="Set `kms_key_id = aws_kms_key.logs.arn` (the key policy must allow the logs service principal).",
    bad='resource "aws_cloudwatch_log_group" "app" { name = "/app" retention_in_days = 90 }',
    good="""
        resource "aws_cloudwatch_log_group" "app" {
          name              = "/app"
          retention_in_days = 90
          kms_key_id        = aws_kms_key.logs.arn
        }""",
    references=("Checkov CKV_AWS_158", "Trivy AWS-0017",
                "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html"),
)
def log_group_cmk(group: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(group):
        return
    key = group.values.get("kms_key_id")
    if key is None or key == "":
        yield Hit(("kms_key_id",), f"{group.address} has no kms_key_id: its events are encrypted with a key "
                                   "CloudWatch manages, not a customer-managed key")


@rules.rule(
    id="TF-AWS-019", name="api-gateway-no-access-logs", title="API Gateway stage without access logging",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=("aws_api_gateway_stage", "aws_apigatewayv2_stage"),
    rationale="""
        Access logs are the record of who called the API (model inference APIs included), from where, and with
        which result; without them abuse, model extraction and credential stuffing go unseen.""",
    remediation="Add `access_log_settings { destination_arn = aws_cloudwatch_log_group.api.arn  format = ... }`.",
    bad='resource "aws_apigatewayv2_stage" "prod" { api_id = aws_apigatewayv2_api.infer.id  name = "prod" }',
    good="""
        access_log_settings {
          destination_arn = aws_cloudwatch_log_group.api.arn
          format          = jsonencode({requestId = "$context.requestId", ip = "$context.identity.sourceIp"})
        }""",
    references=("Checkov CKV_AWS_76", "Trivy AWS-0001",
                "https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html"),
)
def api_gateway_access_logs(stage: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(stage):
        return
    settings = _blocks(stage.values.get("access_log_settings"))
    if isinstance(stage.values.get("access_log_settings"), Unknown):
        yield Hit(("access_log_settings",), f"{stage.address} has access_log_settings not known statically",
                  confidence=Confidence.LOW)
    elif not settings:
        yield Hit(("access_log_settings",), f"{stage.address} has no access_log_settings: requests to the stage are "
                                            "not logged")
    elif all(s.get("destination_arn") in (None, "") for _, s in settings):
        yield Hit(("access_log_settings", 0), f"{stage.address} has access_log_settings without a destination_arn")


# --- rules: load balancers ------------------------------------------------------------------------------

LISTENERS = ("aws_lb_listener", "aws_alb_listener")
STRONG_TLS_POLICY = re.compile(r"TLS-1-2|TLS13|FS-1-2|TLS-1-3|PQ-TLS", re.IGNORECASE)


def _load_balancer(listener: TfResource, inventory: TfInventory) -> TfResource | None:
    found = inventory.referenced(listener, ("load_balancer_arn",), "aws_lb", "aws_alb")
    return found[0] if found else None


def _redirects_to_https(listener: TfResource) -> bool:
    for _, action in _blocks(listener.values.get("default_action")):
        if action.get("type") == "redirect" and any(
                r.get("protocol") == "HTTPS" for _, r in _blocks(action.get("redirect"))):
            return True
        if action.get("type") == "fixed-response":
            return True  # answers without forwarding anything
    return False


@rules.rule(
    id="TF-AWS-020", name="lb-plaintext-listener", title="Load balancer listener serves plain HTTP",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=LISTENERS + ("aws_elb",),
    rationale="""
        An HTTP listener that forwards requests sends prompts, inference payloads, API keys and session
        cookies in clear text between the client and the load balancer.""",
    remediation="Serve HTTPS (`protocol = \"HTTPS\"` with a certificate and a TLS 1.2+ `ssl_policy`) and make "
                "the port-80 listener a `redirect` to HTTPS.",
    bad='resource "aws_lb_listener" "infer" { load_balancer_arn = aws_lb.infer.arn  port = 80  protocol = "HTTP" }',
    good="""
        default_action {
          type = "redirect"
          redirect {
            port        = "443"
            protocol    = "HTTPS"
            status_code = "HTTP_301"
          }
        }""",
    references=("Checkov CKV_AWS_2", "Trivy AWS-0054",
                "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/create-https-listener.html"),
)
def lb_plaintext(listener: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(listener):
        return
    if listener.type == "aws_elb":
        for i, block in _blocks(listener.values.get("listener")):
            protocol = block.get("lb_protocol")
            if isinstance(protocol, str) and protocol.lower() == "http":
                yield Hit(("listener", i, "lb_protocol"), f"{listener.address} listens with lb_protocol = "
                                                          f"\"{protocol}\" on port {block.get('lb_port')}")
        return
    balancer = _load_balancer(listener, inventory)
    if balancer is not None and balancer.values.get("load_balancer_type") in ("network", "gateway"):
        return
    protocol = listener.values.get("protocol")
    if isinstance(protocol, Unknown):
        yield Hit(("protocol",), f"{listener.address} sets protocol to a value not known statically",
                  confidence=Confidence.LOW)
        return
    if protocol is None:
        if listener.values.get("certificate_arn") is not None or balancer is None:
            return  # a listener of an unknown load balancer type, or one configured for TLS
        protocol = "HTTP"
    if isinstance(protocol, str) and protocol.upper() == "HTTP" and not _redirects_to_https(listener):
        state = f'protocol = "{protocol}"' if listener.values.get("protocol") else "no protocol (default: HTTP)"
        yield Hit(("protocol",), f"{listener.address} has {state} and forwards requests instead of redirecting "
                                 "to HTTPS")


@rules.rule(
    id="TF-AWS-021", name="weak-tls-policy", title="TLS listener or API domain allows TLS below 1.2",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=LISTENERS + ("aws_api_gateway_domain_name",),
    rationale="""
        TLS 1.0 and 1.1 have known weaknesses and are deprecated (RFC 8996). The ELB default policy
        ELBSecurityPolicy-2016-08 and API Gateway's TLS_1_0 still accept them.""",
    remediation="Use `ssl_policy = \"ELBSecurityPolicy-TLS13-1-2-2021-06\"` on HTTPS/TLS listeners and "
                "`security_policy = \"TLS_1_2\"` on API Gateway custom domains.",
    bad='resource "aws_lb_listener" "https" { protocol = "HTTPS"  ssl_policy = "ELBSecurityPolicy-2016-08" }',
    good="""
        resource "aws_lb_listener" "https" {
          protocol   = "HTTPS"
          ssl_policy = "ELBSecurityPolicy-TLS13-1-2-2021-06"
        }""",
    references=("Checkov CKV_AWS_103, CKV_AWS_206", "Trivy AWS-0047, AWS-0005", "RFC 8996",
                "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html"),
)
def weak_tls(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(resource):
        return
    if resource.type == "aws_api_gateway_domain_name":
        policy = setting(resource, "security_policy")
        if policy.unknown:
            yield Hit(("security_policy",), f"{resource.address} sets security_policy to a value not known statically "
                                            f"({_unknown_reason(policy.value)})", confidence=Confidence.LOW)
        elif policy.value == "TLS_1_0":
            state = 'security_policy = "TLS_1_0"' if policy.written else "no security_policy (default: TLS_1_0)"
            yield Hit(("security_policy",), f"{resource.address} has {state}: clients may negotiate TLS 1.0")
        return
    protocol = resource.values.get("protocol")
    if not (isinstance(protocol, str) and protocol.upper() in ("HTTPS", "TLS")):
        return
    policy = resource.values.get("ssl_policy")
    if isinstance(policy, Unknown):
        yield Hit(("ssl_policy",), f"{resource.address} sets ssl_policy to a value not known statically",
                  confidence=Confidence.LOW)
    elif policy is None:
        yield Hit(("ssl_policy",), f"{resource.address} has no ssl_policy (default: ELBSecurityPolicy-2016-08, which "
                                   "accepts TLS 1.0 and 1.1)")
    elif isinstance(policy, str) and not STRONG_TLS_POLICY.search(policy):
        yield Hit(("ssl_policy",), f"{resource.address} uses ssl_policy = \"{policy}\", which accepts TLS below 1.2")


# --- rules: compute metadata, databases -------------------------------------------------------------------

@rules.rule(
    id="TF-AWS-022", name="imdsv1-allowed", title="Instance metadata service v1 allowed",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=("aws_launch_template", "aws_instance"),
    rationale="""
        IMDSv1 answers plain GET requests, so any SSRF in a workload on the node (model servers that fetch
        URLs, notebooks) can read the node role's credentials from 169.254.169.254. IMDSv2 requires a
        session token obtained with a PUT, and a hop limit of 1 keeps containers from reaching it.""",
    remediation="Set `metadata_options { http_tokens = \"required\"  http_put_response_hop_limit = 1 }` (2 only "
                "if pods must reach IMDS, e.g. without IRSA).",
    bad='resource "aws_launch_template" "gpu" { image_id = data.aws_ami.eks_gpu.id }',
    good="""
        metadata_options {
          http_endpoint               = "enabled"
          http_tokens                 = "required"
          http_put_response_hop_limit = 1
        }""",
    references=(f"{CIS_EKS} 4.6.1", "Checkov CKV_AWS_79", "Trivy AWS-0028, AWS-0130",
                "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-new-instances.html"),
)
def imdsv1(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(resource):
        return
    path = ("metadata_options", 0, "http_tokens")
    endpoint = resource.get("metadata_options", 0, "http_endpoint")
    if endpoint == "disabled":
        return
    tokens = setting(resource, *path)
    if tokens.unknown:
        yield Hit(path, f"{resource.address} sets http_tokens to a value not known statically "
                        f"({_unknown_reason(tokens.value)})", confidence=Confidence.LOW)
    elif tokens.value != "required":
        state = f'http_tokens = "{tokens.value}"' if tokens.written else "http_tokens unset (default: optional)"
        yield Hit(path, f"{resource.address} has {state}: IMDSv1 answers unauthenticated requests for the node's "
                        "role credentials")


@rules.rule(
    id="TF-AWS-023", name="rds-publicly-accessible", title="RDS database publicly accessible",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=("aws_db_instance", "aws_rds_cluster_instance"),
    rationale="""
        `publicly_accessible = true` gives the database a public DNS name and address; feature stores,
        MLflow backends and application databases become a password away from the internet.""",
    remediation="Set `publicly_accessible = false` and reach the database from inside the VPC.",
    bad='resource "aws_db_instance" "mlflow" { publicly_accessible = true }',
    good='resource "aws_db_instance" "mlflow" { publicly_accessible = false }',
    references=("Checkov CKV_AWS_17", "Trivy AWS-0180",
                "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html"),
)
def rds_public(db: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(db):
        return
    public = setting(db, "publicly_accessible")
    if public.value is True:
        yield Hit(("publicly_accessible",), f"{db.address} sets publicly_accessible = true: the database gets a "
                                            "public address")
    elif public.unknown:
        yield Hit(("publicly_accessible",), f"{db.address} sets publicly_accessible to a value not known statically "
                                            f"({_unknown_reason(public.value)})", confidence=Confidence.LOW)


@rules.rule(
    id="TF-AWS-024", name="rds-storage-unencrypted", title="RDS storage not encrypted",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=("aws_db_instance", "aws_rds_cluster"),
    rationale="""
        RDS instances are created unencrypted unless `storage_encrypted = true`: the volumes, automated
        backups, read replicas and snapshots of the database all hold the data in clear.""",
    remediation="Set `storage_encrypted = true` and `kms_key_id` to a customer-managed key (only possible at "
                "creation; migrate through an encrypted snapshot copy).",
    bad='resource "aws_db_instance" "mlflow" { engine = "postgres" }',
    good='resource "aws_db_instance" "mlflow" { engine = "postgres"  storage_encrypted = true }',
    references=("Checkov CKV_AWS_16, CKV_AWS_96", "Trivy AWS-0080",
                "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.html"),
)
def rds_unencrypted(db: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    if not _managed(db):
        return
    if db.type == "aws_db_instance" and (db.values.get("replicate_source_db") is not None
                                         or db.values.get("snapshot_identifier") is not None):
        return  # inherits the source's encryption
    if db.type == "aws_rds_cluster" and (db.values.get("engine_mode") == "serverless"
                                         or db.values.get("snapshot_identifier") is not None
                                         or db.values.get("replication_source_identifier") is not None):
        return  # Serverless v1 is always encrypted; copies inherit the source's encryption
    encrypted = setting(db, "storage_encrypted")
    if encrypted.unknown:
        yield Hit(("storage_encrypted",), f"{db.address} sets storage_encrypted to a value not known statically "
                                          f"({_unknown_reason(encrypted.value)})", confidence=Confidence.LOW)
    elif encrypted.value is not True:
        state = f"storage_encrypted = {_text(encrypted.value)}" if encrypted.written else \
            "storage_encrypted unset (default: false)"
        yield Hit(("storage_encrypted",), f"{db.address} has {state}: its storage, backups and snapshots are not "
                                          "encrypted")
