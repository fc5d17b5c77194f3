"""What a pod mounts, reads and loads: its volumes (claims, host paths, shares, and whether writable), the
Secrets it sees, and the object-storage locations it loads models from. The resource graph turns these into
edges; the canary comparison and the cross-model rules compare them between workloads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from servegate.model.cloud import Store
from servegate.model.k8s import Inventory, K8sObject
from servegate.model.rbac import Named
from servegate.model.routes import as_list
from servegate.model.workloads import Container, PodSpec
from servegate.sources.located import Path, get_path

READ_ONLY_SOURCES = ("configMap", "secret", "downwardAPI", "projected", "serviceAccountToken")
_URI_IN_TEXT = re.compile(r"(?:s3a?|gs|gcs|abfss?|wasbs?)://[^\s\"',;)]+|https://[a-z0-9]+\.blob\.core\.windows\.net/"
                          r"[^\s\"',;)]+|https://storage\.googleapis\.com/[^\s\"',;)]+")


@dataclass(frozen=True)
class VolumeUse:
    pod: PodSpec
    index: int
    volume: dict
    kind: str  # the volume source key: persistentVolumeClaim, hostPath, emptyDir, nfs, csi, ...
    source: tuple  # what two pods share when they mount "the same" volume
    claim: K8sObject | Named | None
    mounts: tuple[tuple[Container, int, dict], ...]
    writable: bool

    @property
    def path(self) -> Path:
        return self.pod.at("volumes", self.index)

    @property
    def label(self) -> str:
        if self.kind == "persistentVolumeClaim":
            return f"PVC {self.source[1]}/{self.source[2]}"
        if self.kind == "hostPath":
            return f"host path {self.source[2]}"
        return f"{self.kind} volume `{self.volume.get('name')}`"


@dataclass(frozen=True)
class SecretUse:
    name: str
    how: str
    obj: Any  # Located: where the reference is written
    path: Path
    secret: K8sObject | Named


@dataclass(frozen=True)
class ModelLocation:
    """Where a workload (or a SageMaker model) loads a model from object storage."""

    uri: str
    store: Store
    key: str  # the object key or prefix inside the store (Azure: container/path)
    obj: Any  # Located: where the URI is written
    path: Path
    user: Any  # the workload object or TfResource that loads it
    pod: PodSpec | None = None

    @property
    def own_prefix(self) -> str:
        """The part of the store the model owns: its top-level folder (``fraud/`` of ``fraud/v3/m.tar.gz``;
        for Azure, the folder inside the container); a model at the top owns the whole store ("")."""
        depth = 2 if self.store.provider == "azure-blob" else 1
        parts = self.key.split("/")
        return "/".join(parts[:depth]) + "/" if len(parts) > depth else ""


def pod_key(pod: PodSpec) -> tuple[int, Path]:
    return id(pod.obj), pod.path


def volumes_of(pod: PodSpec, namespace: str, inventory: Inventory) -> Iterator[VolumeUse]:
    """The volumes of a pod: what each mounts (a claim, a host path, a share), where, and whether writable."""
    for index, volume in pod.volumes:
        kind = next((k for k in volume if k != "name"), "")
        name = str(volume.get("name"))
        mounts = tuple((c, i, m) for c in pod.containers for i, m in c.mounts() if m.get("name") == name)
        source_spec = volume.get(kind) if isinstance(volume.get(kind), dict) else {}
        claim: K8sObject | Named | None = None
        if kind == "persistentVolumeClaim":
            claim_name = str(source_spec.get("claimName"))
            source: tuple = (kind, namespace, claim_name)
            claim = inventory.find("PersistentVolumeClaim", namespace, claim_name) or \
                Named("PersistentVolumeClaim", namespace, claim_name)
        elif kind == "hostPath":
            source = (kind, "", str(source_spec.get("path") or "").rstrip("/") or "/")
        elif kind == "nfs":
            source = (kind, str(source_spec.get("server")), str(source_spec.get("path")))
        elif kind == "csi":
            attributes = source_spec.get("volumeAttributes") if isinstance(source_spec.get("volumeAttributes"),
                                                                           dict) else {}
            source = (kind, str(source_spec.get("driver")), str(sorted(attributes.items())))
        else:
            source = (kind, str(pod_key(pod)), name)  # private to the pod
        writable = kind not in READ_ONLY_SOURCES and source_spec.get("readOnly") is not True and \
            any(m.get("readOnly") is not True for _, _, m in mounts)
        yield VolumeUse(pod, index, volume, kind, source, claim, mounts, writable)


def _secret(inventory: Inventory, namespace: str, name: str) -> K8sObject | Named:
    return inventory.find("Secret", namespace, name) or Named("Secret", namespace, name)

def secrets_of(pod: PodSpec, namespace: str, inventory: Inventory, account: K8sObject | Named) -> Iterator[SecretUse]:
    """The Secrets a pod reads: env, envFrom, secret and projected volumes, and those its account lists."""
    for container in pod.containers:
        for index, entry in enumerate(as_list(container.get("env"))):
            ref = get_path(entry, ("valueFrom", "secretKeyRef")) if isinstance(entry, dict) else None
            if isinstance(ref, dict) and ref.get("name"):
                yield SecretUse(str(ref["name"]), f"env {entry.get('name')} of {container.display}", pod.obj,
                                container.at("env", index), _secret(inventory, namespace, str(ref["name"])))
        for index, entry in enumerate(as_list(container.get("envFrom"))):
            ref = entry.get("secretRef") if isinstance(entry, dict) else None
            if isinstance(ref, dict) and ref.get("name"):
                yield SecretUse(str(ref["name"]), f"envFrom of {container.display}", pod.obj,
                                container.at("envFrom", index), _secret(inventory, namespace, str(ref["name"])))
    for index, volume in pod.volumes:
        names = []
        if isinstance(volume.get("secret"), dict):
            names.append(volume["secret"].get("secretName"))
        for source in as_list(get_path(volume, ("projected", "sources"))):
            if isinstance(source, dict) and isinstance(source.get("secret"), dict):
                names.append(source["secret"].get("name"))
        for name in names:
            if name:
                yield SecretUse(str(name), f"volume `{volume.get('name')}`", pod.obj, pod.at("volumes", index),
                                _secret(inventory, namespace, str(name)))
    if isinstance(account, K8sObject):
        for index, entry in enumerate(as_list(account.get("secrets"))):
            if isinstance(entry, dict) and entry.get("name"):
                yield SecretUse(str(entry["name"]), f"listed by {account.ref}", account,
                                account.at("secrets", index), _secret(inventory, namespace, str(entry["name"])))


def locations_of(pod: PodSpec, locate: Callable[..., ModelLocation | None]) -> list[ModelLocation]:
    """Where a pod loads models from object storage: KServe storageUri, Seldon modelUri, LLMInferenceService
    model URI, RayService serve config, and any bucket URI in env values or the command line;
    ``locate(uri, owner, path, user, pod)`` turns one into a location."""
    found: list[ModelLocation] = []
    obj = pod.obj

    def add(uri: Any, owner: Any, path: Path) -> None:
        location = locate(uri, owner, path, obj, pod)
        if location is not None and not any(f.uri == location.uri for f in found):
            found.append(location)

    for container in pod.containers:
        if container.default_name == "kserve-container":
            add(container.get("storageUri"), obj, container.at("storageUri"))
        for var in container.env.values():
            if var.value and var.doc is obj.doc:
                add(var.value, obj, var.path)
        for word in container.argv.words:
            for match in _URI_IN_TEXT.finditer(word.text):
                add(match.group(0), obj, word.path)
    if obj.kind == "InferenceService":
        add(get_path(obj.doc, pod.group_path + ("storageUri",)), obj, pod.group_path + ("storageUri",))
    elif obj.kind == "LLMInferenceService":
        add(obj.get("spec", "model", "uri"), obj, obj.at("spec", "model", "uri"))
    elif obj.kind == "SeldonDeployment":
        for node, path in _seldon_nodes(get_path(obj.doc, pod.group_path + ("graph",)), pod.group_path + ("graph",)):
            add(node.get("modelUri"), obj, path + ("modelUri",))
    elif obj.kind == "RayService":
        config = obj.get("spec", "serveConfigV2")
        if isinstance(config, str):
            for match in _URI_IN_TEXT.finditer(config):
                add(match.group(0), obj, obj.at("spec", "serveConfigV2"))
    return found


def _seldon_nodes(node: Any, path: Path) -> Iterator[tuple[dict, Path]]:
    if not isinstance(node, dict):
        return
    yield node, path
    for index, child in enumerate(as_list(node.get("children"))):
        yield from _seldon_nodes(child, path + ("children", index))
