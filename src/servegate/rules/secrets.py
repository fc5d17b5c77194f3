"""MLS-SEC: model-hub, LLM and cloud credentials in manifests.

Secret values are never echoed: a message shows at most the first four characters, then an ellipsis.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any, Iterator

from servegate.findings import Confidence, Severity
from servegate.model.cmdline import Word
from servegate.model.k8s import Inventory, K8sObject
from servegate.model.servers import identify
from servegate.model.workloads import Container, PodSpec, pod_specs
from servegate.rules.base import Hit, RelatedHit, RuleSet, Scope
from servegate.sources.embedded import decode_json
from servegate.sources.located import Path, get_path

rules = RuleSet("secrets")

CIS = "CIS Kubernetes Benchmark v1.9"

# Well-known variable names of model-hub, LLM-API and ML-tracking credentials.
TOKEN_NAMES = frozenset({
    "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HUGGINGFACE_HUB_TOKEN", "HF_API_TOKEN", "HUGGINGFACEHUB_API_TOKEN",
    "HUGGINGFACE_TOKEN", "OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "ANTHROPIC_API_KEY", "COHERE_API_KEY",
    "NGC_API_KEY", "NVIDIA_API_KEY", "WANDB_API_KEY", "COMET_API_KEY", "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_TOKEN", "DATABRICKS_TOKEN", "REPLICATE_API_TOKEN", "VLLM_API_KEY", "API_KEY", "RAY_AUTH_TOKEN",
    "JUPYTER_TOKEN", "LANGFLOW_SUPERUSER_PASSWORD", "NGROK_AUTHTOKEN", "TRITON_ADMIN_KEY", "GEMINI_API_KEY",
    "MISTRAL_API_KEY", "GROQ_API_KEY", "TOGETHER_API_KEY", "LANGCHAIN_API_KEY", "LANGSMITH_API_KEY",
    "PINECONE_API_KEY", "NEPTUNE_API_TOKEN", "CLEARML_API_SECRET_KEY",
})

SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,40}(?![A-Za-z0-9])"), "Hugging Face token"),
    (re.compile(r"(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,}"), "Anthropic API key"),
    (re.compile(r"(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"), "OpenAI-style API key"),
    (re.compile(r"(?<![A-Za-z0-9_-])nvapi-[A-Za-z0-9_-]{20,}"), "NVIDIA API key"),
    (re.compile(r"(?<![A-Za-z0-9_])r8_[A-Za-z0-9]{30,}"), "Replicate API token"),
    (re.compile(r"(?<![A-Za-z0-9])dapi[0-9a-f]{32}(?![0-9a-f])"), "Databricks token"),
    (re.compile(r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"), "Google AI API key"),
    (re.compile(r"(?<![A-Za-z0-9_])gsk_[A-Za-z0-9]{40,}"), "Groq API key"),
)

# Values that say "no secret here" rather than being one.
NON_SECRETS = frozenset({"", "empty", "none", "null", "nil", "false", "true", "0", "1", "not-needed", "not_needed",
                         "no-key", "no-key-required", "sk-no-key-required", "unused", "not-used", "n/a", "na", "-",
                         "dummy", "fake", "test", "sk-dummy", "sk-fake", "sk-test", "ollama", "lm-studio"})
REFERENCE = re.compile(r"\$\(|\$\{|^\$[A-Za-z_]|\{\{")
PLACEHOLDER = re.compile(
    r"^<.*>$|^\[.*\]$|^x{3,}$|xxxx|XXXX|\.\.\.|…|^your[-_ ]|[-_ ]here$|^replace[-_ ]?me"
    r"|^(?:insert|enter|put|add|set)[-_ ]|^todo\b|placeholder|redacted|^\*+$|^<", re.IGNORECASE)


def mask(value: str) -> str:
    """At most the first four characters of a secret, then an ellipsis."""
    value = value.strip()
    shown = min(4, len(value) // 2)
    return f"`{value[:shown]}…`"


def is_reference(value: str) -> bool:
    """No secret at all: empty, a "no key" marker, or a reference to a variable or template value."""
    value = value.strip().strip("'\"")
    return value.lower() in NON_SECRETS or bool(REFERENCE.search(value))


def is_placeholder(value: str) -> bool:
    """A reference, or a stand-in such as `<your-token>` or `hf_xxxx...` where a token is meant to be pasted."""
    return is_reference(value) or bool(PLACEHOLDER.search(value.strip().strip("'\"")))


def shape_of(text: str) -> tuple[str, str] | None:
    """(kind, matched text) of the first credential-shaped token in a text."""
    for pattern, kind in SHAPES:
        for match in pattern.finditer(text):
            if not is_placeholder(match.group(0)):
                return kind, match.group(0)
    return None


def _is_token_name(name: str) -> bool:
    upper = name.strip().upper().replace("-", "_").replace(".", "_")
    return upper in TOKEN_NAMES


def _objects_with_env(node: Any, path: Path) -> Iterator[tuple[Path, dict, str]]:
    """Every ``env`` list entry in an object, with the name of the container (or block) that holds it."""
    if isinstance(node, dict):
        env = node.get("env")
        if isinstance(env, list):
            owner = str(node.get("name") or "")
            for index, entry in enumerate(env):
                if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                    yield path + ("env", index), entry, owner
        for key, value in node.items():
            if key != "env":
                yield from _objects_with_env(value, path + (key,))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _objects_with_env(item, path + (index,))


def _literal(entry: dict) -> str | None:
    if "value" not in entry or entry.get("valueFrom") is not None:
        return None
    value = entry.get("value")
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def _looks_secret(value: str, line: str) -> bool:
    """A value on a config-file line that is a literal credential, not code or a reference."""
    if is_placeholder(value) or len(value) < 8 or not any(ch.isdigit() for ch in value):
        return False
    rest = line.split(value, 1)[-1]
    return not any(ch in value + rest[:1] for ch in "()[]{}") and not value.startswith(("os.", "getenv", "env."))


CONFIG_LINE = re.compile(r"""^\s*(?:export\s+)?["']?([A-Za-z_][A-Za-z0-9_.-]*)["']?\s*[:=]\s*["']?([^"'\s,#]*)""")


@rules.rule(
    id="MLS-SEC-001", name="ml-token-literal",
    title="Model-hub, LLM or tracking token as a literal value in a manifest",
    severity=Severity.HIGH, scope=Scope.INVENTORY,
    rationale="""
        A token written into a Deployment's `env` or a ConfigMap lives in Git history, in every rendered
        manifest and in the API server readable by anyone who can `get` the object. A Hugging Face token
        with write scope lets its holder push poisoned weights to the organisation's repositories; LLM API
        keys are spent by whoever finds them.""",
    remediation="""
        Move the value into a Secret (managed by External Secrets or a CSI secrets store), reference it with
        `valueFrom.secretKeyRef` or better mount it as a file, rotate the exposed token, and use read-only,
        fine-grained tokens for serving.""",
    bad="""
        env:
        - {name: HF_TOKEN, value: hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh}
        - {name: VLLM_API_KEY, value: changeme}""",
    good="""
        env:
        - name: HF_TOKEN
          valueFrom: {secretKeyRef: {name: hf-read-token, key: token}}""",
    references=(f"{CIS} 5.4.1", f"{CIS} 5.4.2", "MITRE ATLAS AML.T0055",
                "OWASP LLM02:2025 Sensitive Information Disclosure", "OWASP LLM03:2025 Supply Chain",
                "OWASP ML06:2023 AI Supply Chain Attacks"),
)
def token_literal(inventory: Inventory) -> Iterator[Hit]:
    for obj in inventory.objects:
        if obj.kind == "Secret":
            continue
        if obj.kind == "ConfigMap":
            yield from _configmap_tokens(obj)
            continue
        for path, entry, owner in _objects_with_env(obj.data, ()):
            value = _literal(entry)
            if value is None:
                continue
            name = entry["name"]
            where = f"container `{owner}` in {obj.ref}" if owner else obj.ref
            shaped = shape_of(value)
            if _is_token_name(name) and not is_reference(value):
                yield _literal_hit(obj, obj.at(*path, "value"), f"{where} sets {name} to", value)
            elif shaped is not None:
                yield Hit(obj.at(*path, "value"), f"{where} sets {name} to a literal {shaped[0]} ({mask(shaped[1])})",
                          obj=obj)


def _literal_hit(obj: K8sObject, path: Path, prefix: str, value: str) -> Hit:
    if is_placeholder(value):
        return Hit(path, f"{prefix} a placeholder literal ({mask(value)}): the manifest expects the token to be "
                         "pasted inline rather than read from a Secret", obj=obj, confidence=Confidence.LOW)
    return Hit(path, f"{prefix} a literal value ({mask(value)})", obj=obj)


def _configmap_tokens(obj: K8sObject) -> Iterator[Hit]:
    data = obj.get("data")
    for key, raw in (data.items() if isinstance(data, dict) else ()):
        if not isinstance(raw, str):
            continue
        path = obj.at("data", key)
        if "\n" not in raw.strip():
            shaped = shape_of(raw)
            if _is_token_name(str(key)) and not is_reference(raw):
                yield _literal_hit(obj, path, f"{obj.ref} holds {key} as plain ConfigMap data:", raw)
            elif shaped is not None:
                yield Hit(path, f"{obj.ref} holds a {shaped[0]} in key `{key}` ({mask(shaped[1])})", obj=obj)
            continue
        for offset, line in enumerate(raw.splitlines()):
            shaped = shape_of(line)
            match = CONFIG_LINE.match(line)
            if match and _is_token_name(match.group(1)) and _looks_secret(match.group(2), line):
                yield Hit(path, f"{obj.ref} holds {match.group(1)} in file `{key}` ({mask(match.group(2))})",
                          obj=obj, scalar_line=offset)
            elif shaped is not None:
                yield Hit(path, f"{obj.ref} holds a {shaped[0]} in file `{key}` ({mask(shaped[1])})", obj=obj,
                          scalar_line=offset)


SECRET_FLAGS = ("--api-key", "--api_key", "--admin-api-key", "--hf-token", "--hf_token", "--hf-api-token",
                "--ngrok-authtoken", "--authtoken", "--token", "--auth-token", "--access-token", "--NotebookApp.token",
                "--ServerApp.token", "--IdentityProvider.token", "--wandb-api-key", "--openai-api-key")
RESTRICTED_API_FLAGS = ("--http-restricted-api", "--grpc-restricted-protocol")
URI_CREDENTIALS = re.compile(r"\b([a-z][a-z0-9+.-]*)://([^:/@\s'\"]+):([^@/\s'\"]+)@")
ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.+)$")


@dataclass(frozen=True)
class ArgSecret:
    word: Word
    what: str
    value: str


def _raw_item(c: Container, word: Word) -> str:
    value = get_path(c.obj.doc, word.path)
    return value if isinstance(value, str) else str(value or "")


def _literal_in_manifest(c: Container, word: Word, value: str) -> bool:
    """False when the value only appears after ``$(VAR)`` expansion (the literal lives in env: SEC-001)."""
    if not value or is_placeholder(value) or value.startswith("$"):
        return False
    raw = _raw_item(c, word)
    return value in raw or "$(" not in raw


def argv_secrets(c: Container) -> Iterator[ArgSecret]:
    words = c.argv.words
    for index, word in enumerate(words):
        head, sep, tail = word.text.partition("=")
        if head in SECRET_FLAGS:
            value, where = (tail, word) if sep else \
                ((words[index + 1].text, words[index + 1]) if index + 1 < len(words) else ("", word))
            if value.startswith("--"):
                continue
            if _literal_in_manifest(c, where, value):
                yield ArgSecret(where, f"{head} with a literal value", value)
            continue
        if head in RESTRICTED_API_FLAGS:
            value, where = (tail, word) if sep else \
                ((words[index + 1].text, words[index + 1]) if index + 1 < len(words) else ("", word))
            _, colon, credential = value.partition(":")
            key, equals, secret = credential.partition("=")
            if colon and equals and _literal_in_manifest(c, where, secret):
                yield ArgSecret(where, f"{head} with a literal `{key}` header value", secret)
            continue
        assignment = ASSIGNMENT.match(word.text)
        if assignment and _is_token_name(assignment.group(1)):
            value = assignment.group(2).strip("'\"")
            if _literal_in_manifest(c, word, value):
                yield ArgSecret(word, f"a literal {assignment.group(1)}", value)
                continue
        match = URI_CREDENTIALS.search(word.text)
        if match and c.pod.is_inference:
            password = match.group(3)
            if _literal_in_manifest(c, word, password):
                yield ArgSecret(word, f"a `{match.group(1)}://` URI with an embedded user:password", password)
                continue
        shaped = shape_of(word.text)
        if shaped is not None and _literal_in_manifest(c, word, shaped[1]):
            yield ArgSecret(word, f"a literal {shaped[0]}", shaped[1])


@rules.rule(
    id="MLS-SEC-002", name="secret-on-command-line", title="Secret passed on the command line of a model server",
    severity=Severity.HIGH, scope=Scope.CONTAINER,
    rationale="""
        Command-line arguments are part of the pod spec (anyone who can `get` the pod reads them), show up
        in `ps` on the node and in every container sharing the PID namespace, and end up in crash dumps and
        logs. An API key, hub token or restricted-API header written there is not a secret.""",
    remediation="""
        Pass the value through an environment variable or a file from a Secret: `VLLM_API_KEY` from
        `secretKeyRef` instead of `--api-key`, `HF_TOKEN` from a Secret instead of `--hf-token`, and
        `--http-restricted-api=...:admin-key=$(TRITON_ADMIN_KEY)` with the variable from a Secret.""",
    bad='args: ["--http-restricted-api=model-repository:admin-key=s3cr3t"]',
    good="""
        env:
        - name: TRITON_ADMIN_KEY
          valueFrom: {secretKeyRef: {name: triton-admin, key: key}}
        args: ["--http-restricted-api=model-repository:admin-key=$(TRITON_ADMIN_KEY)"]""",
    references=("MITRE ATLAS AML.T0055", "MITRE ATLAS AML.T0090", "OWASP LLM02:2025 Sensitive Information Disclosure",
                f"{CIS} 5.4.1", "Triton Inference Server: Secure Deployment Considerations"),
)
def secret_on_command_line(c: Container) -> Iterator[Hit]:
    seen: set[tuple[Path, str]] = set()
    for found in argv_secrets(c):
        key = (found.word.path, found.value)
        if key in seen:
            continue
        seen.add(key)
        yield Hit(found.word.path, f"{c.display} passes {found.what} on its command line ({mask(found.value)})")


# --- static cloud credentials -------------------------------------------------------------------------------

CLOUD_KEY_NAMES = {
    "AWS_ACCESS_KEY_ID": "AWS access key", "AWS_SECRET_ACCESS_KEY": "AWS secret key",
    "AWSACCESSKEYID": "AWS access key", "AWSSECRETACCESSKEY": "AWS secret key",
    "AZURE_STORAGE_ACCESS_KEY": "Azure storage account key", "AZURE_STORAGE_KEY": "Azure storage account key",
    "AZURE_STORAGE_CONNECTION_STRING": "Azure storage connection string",
    "AZ_CLIENT_SECRET": "Azure service-principal secret", "AZURE_CLIENT_SECRET": "Azure service-principal secret",
    "GCLOUD-APPLICATION-CREDENTIALS.JSON": "GCP service-account key",
    "GCS_HMAC_SECRET": "GCS HMAC key", "MINIO_SECRET_KEY": "MinIO secret key",
}
RCLONE_KEY = re.compile(r"^RCLONE_CONFIG_[A-Z0-9_]+_(SECRET_ACCESS_KEY|ACCESS_KEY_ID|KEY|SERVICE_ACCOUNT_CREDENTIALS)$")
SERVING_ANNOTATIONS = ("serving.kserve.io/", "serving.kubeflow.org/", "seldon")


def _cloud_key(name: str) -> str | None:
    upper = name.strip().upper()
    if upper in CLOUD_KEY_NAMES:
        return CLOUD_KEY_NAMES[upper]
    if RCLONE_KEY.match(upper):
        return "rclone storage credential"
    return None


def _decoded(value: Any, encoded: bool) -> str:
    if not isinstance(value, str):
        return ""
    if not encoded:
        return value
    try:
        return base64.b64decode(value, validate=False).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""


def _json_credentials(text: str) -> str | None:
    """A cloud credential inside a JSON value (KServe storage-config, rclone config, GCP key file)."""
    if "{" not in text:
        return None
    try:
        data = decode_json(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if data.get("type") == "service_account" and data.get("private_key"):
        return "GCP service-account key"
    if data.get("secret_access_key") or data.get("access_key_id"):
        return "S3 access key"
    if data.get("account_key") or (data.get("key") and data.get("type") == "azureblob"):
        return "Azure storage account key"
    return None


def secret_cloud_keys(secret: K8sObject) -> list[tuple[Path, str]]:
    """(path, kind) of every static cloud credential a Secret holds, most sensitive first."""
    found: list[tuple[Path, str]] = []
    for section, encoded in (("stringData", False), ("data", True)):
        data = secret.get(section)
        for key, value in (data.items() if isinstance(data, dict) else ()):
            kind = _cloud_key(str(key)) or _json_credentials(_decoded(value, encoded))
            if kind and not (isinstance(value, str) and is_placeholder(_decoded(value, encoded))):
                found.append((secret.at(section, key), kind))
    found.sort(key=lambda item: 0 if "secret" in str(item[0][-1]).lower() else 1)
    return found


def _pods(inventory: Inventory) -> list[PodSpec]:
    return [pod for obj in inventory.objects for pod in pod_specs(obj, inventory)]


def _serving(pod: PodSpec) -> bool:
    return pod.is_inference and not pod.obj.kind.endswith("Job") and pod.obj.kind != "Notebook"


SecretUse = tuple[K8sObject, Path, str]


def _referenced_secrets(inventory: Inventory, pods: list[PodSpec]) -> dict[tuple[str, str], SecretUse]:
    """Secrets that model-serving workloads use: (namespace, name) -> (object, path, how)."""
    refs: dict[tuple[str, str], SecretUse] = {}

    def add(namespace: str, name: Any, obj: K8sObject, path: Path, how: str) -> None:
        if isinstance(name, str) and name:
            refs.setdefault((namespace or "default", name), (obj, path, how))

    for pod in pods:
        if not _serving(pod):
            continue
        ns = pod.obj.effective_namespace
        for c in pod.containers:
            for index, source in enumerate(c.get("envFrom") or ()):
                if isinstance(source, dict) and isinstance(source.get("secretRef"), dict):
                    add(ns, source["secretRef"].get("name"), pod.obj, c.at("envFrom", index),
                        f"loaded with envFrom by {c.display}")
        for index, volume in pod.volumes:
            if isinstance(volume.get("secret"), dict):
                add(ns, volume["secret"].get("secretName"), pod.obj, pod.at("volumes", index),
                    f"mounted by {pod.display}")
        account = inventory.find("ServiceAccount", ns, pod.service_account)
        secrets = account.get("secrets") if account is not None else None
        for index, entry in enumerate(secrets if isinstance(secrets, list) else ()):
            if isinstance(entry, dict):
                add(ns, entry.get("name"), account, account.at("secrets", index),
                    f"attached to service account `{account.name}` of {pod.display}")
    for obj in inventory.of_kind("SeldonDeployment"):
        predictors = obj.get("spec", "predictors")
        for i, predictor in enumerate(predictors if isinstance(predictors, list) else ()):
            graph = predictor.get("graph") if isinstance(predictor, dict) else None
            if isinstance(graph, dict):
                add(obj.effective_namespace, graph.get("envSecretRefName"), obj,
                    obj.at("spec", "predictors", i, "graph", "envSecretRefName"), f"the storage secret of {obj.ref}")
    for obj in inventory.of_kind("Model"):
        add(obj.effective_namespace, obj.get("spec", "secretName"), obj, obj.at("spec", "secretName"),
            f"the storage secret of {obj.ref}")
    return refs


ENV_CLOUD_NAMES = ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AZURE_STORAGE_ACCESS_KEY", "AZURE_STORAGE_KEY",
                   "AZURE_STORAGE_CONNECTION_STRING", "AZURE_CLIENT_SECRET", "AZ_CLIENT_SECRET")


@rules.rule(
    id="MLS-SEC-004", name="static-cloud-credentials", title="Static cloud credentials used to download models",
    severity=Severity.MEDIUM, scope=Scope.INVENTORY,
    rationale="""
        Long-lived access keys (AWS access keys in KServe S3 secrets, GCP service-account JSON keys, Azure
        storage keys) are copied between namespaces, never rotated, and usually grant the whole model bucket,
        often with write access. Anyone who reads the Secret, or compromises one serving pod, can read or
        replace every model in it from anywhere.""",
    remediation="""
        Use workload identity for model downloads: IRSA or EKS Pod Identity
        (`eks.amazonaws.com/role-arn` on the serving ServiceAccount), GKE Workload Identity, Azure Workload
        Identity; scope the role to the model's prefix, read-only. Delete the access keys and the Secret.""",
    bad="""
        apiVersion: v1
        kind: Secret
        metadata:
          name: s3creds
          annotations: {serving.kserve.io/s3-endpoint: s3.amazonaws.com}
        stringData: {AWS_ACCESS_KEY_ID: AKIA..., AWS_SECRET_ACCESS_KEY: ...}""",
    good="""
        apiVersion: v1
        kind: ServiceAccount
        metadata:
          name: fraud-predictor
          annotations: {eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/fraud-model-read}""",
    references=("CIS Amazon EKS Benchmark v1.5.0 5.2.1", "MITRE ATLAS AML.T0055", "MITRE ATLAS AML.T0012",
                "OWASP ML05:2023 Model Theft",
                "KServe documentation: Deploy InferenceService with a saved model on S3"),
)
def static_cloud_credentials(inventory: Inventory) -> Iterator[Hit]:
    pods = _pods(inventory)
    used = _referenced_secrets(inventory, pods)
    for secret in inventory.of_kind("Secret"):
        keys = secret_cloud_keys(secret)
        if not keys:
            continue
        annotations = [k for k in secret.annotations if str(k).startswith(SERVING_ANNOTATIONS)]
        reference = used.get((secret.effective_namespace, secret.name))
        if annotations:
            why = f"for KServe/Seldon model downloads (annotation {annotations[0]})"
        elif reference is not None:
            why = f"used by model serving ({reference[2]})"
        elif secret.name in ("storage-config", "seldon-init-container-secret", "seldon-rclone-secret"):
            why = f"the model-storage secret `{secret.name}`"
        else:
            continue
        path, kind = keys[0]
        kinds = sorted({k for _, k in keys})
        related = (RelatedHit(reference[0], reference[1], "uses this Secret"),) if reference else ()
        yield Hit(path, f"{secret.ref} holds a static {', '.join(kinds)} {why}; use workload identity instead",
                  obj=secret, related=related)
    for pod in pods:
        if not _serving(pod):
            continue
        for c in pod.containers:
            yield from _env_cloud_keys(c)


def _loads_models(c: Container) -> bool:
    """A container that fetches or serves models (not a log shipper or other sidecar of a Ray pod)."""
    servers = set(identify(c))
    if "ray" in servers and "ray" not in c.image.lower() and not c.argv.has_program("ray", "serve"):
        servers.discard("ray")
    return bool(servers) or c.requests_gpu or bool(c.default_name) or c.init or c.name == "kserve-container"


def _env_cloud_keys(c: Container) -> Iterator[Hit]:
    if not _loads_models(c):
        return
    env = c.get("env")
    entries = {str(e.get("name")): (i, e) for i, e in enumerate(env if isinstance(env, list) else ())
               if isinstance(e, dict)}
    names = [n for n in ENV_CLOUD_NAMES if n in entries]
    if not names:
        loaded = [n for n in ENV_CLOUD_NAMES if n in c.env and c.env[n].source == "configmap"]
        if loaded and c.env[loaded[0]].value and not is_placeholder(c.env[loaded[0]].value or ""):
            var = c.env[loaded[0]]
            owner = next((cm for cm in c.pod.inventory.of_kind("ConfigMap") if cm.doc is var.doc
                          and var.path[: len(cm.base)] == cm.base), c.obj)
            yield Hit(var.path, f"{c.display} loads static cloud credentials ({', '.join(loaded)}) from "
                                f"{owner.ref} as plain ConfigMap data ({mask(var.value or '')})", obj=owner)
            return
    if names:
        index, entry = entries[names[0]]
        literal = _literal(entry)
        ref = entry.get("valueFrom", {}).get("secretKeyRef") if isinstance(entry.get("valueFrom"), dict) else None
        if literal is not None:
            if is_placeholder(literal):
                return
            source = f"as a literal value ({mask(literal)})"
        elif isinstance(ref, dict):
            source = f"from Secret `{ref.get('name', '?')}`"
        else:
            source = "from the environment"
        yield Hit(c.at("env", index), f"{c.display} gets static cloud credentials ({', '.join(names)}) {source} "
                                      "instead of a workload identity", obj=c.obj)
        return
    credentials = entries.get("GOOGLE_APPLICATION_CREDENTIALS")
    value = _literal(credentials[1]) if credentials else None
    if credentials and value and value.startswith("/"):
        for _, mount in c.mounts():
            mount_path = str(mount.get("mountPath") or "").rstrip("/")
            volume = c.pod.volume(str(mount.get("name")))
            if mount_path and (value == mount_path or value.startswith(mount_path + "/")) and volume is not None \
                    and isinstance(volume[1].get("secret"), dict):
                yield Hit(c.at("env", credentials[0]),
                          f"{c.display} authenticates with a GCP service-account key file {value} from Secret "
                          f"`{volume[1]['secret'].get('secretName', '?')}` instead of Workload Identity", obj=c.obj)
                return
