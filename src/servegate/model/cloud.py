"""Cloud identities and object storage, as the resource graph sees them.

Who a workload is in the cloud (an IAM role through IRSA or EKS Pod Identity, a Google service account
through GKE Workload Identity, an Azure managed identity through Azure Workload Identity, a SageMaker
model's execution role), what that identity may do (attached and inline IAM policies, GCP IAM bindings,
Azure role assignments), and which buckets and prefixes that reaches. Identities are matched by reference,
by ARN, email or client id (also when the evaluator built them), and by the federation objects
(``aws_eks_pod_identity_association``, workload-identity bindings, federated credentials).
"""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

from servegate.model.terraform.iam import parse_policy
from servegate.model.terraform.inventory import TfInventory
from servegate.model.terraform.values import Unknown
from servegate.sources.embedded import decode_json

if TYPE_CHECKING:  # loaded with Terraform: a Kubernetes-only scan never imports the HCL model
    from servegate.model.terraform.config import TfResource

IRSA = "eks.amazonaws.com/role-arn"
GKE_WI = "iam.gke.io/gcp-service-account"
AZURE_WI = "azure.workload.identity/client-id"
IDENTITY_ANNOTATIONS = (IRSA, GKE_WI, AZURE_WI)

READ, WRITE, ADMIN = "read", "write", "admin"

S3_READS = ("s3:GetObject", "s3:GetObjectVersion")
S3_WRITES = ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectAcl",
             "s3:PutObjectVersionAcl", "s3:ReplicateObject", "s3:RestoreObject")
S3_ADMIN = ("s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:PutBucketVersioning",
            "s3:PutBucketObjectLockConfiguration", "s3:PutBucketPublicAccessBlock", "s3:DeleteBucket")
# AWS-managed policies, reduced to the statements that matter for object storage and escalation.
AWS_MANAGED: dict[str, tuple[tuple[str, str], ...]] = {
    "AdministratorAccess": (("*", "*"),),
    "PowerUserAccess": (("*", "*"),),
    "AmazonS3FullAccess": (("s3:*", "*"),),
    "AmazonS3ReadOnlyAccess": (("s3:Get*", "*"), ("s3:List*", "*")),
    "AmazonSageMakerFullAccess": (("sagemaker:*", "*"), ("iam:PassRole", "*"),
                                  ("s3:GetObject", "arn:aws:s3:::*sagemaker*/*"),
                                  ("s3:PutObject", "arn:aws:s3:::*sagemaker*/*"),
                                  ("s3:DeleteObject", "arn:aws:s3:::*sagemaker*/*")),
}
MANAGED_ARN = re.compile(r"arn:aws[\w-]*:iam::aws:policy/(?:.*/)?([^/]+)$")

GCS_ROLES: dict[str, frozenset[str]] = {
    "roles/storage.objectviewer": frozenset({READ}), "roles/storage.legacyobjectreader": frozenset({READ}),
    "roles/storage.objectcreator": frozenset({WRITE}), "roles/storage.objectuser": frozenset({READ, WRITE}),
    "roles/storage.objectadmin": frozenset({READ, WRITE}), "roles/storage.legacybucketwriter": frozenset({WRITE}),
    "roles/storage.legacybucketowner": frozenset({WRITE, ADMIN}),
    "roles/storage.admin": frozenset({READ, WRITE, ADMIN}), "roles/owner": frozenset({READ, WRITE, ADMIN}),
    "roles/editor": frozenset({READ, WRITE}),
}
AZURE_ROLES: dict[str, frozenset[str]] = {
    "storage blob data reader": frozenset({READ}), "storage blob data contributor": frozenset({READ, WRITE}),
    "storage blob data owner": frozenset({READ, WRITE, ADMIN}), "owner": frozenset({READ, WRITE, ADMIN}),
    "contributor": frozenset({READ, WRITE}), "storage account contributor": frozenset({READ, WRITE, ADMIN}),
}

_S3_URI = re.compile(r"^s3a?://([^/]+)/?(.*)$")
_S3_HTTPS = (re.compile(r"^https?://([^/]+?)\.s3[.-][^/]*amazonaws\.com/?(.*)$"),
             re.compile(r"^https?://s3[.-][^/]*amazonaws\.com/([^/]+)/?(.*)$"))
_GS_URI = re.compile(r"^(?:gs|gcs)://([^/]+)/?(.*)$")
_GS_HTTPS = re.compile(r"^https://storage\.(?:googleapis|cloud\.google)\.com/([^/]+)/?(.*)$")
_BLOB_HTTPS = re.compile(r"^https://([a-z0-9]+)\.blob\.core\.windows\.net/?(.*)$")
_BLOB_FS = re.compile(r"^(?:abfss?|wasbs?)://([^@/]+)@([a-z0-9]+)\.(?:dfs|blob)\.core\.windows\.net/?(.*)$")
_AZURE_SCOPE = re.compile(r"/storageAccounts/([^/]+)(?:/blobServices/default/containers/([^/]+))?", re.IGNORECASE)
_K8S_SUBJECT = re.compile(r"system:serviceaccount:([^:]+):([^:]+)$")
_GKE_MEMBER = re.compile(r"serviceAccount:[^\[]+\.svc\.id\.goog\[([^/\]]+)/([^\]]+)\]$")
_GKE_PRINCIPAL = re.compile(r"^principal://iam\.googleapis\.com/.*\.svc\.id\.goog/subject/ns/([^/]+)/sa/([^/]+)$")


@dataclass(frozen=True, slots=True)
class Store:
    """A bucket (S3, GCS) or storage account (Azure Blob), with its Terraform resource when the scan has one."""

    provider: str  # "s3", "gcs", "azure-blob"
    bucket: str
    resource: TfResource | None = field(default=None, compare=False, hash=False)

    @property
    def ref(self) -> str:
        scheme = {"s3": "s3", "gcs": "gs", "azure-blob": "https"}[self.provider]
        if self.provider == "azure-blob":
            return f"https://{self.bucket}.blob.core.windows.net"
        return f"{scheme}://{self.bucket}"


def parse_storage_uri(uri: Any) -> tuple[str, str, str] | None:
    """(provider, bucket, key) of an object-storage URI; Azure keys start with the container."""
    if not isinstance(uri, str):
        return None
    text = uri.strip()
    for pattern, provider in ((_S3_URI, "s3"), (_GS_URI, "gcs"), (_GS_HTTPS, "gcs"), (_BLOB_HTTPS, "azure-blob")):
        match = pattern.match(text)
        if match:
            return provider, match.group(1), match.group(2)
    for pattern in _S3_HTTPS:
        match = pattern.match(text)
        if match:
            return "s3", match.group(1), match.group(2)
    match = _BLOB_FS.match(text)
    if match:
        return "azure-blob", match.group(2), f"{match.group(1)}/{match.group(3)}".rstrip("/")
    return None


@dataclass(frozen=True, slots=True)
class Identity:
    """A cloud principal: an IAM role, a Google service account, an Azure managed identity, or a Kubernetes
    service account that GCP trusts directly (Workload Identity Federation principal)."""

    provider: str  # "aws", "gcp", "azure"
    name: str  # as the scan spells it: ARN, email, client id, or the Terraform address
    resource: TfResource | None = None  # compared by identity: two roles of one name in two stacks differ

    @property
    def ref(self) -> str:
        return self.resource.address if self.resource is not None else self.name


@dataclass(frozen=True)
class IdentityLink:
    """Why something runs as an identity: the annotation, association, binding or attribute that says so."""

    identity: Identity
    via: Any  # Located: the K8sObject or TfResource holding the link
    path: tuple
    how: str


@dataclass(frozen=True)
class Permission:
    """One thing an identity may do, as written: an IAM statement, a GCP binding, an Azure role assignment."""

    identity: Identity
    actions: tuple[str, ...]  # IAM actions; or the GCP / Azure role
    resources: tuple[str, ...]  # IAM resource patterns; or the scope the role is bound on
    via: Any  # Located
    path: tuple
    managed: str = ""  # the AWS-managed policy it comes from

    @property
    def text(self) -> str:
        source = f" (AWS-managed {self.managed})" if self.managed else ""
        return f"{', '.join(self.actions)} on {', '.join(self.resources) or '?'}{source}"

    def covers(self, other: Permission) -> bool:
        """Does this permission allow at least what ``other`` allows (same kind of grant)?"""
        if self.identity.provider != other.identity.provider:
            return False
        if self.identity.provider != "aws":
            return any(a.lower() == b.lower() for a in self.actions for b in other.actions) and \
                set(other.resources) <= set(self.resources)
        return all(any(_iam_match(mine, action) for mine in self.actions) for action in other.actions) and \
            all(any(_iam_match(mine, resource, case=True) for mine in self.resources) for resource in other.resources)


def _iam_match(pattern: str, value: str, case: bool = False) -> bool:
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return pattern == value or fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


@dataclass(frozen=True)
class StoreAccess:
    """What an identity may do with the objects of one store (``store`` None: every bucket of its cloud)."""

    permission: Permission
    store: Store | None
    pattern: str  # object key pattern inside the store: "*" all of it, "fraud/*"
    access: frozenset[str]

    def covers(self, key: str) -> bool:
        return self.pattern in ("*", "") or _iam_match(self.pattern, key, case=True) or \
            _iam_match(self.pattern, key.rstrip("/") + "/x", case=True)

    @property
    def target(self) -> str:
        where = self.store.ref if self.store is not None else "every bucket"
        return where if self.pattern in ("*", "") else f"{where}/{self.pattern}"


def _root(resource: TfResource) -> Any:
    module = resource.module
    while getattr(module, "parent", None) is not None:
        module = module.parent
    return module


def _blocks(value: Any) -> list[tuple[int, dict]]:
    return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)] if isinstance(value, list) else []


class CloudIndex:
    """Every identity, grant and store of the Terraform side, indexed for the graph's walks."""

    def __init__(self, terraform: TfInventory | None) -> None:
        self.terraform = terraform
        resources = terraform.resources if terraform is not None else []
        self._by_address: dict[str, list[TfResource]] = defaultdict(list)
        self._by_file_address: dict[tuple[str, str], TfResource] = {}
        for resource in resources:
            if resource.mode == "managed":
                self._by_address[resource.address].append(resource)
                self._by_file_address[(resource.file, resource.address)] = resource
        self.stores: dict[tuple[str, str], Store] = {}
        for resource in self.managed("aws_s3_bucket"):
            self._add_store("s3", resource.values.get("bucket"), resource)
        for resource in self.managed("google_storage_bucket"):
            self._add_store("gcs", resource.values.get("name"), resource)
        for resource in self.managed("azurerm_storage_account"):
            self._add_store("azure-blob", resource.values.get("name"), resource)
        self._roles_by_name: dict[str, list[TfResource]] = defaultdict(list)
        for role in self.managed("aws_iam_role"):
            if isinstance(role.values.get("name"), str):
                self._roles_by_name[role.values["name"]].append(role)
        self._gsa_by_email: dict[str, list[TfResource]] = defaultdict(list)
        for account in self.managed("google_service_account"):
            account_id = account.values.get("account_id")
            if isinstance(account_id, str):
                self._gsa_by_email[account_id].append(account)  # the local part of its email
        self._links_by_account: dict[tuple[str, str], list[IdentityLink]] = defaultdict(list)
        self._index_federation()
        self._permissions: dict[Identity, list[Permission]] = {}
        self._access: dict[Identity, list[StoreAccess]] = {}
        self._indexes: dict[str, Any] = {}

    # -- lookups ------------------------------------------------------------------------------------
    def managed(self, *types: str) -> list[TfResource]:
        """Managed resources of these types (data sources describe what exists elsewhere)."""
        if self.terraform is None:
            return []
        return [r for r in self.terraform.of_type(*types) if r.mode == "managed"]

    def resource_of(self, file: str, address: str) -> TfResource | None:
        """The Terraform resource a ``kubernetes_*`` object came from."""
        return self._by_file_address.get((file, address))

    def _add_store(self, provider: str, name: Any, resource: TfResource) -> None:
        if isinstance(name, str) and name:
            self.stores.setdefault((provider, name), Store(provider, name, resource))

    def store(self, provider: str, bucket: str) -> Store:
        """The store of that name, declared in the scan or not."""
        found = self.stores.get((provider, bucket))
        return found if found is not None else Store(provider, bucket)

    def targets(self, holder: TfResource | None, value: Any, *types: str) -> list[TfResource]:
        """Resources an unknown value was computed from (``aws_iam_role.serve.arn``), nearest first."""
        refs = [v.ref for v in (value if isinstance(value, list) else [value]) if isinstance(v, Unknown) and v.ref]
        found: list[TfResource] = []
        for ref in refs:
            parts = ref.split(".")
            for cut in range(len(parts) - 1, 0, -1):
                candidates = [r for r in self._by_address.get(".".join(parts[:cut]), ())
                              if not types or r.type in types]
                if candidates:
                    if holder is not None and len(candidates) > 1:
                        same = [r for r in candidates if _root(r) is _root(holder)]
                        candidates = same or candidates
                    found.extend(candidates)
                    break
        return found

    def _referenced(self, holder: TfResource, path: tuple, *types: str) -> list[TfResource]:
        value = holder.get(*path)
        found = self.targets(holder, value, *types)
        if not found and self.terraform is not None:
            found = [r for r in self.terraform.referenced(holder, path, *types) if r.mode == "managed"]
        return found

    # -- identities ---------------------------------------------------------------------------------
    def aws_role(self, value: Any, holder: TfResource | None = None) -> list[Identity]:
        """The role an ARN names: a role of the scan (by reference or name), or the ARN as written."""
        roles = self.targets(holder, value, "aws_iam_role")
        if not roles and isinstance(value, str):
            match = re.match(r"arn:aws[\w-]*:iam::[^:]*:role/(?:.*/)?([^/]+)$", value.strip())
            roles = list(self._roles_by_name.get(match.group(1), ())) if match else []
            if not roles:
                return [Identity("aws", value.strip())] if match else []
        return [Identity("aws", r.values.get("name") if isinstance(r.values.get("name"), str) else r.address, r)
                for r in roles]

    def gcp_account(self, value: Any, holder: TfResource | None = None) -> list[Identity]:
        accounts = self.targets(holder, value, "google_service_account")
        if not accounts and isinstance(value, str) and "@" in value:
            email = value.strip().removeprefix("serviceAccount:")
            local, _, domain = email.partition("@")
            accounts = [a for a in self._gsa_by_email.get(local, ())
                        if not isinstance(a.values.get("project"), str) or domain.startswith(a.values["project"] + ".")]
            if not accounts:
                return [Identity("gcp", email)]
        return [Identity("gcp", _gsa_email(a), a) for a in accounts]

    def azure_identity(self, value: Any, holder: TfResource | None = None) -> list[Identity]:
        identities = self.targets(holder, value, "azurerm_user_assigned_identity")
        if not identities and isinstance(value, str) and value.strip():
            identities = [i for i in self.managed("azurerm_user_assigned_identity")
                          if i.values.get("client_id") == value.strip()]
            if not identities:
                return [Identity("azure", value.strip())]
        return [Identity("azure", i.address, i) for i in identities]

    def _index_federation(self) -> None:
        """Links that name a Kubernetes service account on the cloud side."""
        for association in self.managed("aws_eks_pod_identity_association"):
            namespace, account = association.values.get("namespace"), association.values.get("service_account")
            if isinstance(namespace, str) and isinstance(account, str):
                for identity in self.aws_role(association.values.get("role_arn"), association):
                    self._links_by_account[(namespace, account)].append(IdentityLink(
                        identity, association, ("role_arn",), f"EKS Pod Identity association {association.address}"))
        for credential in self.managed("azurerm_federated_identity_credential"):
            subject = credential.values.get("subject")
            match = _K8S_SUBJECT.match(subject) if isinstance(subject, str) else None
            if match:
                for identity in self.azure_identity(credential.values.get("parent_id"), credential):
                    self._links_by_account[(match.group(1), match.group(2))].append(IdentityLink(
                        identity, credential, ("subject",), f"federated identity credential {credential.address}"))
        for binding in self.managed("google_service_account_iam_member", "google_service_account_iam_binding"):
            if str(binding.values.get("role", "")).lower() != "roles/iam.workloadidentityuser":
                continue
            members = binding.values.get("members") if "members" in binding.values else [binding.values.get("member")]
            for index, member in enumerate(members if isinstance(members, list) else ()):
                match = _GKE_MEMBER.match(member) if isinstance(member, str) else None
                if match:
                    path = ("members", index) if "members" in binding.values else ("member",)
                    for identity in self.gcp_account(binding.values.get("service_account_id"), binding):
                        self._links_by_account[(match.group(1), match.group(2))].append(IdentityLink(
                            identity, binding, path, f"Workload Identity binding {binding.address}"))

        for binding in self.managed("google_storage_bucket_iam_member", "google_storage_bucket_iam_binding",
                                "google_project_iam_member", "google_project_iam_binding"):
            members = binding.values.get("members") if "members" in binding.values else [binding.values.get("member")]
            for index, member in enumerate(members if isinstance(members, list) else ()):
                match = _GKE_PRINCIPAL.match(member) if isinstance(member, str) else None
                if match:
                    path = ("members", index) if "members" in binding.values else ("member",)
                    link = IdentityLink(Identity("gcp", member), binding, path,
                                        f"Workload Identity Federation principal in {binding.address}")
                    if not any(existing.identity == link.identity
                               for existing in self._links_by_account[(match.group(1), match.group(2))]):
                        self._links_by_account[(match.group(1), match.group(2))].append(link)

    def federated(self, namespace: str, account: str) -> list[IdentityLink]:
        return self._links_by_account.get((namespace, account), [])

    # -- permissions --------------------------------------------------------------------------------
    def permissions(self, identity: Identity) -> list[Permission]:
        if identity not in self._permissions:
            gather = {"aws": self._aws_permissions, "gcp": self._gcp_permissions, "azure": self._azure_permissions}
            self._permissions[identity] = list(gather[identity.provider](identity))
        return self._permissions[identity]

    def store_access(self, identity: Identity) -> list[StoreAccess]:
        if identity not in self._access:
            self._access[identity] = [a for p in self.permissions(identity) for a in self._store_access(p)]
        return self._access[identity]

    def _aws_permissions(self, identity: Identity) -> Iterator[Permission]:
        role = identity.resource
        if role is None:
            return
        for index, block in _blocks(role.values.get("inline_policy")):
            yield from self._statements(identity, role, ("inline_policy", index, "policy"))
        yield from self._attached(identity, role, ("managed_policy_arns",))
        for holder, path in self._index("role-holders", self._role_holders).get(id(role), ()):
            if holder.type == "aws_iam_role_policy":
                yield from self._statements(identity, holder, ("policy",))
            else:
                yield from self._attached(identity, holder, path)

    def _index(self, name: str, build: Any) -> Any:
        """An index over the whole configuration, built on first use."""
        if name not in self._indexes:
            self._indexes[name] = build()
        return self._indexes[name]

    def _role_holders(self) -> dict[int, list[tuple[TfResource, tuple]]]:
        """Inline policies and attachments by the role they name, and where their policy ARN is."""
        out: dict[int, list[tuple[TfResource, tuple]]] = defaultdict(list)
        for types, role_path, policy_path in ((("aws_iam_role_policy",), ("role",), ("policy",)),
                                              (("aws_iam_role_policy_attachment",), ("role",), ("policy_arn",)),
                                              (("aws_iam_policy_attachment",), ("roles",), ("policy_arn",))):
            for holder in self.managed(*types):
                for role in self._roles_in(holder, role_path):
                    out[id(role)].append((holder, policy_path))
        return out

    def _roles_in(self, holder: TfResource, path: tuple) -> list[TfResource]:
        """Roles an attribute names: by reference, else by name (preferring roles of the holder's stack)."""
        found = self._referenced(holder, path, "aws_iam_role")
        value = holder.get(*path)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                named = self._roles_by_name.get(item, [])
                found += [r for r in named if _root(r) is _root(holder)] or named
        return list(dict.fromkeys(found))

    def _attached(self, identity: Identity, holder: TfResource, path: tuple) -> Iterator[Permission]:
        value = holder.get(*path)
        policies = self._referenced(holder, path, "aws_iam_policy")
        for item in value if isinstance(value, list) else [value]:
            match = MANAGED_ARN.match(item) if isinstance(item, str) else None
            if match:
                for actions, resource in AWS_MANAGED.get(match.group(1), ()):
                    yield Permission(identity, (actions,), (resource,), holder, path, managed=match.group(1))
            elif isinstance(item, str):
                name = item.rsplit("/", 1)[-1]
                policies += [p for p in self.managed("aws_iam_policy") if p.values.get("name") == name]
        for policy in dict.fromkeys(policies):
            yield from self._statements(identity, policy, ("policy",))

    def _statements(self, identity: Identity, holder: TfResource, path: tuple) -> Iterator[Permission]:
        document = holder.get(*path)
        owner, owner_path = holder, path
        sources = [d for d in (self.terraform.referenced(holder, path, "aws_iam_policy_document")
                               if self.terraform is not None else ()) if d.mode == "data"]
        if len(sources) == 1 and not sources[0].values.get("source_policy_documents"):
            owner, document = sources[0], sources[0].values.get("json")
        statements = parse_policy(_decoded(document)) if document is not None else []
        if isinstance(statements, Unknown):
            return
        for statement in statements:
            if not statement.allows:
                continue
            where = ("statement", statement.index, "actions") if owner is not holder else owner_path
            actions = statement.actions or tuple(f"NOT {a}" for a in statement.not_actions)
            resources = statement.resources or (("*",) if statement.not_resources else ())
            yield Permission(identity, actions, resources, owner, where)

    def _gcp_permissions(self, identity: Identity) -> Iterator[Permission]:
        bindings = self._index("gcp-bindings", self._gcp_bindings)
        keys = [("email", identity.name), ("principal", identity.name)]
        if identity.resource is not None:
            keys = [("resource", id(identity.resource)), ("email", _gsa_email(identity.resource))]
        for binding in dict.fromkeys(b for key in keys for b in bindings.get(key, ())):
            role = binding.values.get("role")
            if not isinstance(role, str):
                continue
            if binding.type.startswith("google_project"):
                project = binding.values.get("project")
                scope = f"project:{project if isinstance(project, str) else '*'}"
            else:
                bucket = self._bucket_name(binding, ("bucket",), "google_storage_bucket", "name")
                folder = binding.values.get("managed_folder")
                scope = f"gs://{bucket or '?'}" + (f"/{folder.strip('/')}/*" if isinstance(folder, str) else "")
            yield Permission(identity, (role,), (scope,), binding, ("role",))

    def _gcp_bindings(self) -> dict[tuple, list[TfResource]]:
        """IAM bindings on buckets, managed folders and projects, by the members they name: an email, a
        Google service account of the scan, or a Kubernetes principal."""
        out: dict[tuple, list[TfResource]] = defaultdict(list)
        types = ("google_storage_bucket_iam_member", "google_storage_bucket_iam_binding",
                 "google_storage_managed_folder_iam_member", "google_storage_managed_folder_iam_binding",
                 "google_project_iam_member", "google_project_iam_binding")
        for binding in self.managed(*types):
            members = binding.values.get("members") if "members" in binding.values else [binding.values.get("member")]
            for member in members if isinstance(members, list) else ():
                if isinstance(member, str):
                    text = member.strip()
                    if text.startswith("serviceAccount:"):
                        out[("email", text.removeprefix("serviceAccount:"))].append(binding)
                    elif text.startswith("principal://"):
                        out[("principal", text)].append(binding)
                for account in self.targets(binding, member, "google_service_account"):
                    out[("resource", id(account))].append(binding)
        return out

    def _bucket_name(self, holder: TfResource, path: tuple, bucket_type: str, attribute: str) -> str | None:
        value = holder.get(*path)
        if isinstance(value, str):
            return value.removeprefix("b/")
        for bucket in self.targets(holder, value, bucket_type):
            name = bucket.values.get(attribute)
            if isinstance(name, str):
                return name
        return None

    def _azure_permissions(self, identity: Identity) -> Iterator[Permission]:
        if identity.resource is None:
            return
        for assignment in self._index("azure-assignments", self._azure_assignments).get(id(identity.resource), ()):
            role = assignment.values.get("role_definition_name")
            if isinstance(role, str):
                yield Permission(identity, (role,), (self._azure_scope(assignment),), assignment,
                                 ("role_definition_name",))

    def _azure_assignments(self) -> dict[int, list[TfResource]]:
        """Role assignments by the managed identity whose principal they name."""
        out: dict[int, list[TfResource]] = defaultdict(list)
        for assignment in self.managed("azurerm_role_assignment"):
            for identity in self.targets(assignment, assignment.values.get("principal_id"),
                                         "azurerm_user_assigned_identity"):
                out[id(identity)].append(assignment)
        return out

    def _azure_scope(self, assignment: TfResource) -> str:
        value = assignment.values.get("scope")
        if isinstance(value, str):
            match = _AZURE_SCOPE.search(value)
            if match:
                return f"https://{match.group(1)}.blob.core.windows.net" + \
                    (f"/{match.group(2)}/*" if match.group(2) else "")
            return _broad_azure_scope(value) or value
        rendered = self._rendered(assignment, ("scope",))
        match = _AZURE_SCOPE.search(rendered) if rendered else None
        if match:
            return f"https://{match.group(1)}.blob.core.windows.net" + (f"/{match.group(2)}/*" if match.group(2) else "")
        for target in self.targets(assignment, value):
            if target.type == "azurerm_storage_account" and isinstance(target.values.get("name"), str):
                return f"https://{target.values['name']}.blob.core.windows.net"
            if target.type == "azurerm_storage_container":
                account = self._container_account(target)
                return f"https://{account or '?'}.blob.core.windows.net/{target.values.get('name')}/*"
            if target.type in ("azurerm_resource_group", "azurerm_subscription"):
                return f"{'resource-group' if target.type == 'azurerm_resource_group' else 'subscription'}:" \
                       f"{target.values.get('name') or target.address}"
            return target.address
        return "?"

    def _rendered(self, holder: TfResource, path: tuple) -> str | None:
        """A template like ``"${azurerm_storage_account.models.id}/blobServices/default/containers/fraud"``
        with each resource reference replaced by the Azure id it will have (its name is known)."""
        from servegate.model.terraform.evaluator import references
        from servegate.sources import hcl_ast as ast

        expr = holder.expressions.get(path)
        if not isinstance(expr, ast.Template) or self.terraform is None:
            return None
        out = []
        for part in expr.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            refs = references(part)
            targets = [t for root, steps in refs if steps
                       for t in self.terraform.referenced(holder, path) if t.type == root and t.name == steps[0]]
            name = targets[0].values.get("name") if targets else None
            if not targets or not isinstance(name, str):
                return None
            kind = {"azurerm_storage_account": "storageAccounts", "azurerm_storage_container": "containers"}.get(
                targets[0].type, "resources")
            out.append(f"/providers/Microsoft.Storage/{kind}/{name}")
        return "".join(out)

    def _container_account(self, container: TfResource) -> str | None:
        name = container.values.get("storage_account_name")
        if isinstance(name, str):
            return name
        for account in self.targets(container, container.values.get("storage_account_id"), "azurerm_storage_account"):
            if isinstance(account.values.get("name"), str):
                return account.values["name"]
        return None

    # -- storage reach of a permission --------------------------------------------------------------
    def permission_access(self, permission: Permission) -> list[StoreAccess]:
        return list(self._store_access(permission))

    def _store_access(self, permission: Permission) -> Iterator[StoreAccess]:
        provider = permission.identity.provider
        if provider == "aws":
            yield from self._s3_access(permission)
            return
        roles = GCS_ROLES if provider == "gcp" else AZURE_ROLES
        access = roles.get(permission.actions[0].lower()) if permission.actions else None
        if not access:
            return
        for scope in permission.resources:
            parsed = parse_storage_uri(scope)
            if parsed is not None:
                _, bucket, key = parsed
                yield StoreAccess(permission, self.store(parsed[0], bucket), key or "*", access)
            elif scope.startswith(("project:", "subscription:", "resource-group:")):
                wanted = "gcs" if provider == "gcp" else "azure-blob"
                yield StoreAccess(permission, None, "*", access)
                for (kind, _), store in self.stores.items():
                    if kind == wanted:
                        yield StoreAccess(permission, store, "*", access)

    def _s3_access(self, permission: Permission) -> Iterator[StoreAccess]:
        access = set()
        for kind, actions in ((READ, S3_READS), (WRITE, S3_WRITES), (ADMIN, S3_ADMIN)):
            if any(_allowed(permission, action) for action in actions):
                access.add(kind)
        if not access:
            return
        for resource in permission.resources:
            if resource == "*":
                yield StoreAccess(permission, None, "*", frozenset(access))
                for (kind, _), store in self.stores.items():
                    if kind == "s3":
                        yield StoreAccess(permission, store, "*", frozenset(access))
                continue
            match = re.match(r"arn:aws[\w-]*:s3:::([^/]+)(?:/(.*))?$", resource)
            if not match:
                continue
            bucket_pattern, key_pattern = match.group(1), match.group(2)
            granted = frozenset(access if key_pattern is not None else access & {ADMIN})
            if not granted:
                continue
            if "*" in bucket_pattern or "?" in bucket_pattern:
                if bucket_pattern == "*":
                    yield StoreAccess(permission, None, key_pattern or "*", granted)
                stores = [s for (kind, name), s in self.stores.items()
                          if kind == "s3" and _iam_match(bucket_pattern, name, case=True)]
            else:
                stores = [self.store("s3", bucket_pattern)]
            for store in stores:
                yield StoreAccess(permission, store, key_pattern if key_pattern is not None else "*", granted)


def _allowed(permission: Permission, action: str) -> bool:
    """Does the permission's action list allow ``action`` (NotAction entries are spelled ``NOT x``)?"""
    negated = [a[4:] for a in permission.actions if a.startswith("NOT ")]
    if negated:
        return not any(_iam_match(pattern, action) for pattern in negated)
    return any(_iam_match(pattern, action) for pattern in permission.actions)


def _broad_azure_scope(scope: str) -> str | None:
    """A subscription or resource-group scope, which covers every storage account inside it."""
    match = re.fullmatch(r"/subscriptions/([^/]+)(?:/resourceGroups/([^/]+))?/?", scope.strip(), re.IGNORECASE)
    if match is None:
        return None
    return f"resource-group:{match.group(2)}" if match.group(2) else f"subscription:{match.group(1)}"


def _decoded(document: Any) -> Any:
    if isinstance(document, str):
        try:
            return decode_json(document)
        except ValueError:
            return document
    return document


def _gsa_email(account: TfResource) -> str:
    email = account.values.get("email")
    if isinstance(email, str):
        return email
    account_id, project = account.values.get("account_id"), account.values.get("project")
    if isinstance(account_id, str) and isinstance(project, str):
        return f"{account_id}@{project}.iam.gserviceaccount.com"
    return account.address


def annotation_identities(cloud: CloudIndex, annotations: dict, holder: TfResource | None
                          ) -> Iterator[tuple[str, Identity]]:
    """(annotation key, identity) for the workload-identity annotations of a ServiceAccount."""
    for key, resolve in ((IRSA, cloud.aws_role), (GKE_WI, cloud.gcp_account), (AZURE_WI, cloud.azure_identity)):
        if key in annotations:
            for identity in resolve(annotations[key], holder):
                yield key, identity

