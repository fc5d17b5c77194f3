"""MLS-ART: model artifacts and load-time supply chain, as seen from Kubernetes manifests.

Model references are gathered from every place a manifest can name a model: KServe ``storageUri`` and
``modelFormat``, LLMInferenceService ``spec.model.uri``, SeldonDeployment graph ``modelUri`` and Seldon v2
``Model``, vLLM/SGLang/TGI/TEI/KServe-runtime argv (``--model``, ``--model-id``, ``--model-path``,
``--model_id``, positional model after ``vllm serve``), ``MODEL_ID``/``HF_MODEL_ID`` env, Triton
``--model-repository``, TF Serving ``--model_base_path``, TorchServe ``--model-store``/``--models`` and
Ray Serve LLM ``model_source`` in a RayService ``serveConfigV2``.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from servegate.findings import Confidence, Severity
from servegate.model.cmdline import EnvVar, Word
from servegate.model.k8s import Inventory, K8sObject
from servegate.model.mounts import mounted_files, parse_properties
from servegate.model.servers import identify
from servegate.model.workloads import Container, PodSpec, pod_specs
from servegate.rules.base import Hit, RelatedHit, RuleSet, Scope
from servegate.sources.embedded import load_embedded
from servegate.sources.located import Path, get_path

rules = RuleSet("artifacts")

NSA = "NSA/CISA Kubernetes Hardening Guidance v1.2"
CIS = "CIS Kubernetes Benchmark v1.9"

HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")
PICKLE_EXTENSIONS = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".bin", ".ckpt", ".mar", ".nemo", ".sav")
PICKLE_FORMATS = {
    "sklearn": "a scikit-learn model (joblib/pickle)",
    "pytorch": "a PyTorch model (TorchServe .mar / torch.load)",
    "mlflow": "an MLflow pyfunc model (cloudpickle)",
    "torchserve": "a TorchServe model archive (.mar, runs its handler)",
}
SELDON_IMPLEMENTATIONS = {
    "SKLEARN_SERVER": "sklearn", "MLFLOW_SERVER": "mlflow", "XGBOOST_SERVER": "xgboost",
    "TENSORFLOW_SERVER": "tensorflow", "TRITON_SERVER": "triton", "HUGGINGFACE_SERVER": "huggingface",
}
BUCKET_SCHEMES = ("s3", "gs", "gcs", "wasb", "wasbs", "abfs", "abfss", "az", "azure", "minio", "oss", "cos",
                  "hdfs", "webhdfs", "r2")
# Object-storage hosts that KServe's storage initializer reads with credentials; any other http(s) URL is a
# plain download (for S3/GCS public URLs: a public object).
AUTHENTICATED_STORAGE_HOSTS = (".blob.core.windows.net", ".file.core.windows.net")
HUB_HOSTS = ("huggingface.co", "hf.co", "modelscope.cn")

# argv flags naming a model; True when a bare ``org/name`` there means a hub repository.
MODEL_FLAGS: dict[str, bool] = {
    "--model": True, "--model-id": True, "--model_id": True, "--model-path": True, "--model_name_or_path": True,
    "--model-repository": False, "--model_repository": False, "--model-store": False, "--model_base_path": False,
    "--model_dir": False, "--model-dir": False, "--model-uri": False, "--storage_uri": False,
}
MODEL_ENV: dict[str, bool] = {"MODEL_ID": True, "HF_MODEL_ID": True, "STORAGE_URI": False, "MODEL_BASE_PATH": False}
REVISION_FLAGS = ("--revision", "--model_revision", "--model-revision", "--code-revision")
REVISION_ENV = ("REVISION", "HF_MODEL_REVISION", "MODEL_REVISION", "HF_REVISION")
OFFLINE_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
TRUTHY = frozenset({"1", "true", "yes", "on"})
READ_ONLY_VOLUMES = ("configMap", "secret", "downwardAPI", "projected", "serviceAccountToken")


def _unknown(value: str) -> bool:
    return "$(" in value or "${" in value or value.startswith("$") or "{{" in value


def _truthy(var: EnvVar | None) -> bool:
    return var is not None and str(var.value or "").strip().lower() in TRUTHY


@dataclass(frozen=True)
class ModelRef:
    """One place a manifest names the model a workload loads."""

    value: str
    obj: K8sObject
    path: Path
    via: str
    container: Container | None = None
    fmt: str = ""
    hub_capable: bool = False
    scalar_line: int | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def where(self) -> str:
        return self.container.display if self.container is not None else self.obj.ref


# ---------------------------------------------------------------------------------------------------------
# Where models come from


def _owner(var: EnvVar, c: Container) -> K8sObject:
    """The object holding an environment variable's value (the container's, or a ConfigMap's)."""
    if var.doc is c.obj.doc:
        return c.obj
    for configmap in c.pod.inventory.of_kind("ConfigMap"):
        if configmap.doc is var.doc and var.path[: len(configmap.base)] == configmap.base:
            return configmap
    return c.obj


def _config_map_value(c: Container, var: EnvVar) -> tuple[str, K8sObject, Path] | None:
    """Resolve ``valueFrom.configMapKeyRef`` against a ConfigMap of the scan."""
    entry = get_path(c.obj.doc, var.path)
    ref = get_path(entry, ("valueFrom", "configMapKeyRef")) if isinstance(entry, dict) else None
    if not isinstance(ref, dict):
        return None
    configmap = c.pod.inventory.find("ConfigMap", c.obj.effective_namespace, str(ref.get("name")))
    value = configmap.get("data", str(ref.get("key"))) if configmap is not None else None
    if not isinstance(value, str):
        return None
    return value, configmap, configmap.at("data", str(ref.get("key")))


def flag_values(c: Container, *flags: str) -> Iterator[tuple[str, Word]]:
    """Every value of the flags, as ``--flag=value`` or ``--flag value``."""
    words = c.argv.words
    for index, word in enumerate(words):
        head, sep, tail = word.text.partition("=")
        if head not in flags:
            continue
        if sep:
            yield tail, word
        elif index + 1 < len(words) and not words[index + 1].text.startswith("-"):
            yield words[index + 1].text, words[index + 1]


def _torchserve_models(c: Container) -> Iterator[tuple[str, Word]]:
    """TorchServe ``--models a=a.mar b=https://.../b.mar`` (several values up to the next flag)."""
    words = c.argv.words
    for index, word in enumerate(words):
        head, sep, tail = word.text.partition("=")
        if head != "--models":
            continue
        values = [(tail, word)] if sep else []
        for following in words[index + 1:] if not sep else ():
            if following.text.startswith("-") or following.text in ("&&", "||", ";", "|"):
                break
            values.append((following.text, following))
        for value, where in values:
            yield value.split("=", 1)[-1], where


def container_refs(c: Container) -> list[ModelRef]:
    """Model references of one container, env first (where the literal lives), de-duplicated by value."""
    refs: list[ModelRef] = []
    obj = c.obj
    if c.default_name == "kserve-container":
        shorthand = str(c.path[-1])
        fmt = shorthand if shorthand != "model" else str(c.get("modelFormat", "name") or "")
        uri = c.get("storageUri")
        if isinstance(uri, str) and uri:
            refs.append(ModelRef(uri, obj, c.at("storageUri"), "storageUri", c, fmt.lower()))
        elif isinstance(c.get("storage"), dict):
            path = c.get("storage", "path")
            refs.append(ModelRef(f"storage:{path or ''}", obj, c.at("storage"), "storage", c, fmt.lower()))
    servers = identify(c)
    used_in_argv = c.argv.text
    for name, hub in MODEL_ENV.items():
        var = c.env.get(name)
        if var is None:
            continue
        value, owner, path = var.value, _owner(var, c), var.path
        if value is None:
            resolved = _config_map_value(c, var)
            if resolved is not None:
                value, owner, path = resolved
        if value is None:
            # Unknown: only where the server itself reads the variable and argv does not already use it.
            reads = name == "HF_MODEL_ID" or (name == "MODEL_ID" and servers & {"tgi", "tei"}) or \
                (name == "STORAGE_URI" and c.name == "kserve-container")
            if not reads or f"$({name})" in used_in_argv:
                continue
            value = f"$({name})"
        refs.append(ModelRef(value, owner, path, f"env {name}", c, hub_capable=hub))
    program = c.argv.has_program("vllm")
    if program is not None:
        words = c.argv.words
        index = words.index(program)
        if index + 1 < len(words) and words[index + 1].text == "serve":
            model = c.argv.positional_after(program, skip=("serve",))
            if model is not None:
                refs.append(ModelRef(model.text, obj, model.path, "vllm serve", c, hub_capable=True))
    for flag, hub in MODEL_FLAGS.items():
        for value, word in flag_values(c, flag):
            refs.append(ModelRef(value, obj, word.path, flag, c, hub_capable=hub))
    if "torchserve" in servers:
        refs = [ModelRef(r.value, r.obj, r.path, r.via, c, "torchserve") if r.via == "--model-store" else r
                for r in refs]
        for value, word in _torchserve_models(c):
            if value and value != "all":
                refs.append(ModelRef(value, obj, word.path, "--models", c, "torchserve"))
        for mounted in mounted_files(c):
            if not mounted.path.endswith("config.properties"):
                continue
            props = parse_properties(mounted.text)
            if "model_store" in props and not any(r.via == "--model-store" for r in refs):
                value, line = props["model_store"]
                refs.append(ModelRef(value.split()[0] if value else value, mounted.configmap, mounted.data_path,
                                     f"model_store in {mounted.path}", c, "torchserve", scalar_line=line))
            if "load_models" in props:
                value, line = props["load_models"]
                for item in (v.strip() for v in value.split(",")):
                    target = (item.split("=", 1)[-1].split() or [""])[0]
                    if "://" in target:
                        refs.append(ModelRef(target, mounted.configmap, mounted.data_path,
                                             f"load_models in {mounted.path}", c, "torchserve", scalar_line=line))
    load_format = c.argv.value("--load-format")
    seen: set[str] = set()
    unique = []
    for ref in refs:
        if ref.value and ref.value not in seen:
            seen.add(ref.value)
            if load_format and load_format[0] == "pt" and ref.hub_capable:
                ref = ModelRef(ref.value, ref.obj, ref.path, ref.via, c, "pt", True,
                               extra={"load_format": load_format[1]})
            unique.append(ref)
    return unique


def _seldon_graph(obj: K8sObject, node: Any, path: Path) -> Iterator[ModelRef]:
    if not isinstance(node, dict):
        return
    uri = node.get("modelUri")
    fmt = SELDON_IMPLEMENTATIONS.get(str(node.get("implementation") or ""), "")
    if isinstance(uri, str) and uri:
        yield ModelRef(uri, obj, path + ("modelUri",), "graph.modelUri", None, fmt)
    children = node.get("children")
    for i, child in enumerate(children if isinstance(children, list) else ()):
        yield from _seldon_graph(obj, child, path + ("children", i))


def _serve_config_refs(obj: K8sObject, path: Path, text: str) -> Iterator[ModelRef]:
    """Ray Serve LLM ``model_loading_config.model_source`` (or ``model_id``) in a RayService config string."""
    config = load_embedded(text)  # an alias bomb in it reads as None
    lines = text.splitlines()

    def walk(node: Any) -> Iterator[dict]:
        if isinstance(node, dict):
            if isinstance(node.get("model_loading_config"), dict):
                yield node
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    for llm in walk(config):
        loading = llm["model_loading_config"]
        source = loading.get("model_source", loading.get("model_id"))
        if isinstance(source, dict):  # {bucket_uri: s3://...}
            source = source.get("bucket_uri")
        if not isinstance(source, str):
            continue
        key = "model_source" if "model_source" in loading else "model_id"
        offset = next((i for i, line in enumerate(lines) if key in line and source in line), None)
        engine = llm.get("engine_kwargs") if isinstance(llm.get("engine_kwargs"), dict) else {}
        env = (llm.get("runtime_env") or {}).get("env_vars") if isinstance(llm.get("runtime_env"), dict) else None
        yield ModelRef(source, obj, path, f"serveConfigV2 {key}", None, hub_capable=True, scalar_line=offset,
                       extra={"revision": engine.get("revision"), "trust_remote_code": engine.get("trust_remote_code"),
                              "env": env if isinstance(env, dict) else {}, "text": text})


def object_refs(obj: K8sObject) -> Iterator[ModelRef]:
    """Model references that belong to the object rather than to one of its containers."""
    if obj.kind == "SeldonDeployment":
        predictors = obj.get("spec", "predictors")
        for i, predictor in enumerate(predictors if isinstance(predictors, list) else ()):
            if isinstance(predictor, dict):
                yield from _seldon_graph(obj, predictor.get("graph"), obj.at("spec", "predictors", i, "graph"))
    elif obj.kind == "Model" and obj.group.startswith("mlops.seldon.io"):
        uri = obj.get("spec", "storageUri")
        requirements = obj.get("spec", "requirements")
        fmt = next((str(r) for r in requirements if str(r) in PICKLE_FORMATS), "") \
            if isinstance(requirements, list) else ""
        if isinstance(uri, str) and uri:
            yield ModelRef(uri, obj, obj.at("spec", "storageUri"), "storageUri", None, fmt)
    elif obj.kind == "LLMInferenceService":
        env: dict[str, str] = {}
        for section in ("template", "worker", "prefill"):
            containers = obj.get("spec", section, "containers")
            for c in containers if isinstance(containers, list) else ():
                for entry in c.get("env") or () if isinstance(c, dict) else ():
                    if isinstance(entry, dict) and "value" in entry:
                        env[str(entry.get("name"))] = str(entry.get("value"))
        uri = obj.get("spec", "model", "uri")
        if isinstance(uri, str) and uri:
            yield ModelRef(uri, obj, obj.at("spec", "model", "uri"), "spec.model.uri", None, extra={"env": env})
        adapters = obj.get("spec", "model", "lora", "adapters")
        for i, adapter in enumerate(adapters if isinstance(adapters, list) else ()):
            if isinstance(adapter, dict) and isinstance(adapter.get("uri"), str):
                yield ModelRef(adapter["uri"], obj, obj.at("spec", "model", "lora", "adapters", i, "uri"),
                               "LoRA adapter uri", None, extra={"env": env})
    elif obj.kind == "RayService":
        for key in ("serveConfigV2", "serveConfig"):
            text = obj.get("spec", key)
            if isinstance(text, str):
                yield from _serve_config_refs(obj, obj.at("spec", key), text)


def _pods(inventory: Inventory) -> list[PodSpec]:
    return [pod for obj in inventory.objects for pod in pod_specs(obj, inventory)
            if obj.kind not in ("ServingRuntime", "ClusterServingRuntime")]


# KServe and Seldon images that are operators, agents or downloaders, not model servers.
INFRA_FRAGMENTS = ("controller", "localmodel", "agent", "router", "storage-initializer", "models-web-app", "manager",
                   "webhook", "operator", "scheduler", "envoy", "dataflow", "pipelinegateway", "modelgateway")


def serving_container(c: Container) -> bool:
    image = c.image.lower()
    if c.init or (("kserve" in image or "seldon" in image) and any(f in image for f in INFRA_FRAGMENTS)):
        return False
    return bool(identify(c)) or c.requests_gpu or bool(c.default_name) or bool(c.pod.ml_kind)


def serving_pod(pod: PodSpec) -> bool:
    """A pod that serves models: not a batch or training job, not a notebook, not an operator."""
    kind = pod.obj.kind
    if kind.endswith("Job") or kind == "Notebook" or pod.role == "submitter":
        return False
    return pod.is_inference and any(serving_container(c) for c in pod.main_containers)


def all_refs(inventory: Inventory) -> Iterator[ModelRef]:
    for obj in inventory.objects:
        yield from object_refs(obj)
    for pod in _pods(inventory):
        if not serving_pod(pod):
            continue
        for c in pod.main_containers:
            if serving_container(c):
                yield from container_refs(c)


# ---------------------------------------------------------------------------------------------------------
# Classifying a source


@dataclass(frozen=True)
class Source:
    kind: str  # hub, http, bucket, pvc, registry, oci, local-volume, image, unknown, other
    label: str
    repo: str = ""
    revision: str = ""  # a revision written into the reference itself
    volume: str = ""


def _mount_of(c: Container, path: str) -> tuple[int, dict, dict] | None:
    """The volume mount holding ``path`` in the container: (mount index, mount, volume)."""
    best: tuple[int, dict, dict] | None = None
    for index, mount in c.mounts():
        mount_path = str(mount.get("mountPath") or "").rstrip("/") or "/"
        if path == mount_path or path.startswith(mount_path.rstrip("/") + "/"):
            entry = c.pod.volume(str(mount.get("name")))
            if entry is not None and (best is None or len(mount_path) > len(str(best[1].get("mountPath")))):
                best = (index, mount, entry[1])
    return best


def volume_kind(volume: dict) -> str:
    return next((k for k in volume if k != "name"), "?")


USERINFO = re.compile(r"://[^/@\s]+@")


def classify(ref: ModelRef) -> Source:
    value = USERINFO.sub("://…@", ref.value.strip())  # never echo credentials embedded in a URI
    scheme, sep, rest = value.partition("://")
    scheme = scheme.lower() if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme) else ""
    if not value or (_unknown(value) and not value.startswith("/") and not scheme):
        return Source("unknown", f"`{value}`")
    if scheme == "hf":
        match = re.match(r"^([^:@]+)(?:[:@](.*))?$", rest)
        repo, revision = (match.group(1), match.group(2) or "") if match else (rest, "")
        return Source("hub", f"Hugging Face repository `{repo}`", repo, revision)
    if scheme in ("http", "https"):
        host = rest.split("/", 1)[0].lower()
        if any(host.endswith(h) for h in AUTHENTICATED_STORAGE_HOSTS):
            return Source("bucket", f"storage URL `{value}`")  # KServe reads these with storage credentials
        if any(host == h or host.endswith("." + h) for h in HUB_HOSTS):
            return Source("hub", f"hub URL `{value}`", rest.split("/", 1)[-1])
        return Source("http", f"URL `{value}`")
    if scheme in BUCKET_SCHEMES:
        return Source("bucket", f"bucket `{scheme}://{rest.split('/', 1)[0]}`")
    if scheme == "pvc":
        return Source("pvc", f"PVC `{rest.split('/', 1)[0]}`")
    if scheme in ("runs", "models") or value.startswith(("runs:/", "models:/")):
        return Source("registry", f"MLflow registry reference `{value}`")
    if scheme == "oci":
        return Source("image" if "@sha256:" in value else "oci", f"OCI artifact `{value}`")
    if value.startswith("storage:"):
        return Source("bucket", "the storage-config Secret's bucket")
    if value.startswith("/"):
        if ref.container is not None:
            found = _mount_of(ref.container, value)
            if found is not None:
                _, mount, volume = found
                kind = volume_kind(volume)
                if kind in READ_ONLY_VOLUMES or kind == "emptyDir" or kind == "image":
                    return Source("image", f"`{value}`")
                claim = volume.get("persistentVolumeClaim", {}).get("claimName") \
                    if isinstance(volume.get("persistentVolumeClaim"), dict) else None
                shown = f"PVC `{claim}`" if claim else f"{kind} volume `{volume.get('name')}`"
                return Source("local-volume", f"`{value}` on {shown}", volume=str(volume.get("name")))
        return Source("image", f"`{value}`")
    if ref.hub_capable and HUB_ID.match(value):
        return Source("hub", f"Hugging Face repository `{value}`", value)
    return Source("other", f"`{value}`")


@dataclass(frozen=True)
class Pin:
    state: str  # "pinned", "offline", "unpinned", "unknown"
    detail: str = ""
    path: Path | None = None


def pin_of(ref: ModelRef, source: Source) -> Pin:
    """Whether a hub reference is fixed to a commit, or the pod runs with the hub offline."""
    if source.revision:
        if COMMIT.match(source.revision):
            return Pin("pinned", f"revision {source.revision[:12]}")
        return Pin("unpinned", f"revision `{source.revision}` in the URI is a branch or tag, not a commit")
    c = ref.container
    candidates: list[tuple[str, str]] = []
    env: dict[str, EnvVar] = c.env if c is not None else {}
    if c is not None:
        for name in OFFLINE_ENV:
            if _truthy(env.get(name)):
                return Pin("offline", f"{name}=1")
        for value, word in flag_values(c, *REVISION_FLAGS):
            candidates.append((value, word.text.split("=", 1)[0] if "=" in word.text else "--revision"))
        for name in REVISION_ENV:
            if name in env:
                candidates.append((env[name].value if env[name].value is not None else f"$({name})", name))
    extra_env = ref.extra.get("env") or {}
    if any(str(extra_env.get(name, "")).strip().lower() in TRUTHY for name in OFFLINE_ENV):
        return Pin("offline", "HF_HUB_OFFLINE in runtime_env")
    if ref.extra.get("revision"):
        candidates.append((str(ref.extra["revision"]), "engine_kwargs.revision"))
    if not candidates:
        return Pin("unpinned", "no revision")
    value, where = candidates[0]
    if COMMIT.match(value.strip()):
        return Pin("pinned", f"{where} {value[:12]}")
    if _unknown(value):
        return Pin("unknown", f"{where} comes from `{value}`, not known from the manifest")
    return Pin("unpinned", f"{where} `{value}` is a branch or tag, not a commit")


def _pickle_reason(ref: ModelRef) -> str | None:
    value = ref.value.split("?", 1)[0].split("#", 1)[0].rstrip("/").lower()
    if value.endswith(".gz"):
        value = value[:-3]
    if value.endswith(PICKLE_EXTENSIONS):
        return f"a pickle-based `{posixpath.splitext(value)[1]}` file"
    if ref.fmt == "pt":
        return "weights with --load-format pt (torch.load of .bin/.pt files)"
    if ref.fmt in PICKLE_FORMATS:
        return PICKLE_FORMATS[ref.fmt]
    return None


# ---------------------------------------------------------------------------------------------------------
# Rules

ATLAS_SUPPLY = ("MITRE ATLAS AML.T0010.003", "MITRE ATLAS AML.T0011.000", "MITRE ATLAS AML.T0058")


@rules.rule(
    id="MLS-ART-004", name="pickle-model-from-mutable-source",
    title="Pickle-based model format loaded from a mutable or external source",
    severity=Severity.HIGH, scope=Scope.INVENTORY,
    rationale="""
        Pickle-based model files (`.pkl`, `.joblib`, `.pt`, `.bin`, `.ckpt`, `.mar`, `.nemo`) and the
        formats built on them (scikit-learn, MLflow pyfunc, TorchServe archives, `torch.load` weights)
        execute code while they are loaded. Whoever can replace the file at its source (a public URL, a
        hub repository, a bucket without object lock, a shared PVC) runs code in the model server with its
        credentials and its GPUs.""",
    remediation="""
        Serve formats that carry no code (safetensors, ONNX, TF SavedModel without custom ops) where the
        framework allows it. Otherwise scan pickles in CI (e.g. Fickling, ModelScan), sign them, and load
        them only from an organisation-owned bucket with versioning and object lock (or an OCI artifact
        pinned by digest); never from a public URL or an unpinned hub repository.""",
    bad="""
        spec:
          predictor:
            model:
              modelFormat: {name: sklearn}
              storageUri: https://example-public-bucket.s3.amazonaws.com/churn/model.joblib""",
    good="""
        spec:
          predictor:
            model:
              modelFormat: {name: onnx}
              storageUri: s3://acme-ml-models-prod/churn/v7   # scanned and signed in CI""",
    references=(
        "TorchServe SECURITY.md (model archives execute arbitrary Python)",
        "Hugging Face Hub documentation: Pickle Scanning", "vLLM security advisory CVE-2025-24357",
        "OWASP ML06:2023 AI Supply Chain Attacks", "OWASP ML10:2023 Model Poisoning",
        "OWASP LLM03:2025 Supply Chain", *ATLAS_SUPPLY,
    ),
)
def pickle_model(inventory: Inventory) -> Iterator[Hit]:
    for ref in all_refs(inventory):
        reason = _pickle_reason(ref)
        if reason is None:
            continue
        source = classify(ref)
        severity, confidence = None, Confidence.HIGH
        if source.kind in ("hub", "http"):
            pin = pin_of(ref, source) if source.kind == "hub" else Pin("unpinned")
            if source.kind == "hub" and pin.state == "unpinned":
                severity = Severity.CRITICAL
                why = f"from {source.label}, an external repository not pinned to a commit ({pin.detail})"
            else:
                why = f"from {source.label}, a plain download that whoever controls the URL can change"
        elif source.kind in ("bucket", "pvc", "registry", "oci", "local-volume"):
            confidence = Confidence.MEDIUM
            why = f"from {source.label}, mutable storage whose immutability the manifest cannot show"
        elif source.kind == "unknown" and ref.fmt:
            confidence = Confidence.LOW
            why = f"from {source.label}, a source not known from the manifest"
        else:
            continue
        path = ref.extra.get("load_format").path if ref.extra.get("load_format") is not None else ref.path
        yield Hit(path, f"{ref.where} loads {reason} ({ref.via}) {why}; loading it executes code",
                  obj=ref.obj, severity=severity, confidence=confidence, scalar_line=ref.scalar_line)


TRUST_REMOTE_CODE = re.compile(r"(?<![\w-])--trust[-_]remote[-_]code(?:[= ](true|false|True|False|1|0))?(?![\w-])")
TRUST_ENV = ("TRUST_REMOTE_CODE", "HF_MODEL_TRUST_REMOTE_CODE", "HF_TRUST_REMOTE_CODE", "VLLM_TRUST_REMOTE_CODE")
TRUST_IN_FILE = re.compile(r"""["']?trust_remote_code["']?\s*[:=]\s*["']?(true|True|1)\b""")


def _remote_code_sources(c: Container) -> Iterator[tuple[Path, str, K8sObject, int | None]]:
    """(path, what, object, scalar line) for every switch that runs model-supplied code."""
    for word in c.argv.words:
        match = TRUST_REMOTE_CODE.search(word.text)
        if match and (match.group(1) or "true").lower() not in ("false", "0"):
            yield word.path, "--trust-remote-code", c.obj, None
    for name in TRUST_ENV:
        var = c.env.get(name)
        if _truthy(var):
            yield var.path, f"{name}={var.value}", _owner(var, c), None
    for name, var in c.env.items():
        if name.endswith("ARGS") and var.value and TRUST_REMOTE_CODE.search(var.value):
            match = TRUST_REMOTE_CODE.search(var.value)
            if (match.group(1) or "true").lower() not in ("false", "0") and \
                    not any(TRUST_REMOTE_CODE.search(w.text) for w in c.argv.words):
                yield var.path, f"--trust-remote-code in {name}", _owner(var, c), None
    for mounted in mounted_files(c):
        name = mounted.path.rsplit("/", 1)[-1]
        if name.endswith("config.properties"):
            props = parse_properties(mounted.text)
            value, line = props.get("install_py_dep_per_model", ("", 0))
            if (value.split() or [""])[0].lower() == "true":
                yield (mounted.data_path, f"install_py_dep_per_model=true in {mounted.path} (pip-installs each "
                       "archive's requirements.txt at load)", mounted.configmap, line)
        for offset, line in enumerate(mounted.text.splitlines()):
            if TRUST_IN_FILE.search(line):
                yield mounted.data_path, f"trust_remote_code in {mounted.path}", mounted.configmap, offset
    if _truthy(c.env.get("TS_INSTALL_PY_DEP_PER_MODEL")):
        var = c.env["TS_INSTALL_PY_DEP_PER_MODEL"]
        yield var.path, "TS_INSTALL_PY_DEP_PER_MODEL=true", _owner(var, c), None


FILE_MODEL = re.compile(r'"model"\s*:\s*"([^"]+)"')


def _file_model_refs(c: Container) -> list[ModelRef]:
    """The model a mounted backend config names (Triton vLLM backend ``model.json``: ``"model": ...``)."""
    refs = []
    for mounted in mounted_files(c):
        if not mounted.path.endswith(".json") or not TRUST_IN_FILE.search(mounted.text):
            continue
        for offset, line in enumerate(mounted.text.splitlines()):
            match = FILE_MODEL.search(line)
            if match:
                refs.append(ModelRef(match.group(1), mounted.configmap, mounted.data_path, f"model in {mounted.path}",
                                     c, hub_capable=True, scalar_line=offset))
    return refs


def _code_verdict(refs: list[ModelRef]) -> tuple[Severity | None, str] | None:
    """None when the code is vendored or pinned; else the severity and where the code comes from."""
    if not refs:
        return Severity.HIGH, "the model's own repository"
    worst: tuple[Severity | None, str] | None = None
    for ref in refs:
        source = classify(ref)
        if source.kind == "image":
            continue
        if source.kind == "hub":
            pin = pin_of(ref, source)
            if pin.state == "pinned":
                continue
            if pin.state in ("unpinned", "unknown"):
                return Severity.CRITICAL, f"{source.label}, not pinned to a reviewed commit ({pin.detail})"
            worst = worst or (None, f"{source.label} (cached offline, not pinned)")
            continue
        worst = worst or (None, f"{source.label}")
    return worst


@rules.rule(
    id="MLS-ART-005", name="remote-code-at-load", title="Remote or model-supplied code executed at load time",
    severity=Severity.HIGH, scope=Scope.INVENTORY,
    rationale="""
        `trust_remote_code` makes Transformers, vLLM, TGI and SGLang import the Python files that come
        with the model repository (`modeling_*.py`, `auto_map`). TorchServe's `install_py_dep_per_model`
        pip-installs every archive's requirements at start. Whoever controls the model repository controls
        code in the server; with an unpinned hub repository that is whoever can push to it.""",
    remediation="""
        Remove `--trust-remote-code` (and `TRUST_REMOTE_CODE`, `HF_MODEL_TRUST_REMOTE_CODE`); use
        architectures supported natively, or vendor and review the modelling code into the image and load
        the model from a local path. If remote code must stay, pin the reviewed commit with
        `--revision <40-hex sha>` (and `--code-revision`). Bake Python dependencies into the image instead of
        `install_py_dep_per_model=true`.""",
    bad='args: ["vllm", "serve", "someorg/new-arch-7b", "--trust-remote-code"]',
    good="""
        args: ["vllm", "serve", "someorg/new-arch-7b", "--trust-remote-code",
               "--revision", "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
               "--code-revision", "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"]""",
    references=(
        "Hugging Face Transformers documentation: trust_remote_code", "vLLM CLI reference (--trust-remote-code)",
        "TorchServe documentation: Allow model specific custom python packages",
        "Triton Inference Server: Secure Deployment Considerations",
        "OWASP ML06:2023 AI Supply Chain Attacks", "OWASP LLM03:2025 Supply Chain",
        "MITRE ATLAS AML.T0010.001", "MITRE ATLAS AML.T0010.003", "MITRE ATLAS AML.T0011.000",
    ),
)
def remote_code(inventory: Inventory) -> Iterator[Hit]:
    seen: set[tuple[int, Path, int | None]] = set()
    for pod in _pods(inventory):
        if not serving_pod(pod):
            continue
        for c in pod.main_containers:
            if not serving_container(c):
                continue
            for hit in _remote_code_in(c):
                key = (id(hit.obj), hit.path, hit.scalar_line)
                if hit.obj is not c.obj and key in seen:
                    continue  # one ConfigMap line mounted into several containers
                seen.add(key)
                yield hit
    for obj in inventory.of_kind("LLMInferenceService"):
        if not pod_specs(obj, inventory):  # older model views do not expand LLMInferenceService templates
            yield from _llmisvc_remote_code(obj)
    for obj in inventory.of_kind("RayService"):
        for ref in object_refs(obj):
            flag = ref.extra.get("trust_remote_code")
            if flag is not True and str(flag).lower() != "true":
                continue
            verdict = _code_verdict([ref])
            if verdict is None:
                continue
            text = ref.extra.get("text", "")
            offset = next((i for i, line in enumerate(text.splitlines()) if "trust_remote_code" in line), None)
            yield Hit(ref.path, f"{obj.ref} runs model-supplied Python (engine_kwargs.trust_remote_code: true in "
                                f"{ref.via.split()[0]}); the code comes from {verdict[1]}", obj=obj,
                      severity=verdict[0], scalar_line=offset)


LLMISVC_SECTIONS = (("template",), ("worker",), ("prefill", "template"), ("prefill", "worker"))


def _llmisvc_remote_code(obj: K8sObject) -> Iterator[Hit]:
    """LLMInferenceService pod templates (spec.template, spec.worker, spec.prefill.*) are not pod specs."""
    refs = list(object_refs(obj))[:1]
    for section in LLMISVC_SECTIONS:
        containers = obj.get("spec", *section, "containers")
        for i, container in enumerate(containers if isinstance(containers, list) else ()):
            if not isinstance(container, dict):
                continue
            places: list[tuple[Path, str, str]] = []
            for key in ("command", "args"):
                items = container.get(key)
                for j, item in enumerate(items if isinstance(items, list) else ()):
                    places.append((("containers", i, key, j), str(item), "--trust-remote-code"))
            env = container.get("env")
            for j, entry in enumerate(env if isinstance(env, list) else ()):
                if isinstance(entry, dict) and str(entry.get("name", "")).endswith("ARGS") and "value" in entry:
                    places.append((("containers", i, "env", j, "value"), str(entry["value"]),
                                   f"--trust-remote-code in {entry['name']}"))
                elif isinstance(entry, dict) and entry.get("name") in TRUST_ENV and \
                        str(entry.get("value", "")).lower() in TRUTHY:
                    places.append((("containers", i, "env", j, "value"), "--trust-remote-code",
                                   f"{entry['name']}={entry['value']}"))
            for path, text, what in places:
                match = TRUST_REMOTE_CODE.search(text)
                if not match or (match.group(1) or "true").lower() in ("false", "0"):
                    continue
                verdict = _code_verdict(refs)
                if verdict is None:
                    continue
                where = ".".join(section)
                yield Hit(obj.at("spec", *section, *path),
                          f"container `{container.get('name', i)}` in {obj.ref} ({where}) runs model-supplied "
                          f"Python with {what}; the code comes from {verdict[1]}", obj=obj, severity=verdict[0])


def _remote_code_in(c: Container) -> Iterator[Hit]:
    sources = list(_remote_code_sources(c))
    if not sources:
        return
    refs = container_refs(c)
    if c.obj.kind == "LLMInferenceService":
        refs = [r for r in object_refs(c.obj) if r.via == "spec.model.uri"] + refs
    file_refs = _file_model_refs(c)
    for path, what, obj, line in sources:
        if "install_py_dep" in what.lower():
            yield Hit(path, f"{c.display}: {what}", obj=obj, scalar_line=line)
            continue
        verdict = _code_verdict(file_refs if what.startswith("trust_remote_code in") and file_refs else refs)
        if verdict is None:
            continue
        severity, origin = verdict
        yield Hit(path, f"{c.display} runs model-supplied Python with {what}; the code comes from {origin}",
                  obj=obj, severity=severity, scalar_line=line)


@rules.rule(
    id="MLS-ART-006", name="hub-model-unpinned",
    title="Model pulled from a public hub at runtime without a pinned revision",
    severity=Severity.HIGH, scope=Scope.INVENTORY,
    rationale="""
        A hub reference such as `mistralai/Mistral-7B-Instruct-v0.3` resolves to whatever the repository's
        main branch holds when the pod starts: weights, tokenizer, chat template and remote code change when
        the upstream owner (or whoever takes the name over) pushes, and every restart may serve a different
        model. Malicious and typosquatted models on public hubs are documented (ATLAS AML.CS0027,
        AML.CS0031).""",
    remediation="""
        Mirror the model into an organisation bucket in CI and serve it from there with `HF_HUB_OFFLINE=1`;
        or pin the commit: `--revision <40-hex sha>` (vLLM, TGI, TEI, SGLang), `REVISION` /
        `HF_MODEL_REVISION` env, `hf://org/name:<sha>` in KServe `storageUri`.""",
    bad='env: [{name: MODEL_ID, value: "mistralai/Mistral-7B-Instruct-v0.3"}]',
    good="""
        env:
        - {name: MODEL_ID, value: "mistralai/Mistral-7B-Instruct-v0.3"}
        - {name: REVISION, value: "e0bc86c23ce5aae1db576c8cca6f06f1f73af2db"}
        # better: mirror into s3://acme-ml-models-prod/... in CI and set HF_HUB_OFFLINE=1""",
    references=(
        "MITRE ATLAS AML.T0010.003", "MITRE ATLAS AML.T0058", "MITRE ATLAS AML.CS0027", "MITRE ATLAS AML.CS0031",
        "OWASP ML06:2023 AI Supply Chain Attacks", "OWASP ML07:2023 Transfer Learning Attack",
        "OWASP LLM03:2025 Supply Chain", "OWASP LLM04:2025 Data and Model Poisoning",
    ),
)
def hub_unpinned(inventory: Inventory) -> Iterator[Hit]:
    for ref in all_refs(inventory):
        source = classify(ref)
        if source.kind == "unknown" and ref.hub_capable and ref.container is not None and "{{" not in ref.value:
            pin = pin_of(ref, source)
            if pin.state in ("pinned", "offline"):
                continue
            yield Hit(ref.path, f"{ref.where} loads the model named by {source.label} ({ref.via}), whose value "
                                "is not in the manifest; if it is a hub repository it is not pinned to a commit "
                                f"({pin.detail}) and the hub is not offline", obj=ref.obj,
                      confidence=Confidence.LOW, scalar_line=ref.scalar_line)
            continue
        if source.kind != "hub":
            continue
        pin = pin_of(ref, source)
        if pin.state in ("pinned", "offline"):
            continue
        yield Hit(ref.path, f"{ref.where} pulls {source.label} ({ref.via}) at runtime without a pinned commit "
                            f"({pin.detail}) and without HF_HUB_OFFLINE=1", obj=ref.obj,
                  confidence=Confidence.LOW if pin.state == "unknown" else None, scalar_line=ref.scalar_line)


MODEL_DIR_HINTS = ("model", "huggingface", "hf-cache", "hf_cache", "hf_home", ".cache/torch", "ollama", "checkpoint",
                   "weights", "/opt/ml")
MODEL_DIR_ROOTS = ("/raid", "/scratch")


def _looks_like_model_dir(path: str) -> bool:
    lowered = path.lower()
    return any(h in lowered for h in MODEL_DIR_HINTS) or \
        any(lowered == r or lowered.startswith(r + "/") for r in MODEL_DIR_ROOTS)


def _mounts_of(pod: PodSpec, volume_name: str) -> list[tuple[Container, int, dict]]:
    return [(c, i, m) for c in pod.containers for i, m in c.mounts() if m.get("name") == volume_name]


def _claim_users(pods: list[PodSpec], namespace: str, claim: str) -> list[tuple[PodSpec, int, dict, bool]]:
    """(pod, volume index, volume, writable) for every pod that mounts the claim."""
    users = []
    for pod in pods:
        if pod.obj.effective_namespace != namespace:
            continue
        for index, volume in pod.volumes:
            pvc = volume.get("persistentVolumeClaim")
            if not isinstance(pvc, dict) or str(pvc.get("claimName")) != claim:
                continue
            mounts = _mounts_of(pod, str(volume.get("name")))
            writable = pvc.get("readOnly") is not True and any(m.get("readOnly") is not True for _, _, m in mounts)
            if mounts:
                users.append((pod, index, volume, writable))
    return users


@rules.rule(
    id="MLS-ART-007", name="shared-model-storage",
    title="Model storage shared across models or tenants via hostPath or a writable RWX PVC",
    severity=Severity.HIGH, scope=Scope.INVENTORY,
    rationale="""
        A model directory on the node (hostPath) is shared with every pod scheduled there: another tenant's
        pod can read the weights or replace them and their handlers. A ReadWriteMany claim mounted writable
        by several workloads lets any of them (a notebook, a training job, another model's server) rewrite
        the model another server loads.""",
    remediation="""
        Give each model its own claim (or KServe's storage-initializer emptyDir), populated by CI that alone
        has write access; mount it `readOnly: true` everywhere else. Do not keep models or hub caches on
        hostPath.""",
    bad="volumes: [{name: models, hostPath: {path: /mnt/models, type: Directory}}]",
    good="""
        volumes: [{name: models, persistentVolumeClaim: {claimName: fraud-v3-models, readOnly: true}}]
        # one claim per model, written only by the CI job that publishes it""",
    references=(
        f"{NSA}: Pod security", f"{CIS} 5.2.12", "OWASP ML10:2023 Model Poisoning", "OWASP ML05:2023 Model Theft",
        "OWASP LLM04:2025 Data and Model Poisoning", "MITRE ATLAS AML.T0018.000", "MITRE ATLAS AML.T0035",
    ),
)
def shared_model_storage(inventory: Inventory) -> Iterator[Hit]:
    pods = _pods(inventory)
    for pod in pods:
        if not serving_pod(pod):
            continue
        for index, volume in pod.volumes:
            host = volume.get("hostPath")
            if not isinstance(host, dict):
                continue
            host_path = str(host.get("path") or "")
            mounts = _mounts_of(pod, str(volume.get("name")))
            if not mounts or host_path.startswith(("/dev", "/proc", "/sys", "/var/run", "/run/", "/etc")):
                continue
            loads = [p for c, _, m in mounts for p, why in model_paths(c)
                     if why != "well-known model directory" and _overlaps(str(m.get("mountPath") or ""), p)]
            mount_paths = [str(m.get("mountPath") or "") for _, _, m in mounts]
            if not loads and not _looks_like_model_dir(host_path) and \
                    not any(_looks_like_model_dir(p) for p in mount_paths):
                continue
            writers = [f"`{c.name}` at {m.get('mountPath')}" for c, _, m in mounts if m.get("readOnly") is not True]
            access = f"writable by container {', '.join(writers)}" if writers else "read-only, but shared by the node"
            yield Hit(pod.at("volumes", index, "hostPath", "path"),
                      f"{pod.display} keeps models on host path {host_path} (volume `{volume.get('name')}`, "
                      f"{access}): any pod scheduled on that node with the same host path can read or replace them",
                      obj=pod.obj,
                      severity=None if writers else Severity.MEDIUM)
    for claim in inventory.of_kind("PersistentVolumeClaim"):
        modes = claim.get("spec", "accessModes")
        if not isinstance(modes, list) or "ReadWriteMany" not in modes:
            continue
        users = _claim_users(pods, claim.effective_namespace, claim.name)
        owners = {id(pod.obj): pod for pod, _, _, _ in users}
        writers = [u for u in users if u[3]]
        if len(owners) < 2 or not writers or not any(serving_pod(pod) for pod, _, _, _ in users):
            continue
        writable = {pod.display for pod, _, _, w in users if w}
        names = sorted({pod.display + (" (writable)" if pod.display in writable else "") for pod, _, _, _ in users})
        related = tuple(RelatedHit(pod.obj, pod.at("volumes", index, "persistentVolumeClaim"),
                                   f"{pod.display} mounts it{' writable' if w else ' read-only'}")
                        for pod, index, _, w in users)
        shown = ", ".join(names[:6]) + (f", and {len(names) - 6} more" if len(names) > 6 else "")
        yield Hit(claim.at("spec", "accessModes"),
                  f"{claim.ref} (ReadWriteMany) is shared by {len(owners)} workloads including model servers, "
                  f"{len(writable)} of them with write access: {shown}", obj=claim, related=related)


# Where model servers read models by default.
SERVER_MODEL_DIRS = {"kserve": "/mnt/models", "torchserve": "/home/model-server/model-store", "tfserving": "/models"}
WELL_KNOWN_MODEL_DIRS = ("/mnt/models", "/opt/ml/model")
MODEL_PATH_FLAGS = ("--model-repository", "--model_repository", "--model-store", "--model_base_path", "--model_dir",
                    "--model-dir", "--model", "--model-path", "--model-id", "--model_id")


def model_paths(c: Container) -> list[tuple[str, str]]:
    """(path, why) for the directories the container loads models from."""
    found: list[tuple[str, str]] = []
    for flag in MODEL_PATH_FLAGS:
        for value, _ in flag_values(c, flag):
            if value.startswith("/"):
                found.append((value, flag))
    for name in ("MODEL_ID", "HF_MODEL_ID", "MODEL_BASE_PATH", "MODEL_PATH", "MODEL_DIR", "MODEL_REPOSITORY"):
        var = c.env.get(name)
        if var is not None and var.value and var.value.startswith("/"):
            found.append((var.value, f"env {name}"))
    program = c.argv.has_program("vllm")
    if program is not None:
        model = c.argv.positional_after(program, skip=("serve",))
        if model is not None and model.text.startswith("/"):
            found.append((model.text, "vllm serve"))
    servers = identify(c)
    programs = {"torchserve": ("torchserve",), "tfserving": ("tensorflow_model_server",), "kserve": ()}
    if "torchserve" in servers:
        for mounted in mounted_files(c):
            if mounted.path.endswith("config.properties"):
                store = parse_properties(mounted.text).get("model_store")
                if store and store[0].startswith("/"):
                    found.append((store[0], f"model_store in {mounted.path}"))
    flags_given = {why for _, why in found}
    for server, path in SERVER_MODEL_DIRS.items():
        runs = not c.argv or not programs[server] or c.argv.has_program(*programs[server]) is not None
        if server in servers and runs and not ({"--model-store", "--model_base_path", "--model_dir"} & flags_given):
            found.append((path, f"{server} default"))
    if c.default_name == "kserve-container" or c.pod.ml_kind in ("InferenceService", "ServingRuntime"):
        found.append(("/mnt/models", "KServe model mount"))
    for path in WELL_KNOWN_MODEL_DIRS:
        found.append((path, "well-known model directory"))
    return found


IMPLIED = ("default", "well-known model directory", "KServe model mount")


def _within(mount_path: str, model_path: str) -> bool:
    """The mount is the model directory or inside it (a parent mount only counts for explicit paths)."""
    mount_path, model_path = mount_path.rstrip("/") or "/", model_path.rstrip("/") or "/"
    return mount_path == model_path or mount_path.startswith(model_path + "/")


def _overlaps(mount_path: str, model_path: str) -> bool:
    mount_path, model_path = mount_path.rstrip("/") or "/", model_path.rstrip("/") or "/"
    if mount_path == "/":
        return False
    return model_path == mount_path or model_path.startswith(mount_path + "/") or \
        mount_path.startswith(model_path + "/")


@rules.rule(
    id="MLS-ART-008", name="model-volume-writable", title="Model volume mounted writable in the serving container",
    severity=Severity.MEDIUM, scope=Scope.CONTAINER, inference_only=True,
    rationale="""
        A model server that can write its own model directory lets any code execution in it (a pickle, a
        handler, a server CVE) persist: the modified weights or handlers are loaded again on the next poll,
        reload or restart, and by every other replica that reads the same volume.""",
    remediation="""
        Mount model volumes `readOnly: true` in serving containers (and `persistentVolumeClaim.readOnly: true`);
        let only the init container or CI job that publishes the model write them. Combine with
        `readOnlyRootFilesystem: true`.""",
    bad="volumeMounts: [{name: model-store, mountPath: /home/model-server/model-store}]",
    good="volumeMounts: [{name: model-store, mountPath: /home/model-server/model-store, readOnly: true}]",
    references=(f"{NSA}: Pod security (immutable container file systems)", "OWASP ML10:2023 Model Poisoning",
                "MITRE ATLAS AML.T0018.000"),
)
def model_volume_writable(c: Container) -> Iterator[Hit]:
    if not serving_pod(c.pod) or not serving_container(c):
        return
    paths = model_paths(c)
    for index, mount in c.mounts():
        if mount.get("readOnly") is True:
            continue
        mount_path = str(mount.get("mountPath") or "")
        entry = c.pod.volume(str(mount.get("name")))
        if entry is None or not mount_path:
            continue
        volume = entry[1]
        kind = volume_kind(volume)
        if kind in READ_ONLY_VOLUMES or kind == "image":
            continue
        if isinstance(volume.get("persistentVolumeClaim"), dict) and volume["persistentVolumeClaim"].get("readOnly"):
            continue
        match = next(((p, why) for p, why in paths if _overlaps(mount_path, p) and
                      (not why.endswith(IMPLIED) or _within(mount_path, p))), None)
        if match is None:
            continue
        claim = volume.get("persistentVolumeClaim", {}).get("claimName") if kind == "persistentVolumeClaim" else None
        shown = f"PVC `{claim}`" if claim else f"{kind} volume `{volume.get('name')}`"
        yield Hit(c.at("volumeMounts", index, "readOnly"),
                  f"{c.display} mounts {shown} writable at {mount_path}, where it loads models from "
                  f"{match[0]} ({match[1]})")
