"""MLS-K8S: hardening of GPU inference workloads, with ML-specific remediation.

Most rules here specialise a generic ``k8s_hardening`` rule for model-serving pods: they fire on the same
key, so the engine keeps only this one (``supersedes``), with the GPU/ML reason and fix. NVIDIA's own
GPU Operator, device-plugin and DCGM DaemonSets, in their own namespace, are infrastructure rather than
inference workloads: these rules leave them to the generic ones.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from typing import Iterator

from servegate.findings import Confidence, Severity
from servegate.fix.model import AddItem, RemoveKey, SetKey, SymbolicFix, unsafe
from servegate.model.cmdline import EnvVar
from servegate.model.images import image_digest, image_repository, image_tag, is_templated, version_tuple
from servegate.model.k8s import Inventory, K8sObject
from servegate.model.network import selects
from servegate.model.servers import PORTS, container_ports, identify
from servegate.model.workloads import GPU_RESOURCE_PREFIXES, Container, PodSpec, pod_specs
from servegate.rules import k8s_hardening as generic
from servegate.rules.base import Hit, RelatedHit, Rule, RuleSet, Scope
from servegate.sources.located import Path, get_path

rules = RuleSet("gpu-workloads")

CIS = "CIS Kubernetes Benchmark v1.9"
CIS_EKS = "CIS Amazon EKS Benchmark"
NSA = "NSA/CISA Kubernetes Hardening Guidance v1.2"
ML05 = "OWASP ML05:2023 Model Theft"
ML06 = "OWASP ML06:2023 AI Supply Chain Attacks"
LLM03 = "OWASP LLM03:2025 Supply Chain"
LLM10 = "OWASP LLM10:2025 Unbounded Consumption"


def atlas(*ids: str) -> str:
    return "MITRE ATLAS " + ", ".join(ids)


# --- shared helpers -----------------------------------------------------------------------------------------

_INFRA_NAMESPACE = re.compile(r"nvidia|gpu-operator|dcgm|device-plugin|filled.by.the", re.IGNORECASE)
_INFRA_COMPONENT = re.compile(
    r"nvidia|dcgm|gpu-operator|gpu-feature-discovery|device-plugin|container-toolkit|mig-manager", re.IGNORECASE)
_CONTROL_PLANE_IMAGE = re.compile(r"controller|operator|webhook|manager|agent|migration|web-?app", re.IGNORECASE)


def _gpu_infrastructure(pod: PodSpec) -> bool:
    """NVIDIA GPU Operator / device-plugin / DCGM DaemonSets (and the operator's validator pods) in their own
    namespace, or kube-system for the upstream device plugin: node infrastructure that needs host access, not
    an inference workload. The generic KUBE rules still judge them."""
    obj = pod.obj
    if obj.kind not in ("DaemonSet", "Pod", "Job"):
        return False
    if not (_INFRA_NAMESPACE.search(obj.namespace) or (obj.namespace == "kube-system" and obj.kind == "DaemonSet")):
        return False
    names = [obj.name, *(str(v) for v in obj.labels.values()), *(c.image for c in pod.containers)]
    return any(_INFRA_COMPONENT.search(name) for name in names)


def _ml_control_plane(pod: PodSpec) -> bool:
    """KServe/Seldon controllers and agents: recognised by their images' registry, but they serve no model.
    True when the only reason the pod counts as inference is such an image."""
    if pod.ml_kind or "nvidia" in str(pod.get("runtimeClassName") or "").lower() or \
            any(c.requests_gpu for c in pod.containers):
        return False
    recognised = [c for c in pod.containers if identify(c)]
    return bool(recognised) and all(identify(c) <= {"kserve", "seldon"} and _control_plane_image(c.image)
                                    for c in recognised)


def _control_plane_image(image: str) -> bool:
    if image.startswith("ko://"):  # a Go binary built by ko: an operator, not a model server
        return True
    return bool(_CONTROL_PLANE_IMAGE.search(image_repository(image).rsplit("/", 1)[-1]))


def _not_serving(pod: PodSpec) -> bool:
    """Pods the engine counts as inference that these rules leave to the generic ones."""
    return _gpu_infrastructure(pod) or _ml_control_plane(pod)


def _serving(pod: PodSpec) -> bool:
    return pod.is_inference and not _not_serving(pod)


def _servers(c: Container) -> str:
    found = sorted(identify(c))
    return f" ({', '.join(found)})" if found else ""


def _gpu_resources(c: Container, section: str) -> list[str]:
    """Accelerator resources the container asks for in a section; a quantity of 0 asks for none."""
    return [str(name) for name, quantity in c.resources(section).items()
            if str(name).startswith(GPU_RESOURCE_PREFIXES) and str(quantity).strip() not in ("0", "")]


def _has_gpu_allocation(c: Container) -> bool:
    return bool(_gpu_resources(c, "limits") or _gpu_resources(c, "requests"))


def _generic(rule: Rule, *args: object) -> Iterator[Hit]:
    """The hits of the generic rule this one specialises: same keys, same conditions (templated values,
    Kustomize patches, placeholder images), so the engine can replace each of them with ours."""
    yield from rule.check(*args)


def _env_owner(c: Container, var: EnvVar) -> K8sObject | None:
    """The ConfigMap holding an ``envFrom`` variable, when it is not the container's own object."""
    if var.doc is c.obj.doc and var.path[: len(c.obj.base)] == c.obj.base:
        return None
    for configmap in c.pod.inventory.of_kind("ConfigMap"):
        if configmap.doc is var.doc and var.path[: len(configmap.base)] == configmap.base:
            return configmap
    return None


def _env_where(var: EnvVar) -> str:
    return " (from a ConfigMap)" if var.source == "configmap" else ""


# --- MLS-K8S-001 --------------------------------------------------------------------------------------------

@rules.rule(
    id="MLS-K8S-001", name="privileged-gpu-container", title="Privileged container used to reach GPUs",
    severity=Severity.CRITICAL, scope=Scope.CONTAINER, inference_only=True, supersedes=("KUBE-001",),
    rationale="""
        `privileged: true` is the most common "make CUDA work" shortcut. It exposes every device of the node
        (all GPUs, disks, /dev/mem) and turns seccomp and AppArmor off, so any remote code execution in the
        model server (pickle loading, template injection, an admin API) is a trivial escape to the GPU node
        and to every other tenant's models on it. GPUs are meant to come from the device plugin.""",
    remediation="""
        Remove `privileged: true`. Request the GPU from the device plugin with `resources.limits.nvidia.com/gpu`
        (or a MIG profile such as `nvidia.com/mig-1g.10gb`), run as a non-root user (Triton images ship user
        `triton-server`, uid 1000) with `allowPrivilegeEscalation: false`, `capabilities.drop: [ALL]` and
        `seccompProfile: RuntimeDefault`. Only the NVIDIA GPU Operator / device-plugin / DCGM DaemonSets, in
        their own namespace, need privileges.""",
    bad="""
        containers:
        - name: triton
          image: nvcr.io/nvidia/tritonserver:25.08-py3
          securityContext: {privileged: true}""",
    good="""
        containers:
        - name: triton
          image: nvcr.io/nvidia/tritonserver:25.08-py3@sha256:<digest>
          resources: {limits: {nvidia.com/gpu: 1}}
          securityContext:
            privileged: false
            allowPrivilegeEscalation: false
            runAsNonRoot: true
            runAsUser: 1000
            capabilities: {drop: ["ALL"]}
            seccompProfile: {type: RuntimeDefault}""",
    references=(f"{CIS} 5.2.2", f"{NSA}: Pod security", "NVIDIA Triton docs: Run as a Non-Root User",
                atlas("AML.T0105"), ML06),
)
def privileged_gpu_container(c: Container) -> Iterator[Hit]:
    if _not_serving(c.pod):
        return
    for hit in _generic(generic.privileged_container, c):
        if c.get("securityContext", "privileged") is True:
            yield _privileged_hit(c, hit.path, (_gpu_instead_of_privileged_fix(c),))
        else:  # known only at deploy time
            yield Hit(hit.path, f"{hit.message}; in a model-serving container request GPUs from the device plugin "
                      "instead", confidence=hit.confidence)


def _privileged_hit(c: Container, path: Path, fixes: tuple[SymbolicFix, ...]) -> Hit:
    gpus = _gpu_resources(c, "limits")
    devices = _nvidia_device_mounts(c)
    detail = f" and mounts host path {', '.join(devices)}" if devices else ""
    if gpus:
        noun = "GPU" if any("gpu" in g or "mig-" in g for g in gpus) else "accelerator"
        why = (f"; it already gets its {noun} from the device plugin ({', '.join(gpus)}), so the privilege only "
               "adds every other host device and disables seccomp/AppArmor")
    else:
        why = ("; every host device (all GPUs of the node) is visible and seccomp/AppArmor are off: request "
               "`nvidia.com/gpu` in resources.limits instead")
    return Hit(path, f"{c.display}{_servers(c)} runs privileged{detail}{why}", fixes=fixes)


# The user the main model-server images ship for running without root (Triton `triton-server`, TorchServe
# `model-server`, Ray `ray`): uid 1000.
MODEL_SERVER_UID = 1000


def _gpu_instead_of_privileged_fix(c: Container) -> SymbolicFix:
    """What the privilege was for, done the supported way: a device-plugin GPU limit, a non-root user, no
    privilege escalation, no capabilities and the runtime's seccomp profile."""
    context = c.at("securityContext")
    operations: list = [SetKey(context + ("privileged",), False),
                        SetKey(context + ("allowPrivilegeEscalation",), False)]
    user = c.security("runAsUser")[0]
    if c.security("runAsNonRoot")[0] is not True:
        operations.append(SetKey(context + ("runAsNonRoot",), True))
    if type(user) is not int or user == 0:  # noqa: E721 - a YAML bool is not a user id
        operations.append(SetKey(context + ("runAsUser",), MODEL_SERVER_UID))
    operations.append(AddItem(context + ("capabilities", "drop"), "ALL"))
    if c.security("seccompProfile")[0] is None:
        operations.append(SetKey(context + ("seccompProfile",), {"type": "RuntimeDefault"}))
    gpu = ""
    if not _gpu_resources(c, "limits"):
        requested = _gpu_resources(c, "requests")
        gpu = requested[0] if requested else "nvidia.com/gpu"
        operations.append(SetKey(c.at("resources", "limits", gpu), c.resources("requests").get(gpu, 1)))
    limit = f"a {gpu} limit, " if gpu else ""
    return unsafe(f"replace privileged with {limit}a non-root user (uid {MODEL_SERVER_UID}), "
                  "allowPrivilegeEscalation: false, dropped capabilities and seccomp RuntimeDefault", *operations)


def _nvidia_device_mounts(c: Container) -> list[str]:
    found = []
    for _, mount in c.mounts():
        entry = c.pod.volume(str(mount.get("name")))
        host = entry[1].get("hostPath") if entry else None
        if isinstance(host, dict) and str(host.get("path", "")).startswith(("/dev/nvidia", "/dev/dri")):
            found.append(str(host["path"]))
    return found


# --- MLS-K8S-002 --------------------------------------------------------------------------------------------

NO_DEVICES = frozenset({"", "void", "none"})


@rules.rule(
    id="MLS-K8S-002", name="gpu-via-visible-devices-env",
    title="GPU access via NVIDIA_VISIBLE_DEVICES instead of a device-plugin resource request",
    severity=Severity.HIGH, scope=Scope.CONTAINER,
    rationale="""
        Where the node's NVIDIA container runtime honours `NVIDIA_VISIBLE_DEVICES` for unprivileged containers
        (the toolkit's default), a pod that sets `NVIDIA_VISIBLE_DEVICES=all` gets every GPU of the node
        without asking the scheduler: it bypasses GPU quotas, tenant isolation and MIG partitioning, and can
        read other tenants' GPU memory. The variable itself marks a GPU workload, so this rule looks at every
        pod, not only recognised model servers.""",
    remediation="""
        Remove the variable and request the GPUs in `resources.limits` (`nvidia.com/gpu: 1`, or a MIG profile);
        the device plugin then sets the variable itself. For GPU sharing use time-slicing or MPS through the
        device plugin. On the nodes, set the device plugin's `deviceListStrategy: volume-mounts` and the
        toolkit's `accept-nvidia-visible-devices-envvar-when-unprivileged = false`.""",
    bad="""
        containers:
        - name: sidecar-exporter
          image: acme/exporter:1.2
          env: [{name: NVIDIA_VISIBLE_DEVICES, value: all}]""",
    good="""
        containers:
        - name: sidecar-exporter
          image: acme/exporter:1.2@sha256:<digest>
          resources: {limits: {nvidia.com/gpu: 1}}      # or no GPU at all""",
    references=("Bottlerocket settings.nvidia-container-runtime.visible-devices-envvar-when-unprivileged",
                "NVIDIA Container Toolkit: accept-nvidia-visible-devices-envvar-when-unprivileged", ML05,
                atlas("AML.T0034", "AML.T0037")),
)
def gpu_via_visible_devices(c: Container) -> Iterator[Hit]:
    if _gpu_infrastructure(c.pod) or _has_gpu_allocation(c):
        return
    devices = c.env.get("NVIDIA_VISIBLE_DEVICES")
    capabilities = c.env.get("NVIDIA_DRIVER_CAPABILITIES")
    if devices is not None:
        owner = _env_owner(c, devices)
        if devices.value is None:
            yield Hit(devices.path, f"{c.display} sets NVIDIA_VISIBLE_DEVICES from {devices.source} (value unknown) "
                      "and requests no GPU resource: if it names GPUs, they bypass the device plugin",
                      obj=owner, confidence=Confidence.LOW)
        elif devices.value.strip().lower() not in NO_DEVICES:
            yield Hit(devices.path, f"{c.display} sets `NVIDIA_VISIBLE_DEVICES={devices.value}`{_env_where(devices)} "
                      "but requests no GPU in resources.limits: it gets those GPUs outside the scheduler's "
                      "accounting and isolation", obj=owner, fixes=_device_plugin_fixes(c, devices, owner))
        return
    if capabilities is not None and (capabilities.value or "").strip().lower() == "all":
        yield Hit(capabilities.path, f"{c.display} sets NVIDIA_DRIVER_CAPABILITIES=all"
                  f"{_env_where(capabilities)} but requests no GPU in resources.limits: with an image that sets "
                  "NVIDIA_VISIBLE_DEVICES (every CUDA base image does) it gets the node's GPUs outside the "
                  "device plugin", obj=_env_owner(c, capabilities), confidence=Confidence.MEDIUM)


def _device_plugin_fixes(c: Container, devices: EnvVar, owner: K8sObject | None) -> tuple[SymbolicFix, ...]:
    """Drop the variable from the container's own env; a model server then asks the device plugin for a GPU."""
    if owner is not None or devices.source != "value" or devices.path[-1:] != ("value",):
        return ()
    operations: list = [RemoveKey(devices.path[:-1])]
    if not identify(c):
        return (unsafe("remove NVIDIA_VISIBLE_DEVICES", *operations),)
    operations.append(SetKey(c.at("resources", "limits", "nvidia.com/gpu"), 1))
    return (unsafe("remove NVIDIA_VISIBLE_DEVICES and request nvidia.com/gpu: 1 from the device plugin", *operations),)


# --- MLS-K8S-003 --------------------------------------------------------------------------------------------

# (prefix, what it exposes), most specific first.
SENSITIVE_HOST_PATHS: tuple[tuple[str, str], ...] = (
    ("/dev/nvidia", "NVIDIA GPU device nodes: every GPU of the node, outside the device plugin"),
    ("/dev/dri", "GPU device nodes, outside the device plugin"),
    ("/dev/infiniband", "RDMA devices (use the RDMA device plugin resource instead)"),
    ("/dev/fuse", "the FUSE device, for in-container bucket mounts (use a CSI driver instead)"),
    ("/dev/shm", "the node's shared memory, with other pods' tensors and KV cache"),
    ("/dev", "every host device"),
    ("/var/run/docker.sock", "the Docker socket: root on the node"),
    ("/run/docker.sock", "the Docker socket: root on the node"),
    ("/var/run/nvidia", "the NVIDIA driver and toolkit state of the node"),
    ("/run/nvidia", "the NVIDIA driver and toolkit state of the node"),
    ("/var/run", "container runtime sockets (containerd, CRI-O, Docker): root on the node"),
    ("/run", "container runtime sockets (containerd, CRI-O, Docker): root on the node"),
    ("/var/lib/kubelet/device-plugins", "the device-plugin sockets: register fake devices or steal allocations"),
    ("/var/lib/kubelet", "kubelet state: device-plugin sockets and other pods' volumes and tokens"),
    ("/var/lib/docker", "the container images and layers of every pod"),
    ("/var/lib/containerd", "the container images and layers of every pod"),
    ("/usr/local/nvidia", "the NVIDIA driver libraries (library planting on the node)"),
    ("/usr/local/cuda", "the node's CUDA libraries (library planting)"),
    ("/usr/lib", "the node's system and driver libraries (library planting)"),
    ("/usr/lib64", "the node's system and driver libraries (library planting)"),
    ("/usr/lib32", "the node's system and driver libraries (library planting)"),
    ("/lib", "the node's system libraries (library planting)"),
    ("/lib64", "the node's system libraries (library planting)"),
    ("/usr/bin", "the node's binaries"),
    ("/usr/sbin", "the node's binaries"),
    ("/bin", "the node's binaries"),
    ("/sbin", "the node's binaries"),
    ("/boot", "the node's kernel and boot loader"),
    ("/etc", "the node's configuration (kubelet credentials, containerd config, users)"),
    ("/proc", "the node's kernel interfaces and every process"),
    ("/sys", "the node's kernel interfaces"),
    ("/root", "the node's root home (kubeconfigs, SSH keys)"),
)
HARMLESS_HOST_PATHS = frozenset({"/etc/localtime", "/etc/timezone", "/usr/share/zoneinfo"})


def sensitive_host_path(path: str) -> str | None:
    """What a hostPath exposes, when it is one of the host-escape or cross-tenant paths; else None."""
    if not path.startswith("/") or is_templated(path):
        return None
    norm = posixpath.normpath(path)
    norm = "/" + norm.lstrip("/")
    if norm == "/":
        return "the node's whole root filesystem"
    if norm in HARMLESS_HOST_PATHS:
        return None
    for prefix, what in SENSITIVE_HOST_PATHS:
        # device prefixes also match numbered nodes: /dev/nvidia0, /dev/nvidiactl
        if norm == prefix or norm.startswith(prefix + "/") or (prefix.startswith("/dev/") and norm.startswith(prefix)):
            return what
    return None


@rules.rule(
    id="MLS-K8S-003", name="host-devices-or-runtime-mounted",
    title="Host devices, runtime sockets or driver paths mounted into inference pods",
    severity=Severity.CRITICAL, scope=Scope.POD, inference_only=True, supersedes=("KUBE-009",),
    rationale="""
        Inference pods are handed hostPath mounts of `/dev`, `/dev/nvidia*`, `/dev/infiniband`, the
        container runtime socket, `/var/lib/kubelet/device-plugins` or the NVIDIA driver library directories
        to make GPUs, RDMA or "docker in docker" work. Each is a host escape or a cross-tenant primitive:
        runtime sockets give root on the node, the device-plugin directory lets a pod register fake devices or
        steal allocations, and writable driver directories let it plant libraries that every GPU container on
        the node loads.""",
    remediation="""
        Remove the hostPath volume. Get GPUs through `resources.limits.nvidia.com/gpu`, RDMA through the RDMA
        device plugin resource (e.g. `rdma/hca_shared_devices_a: 1`), model files through a PVC or a CSI
        driver, and build images outside the cluster rather than through the runtime socket.""",
    bad="""
        volumes:
        - {name: dev, hostPath: {path: /dev}}
        - {name: libs, hostPath: {path: /usr/lib/x86_64-linux-gnu}}""",
    good="""
        resources:
          limits: {nvidia.com/gpu: 1, rdma/hca_shared_devices_a: 1}
        volumes:
        - {name: models, persistentVolumeClaim: {claimName: models, readOnly: true}}""",
    references=(f"{CIS} 5.2.12", f"{NSA}: Pod security", atlas("AML.T0105"), ML06),
)
def host_devices_mounted(pod: PodSpec) -> Iterator[Hit]:
    if _not_serving(pod):
        return
    for index, volume in pod.volumes:
        host = volume.get("hostPath")
        if not isinstance(host, dict):
            continue
        path = str(host.get("path", ""))
        what = sensitive_host_path(path)
        if what is None:
            continue
        users = [c.name for c in pod.containers for _, m in c.mounts() if m.get("name") == volume.get("name")]
        used = f", mounted by {', '.join(f'`{u}`' for u in users)}" if users else ""
        yield Hit(pod.at("volumes", index, "hostPath"),
                  f"{pod.display} mounts host path {path} (volume `{volume.get('name', index)}`{used}): {what}")


# --- MLS-K8S-004 --------------------------------------------------------------------------------------------

def _shm_volume(pod: PodSpec) -> str | None:
    for c in pod.containers:
        for _, mount in c.mounts():
            if str(mount.get("mountPath", "")).rstrip("/") == "/dev/shm":
                entry = pod.volume(str(mount.get("name")))
                empty = entry[1].get("emptyDir") if entry else None
                if isinstance(empty, dict) and empty.get("medium") == "Memory":
                    return str(mount.get("name"))
    return None


@rules.rule(
    id="MLS-K8S-004", name="host-ipc-for-shared-memory",
    title="`hostIPC: true` used for NCCL / PyTorch shared memory",
    severity=Severity.HIGH, scope=Scope.POD, inference_only=True, supersedes=("KUBE-008",),
    rationale="""
        `hostIPC: true` is the usual workaround when PyTorch DataLoader workers, NCCL or vLLM run out of the
        64 MiB default `/dev/shm`. It puts the pod in the node's IPC namespace: SysV and POSIX shared memory
        (tensors, NCCL buffers, KV cache) become visible to and writable by every other hostIPC pod on the
        node, and to the node itself.""",
    remediation="""
        Remove `hostIPC: true` and give the pod its own memory-backed `/dev/shm`: an `emptyDir` with
        `medium: Memory` and a `sizeLimit`, mounted at `/dev/shm`.""",
    bad="""
        spec:
          hostIPC: true
          containers: [{name: vllm, image: vllm/vllm-openai:v0.9.2}]""",
    good="""
        spec:
          hostIPC: false
          containers:
          - name: vllm
            volumeMounts: [{name: dshm, mountPath: /dev/shm}]
          volumes: [{name: dshm, emptyDir: {medium: Memory, sizeLimit: 16Gi}}]""",
    references=(f"{CIS} 5.2.4", f"{NSA}: Pod security", ML05, atlas("AML.T0037")),
)
def host_ipc(pod: PodSpec) -> Iterator[Hit]:
    if _not_serving(pod):
        return
    shm = _shm_volume(pod)
    extra = (f"; it already mounts memory-backed volume `{shm}` at /dev/shm, so hostIPC is not needed" if shm else
             "; mount a memory-backed emptyDir with a sizeLimit at /dev/shm instead")
    for hit in _generic(generic.host_ipc, pod):
        if pod.get("hostIPC") is True:
            yield Hit(hit.path, f"{pod.display} sets hostIPC: true: its shared memory (tensors, NCCL buffers, KV "
                      f"cache) is shared with the node and every other hostIPC pod{extra}",
                      fixes=(_own_shm_fix(pod, shm),))
        else:
            yield Hit(hit.path, hit.message + extra, confidence=hit.confidence)


# A memory-backed /dev/shm large enough for NCCL and vLLM tensor parallelism on one node (size it to the model).
SHM_SIZE = "8Gi"


def _own_shm_fix(pod: PodSpec, shm: str | None) -> SymbolicFix:
    """hostIPC off, and the pod's own memory-backed /dev/shm when it has none."""
    operations: list = [SetKey(pod.at("hostIPC"), False)]
    if shm is None:
        taken = {str(v.get("name")) for _, v in pod.volumes}
        name = next(n for n in ("dshm", "dshm-2", "dshm-3", "servegate-dshm") if n not in taken)
        operations.append(AddItem(pod.at("volumes"), {"name": name, "emptyDir": {"medium": "Memory",
                                                                                  "sizeLimit": SHM_SIZE}}))
        operations += [AddItem(c.at("volumeMounts"), {"name": name, "mountPath": "/dev/shm"})
                       for c in pod.main_containers if not c.default_name]
        return unsafe(f"set hostIPC: false and mount a memory-backed emptyDir (sizeLimit {SHM_SIZE}) at /dev/shm",
                      *operations)
    return unsafe("set hostIPC: false", *operations)


# --- MLS-K8S-005 --------------------------------------------------------------------------------------------

CACHE_ENV = ("HF_HOME", "TRANSFORMERS_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HUB_CACHE", "HF_DATASETS_CACHE",
             "VLLM_CACHE_ROOT", "TORCH_HOME", "XDG_CACHE_HOME", "SENTENCE_TRANSFORMERS_HOME", "MODEL_CACHE_DIR")
CACHE_MOUNT = re.compile(r"(^|/)\.cache(/|$)|huggingface|(^|/)(models?|model[-_]cache|model[-_]store|weights|"
                         r"checkpoints|cache|data|hf[-_]cache)(/|$)", re.IGNORECASE)


def _under(path: str, root: str) -> bool:
    path, root = path.rstrip("/") or "/", root.rstrip("/") or "/"
    return path == root or path.startswith(root + "/") or root == "/"


def _cache_reason(c: Container, mount_path: str) -> str | None:
    """Why a mount path looks like a model or download cache, or None."""
    for name in CACHE_ENV:
        var = c.env.get(name)
        if var is not None and var.value and var.value.startswith("/") and _under(var.value, mount_path):
            return f"{name}={var.value}"
    download = c.argv.value("--download-dir", "--download_dir", "--model-store", "--model-repository",
                            "--model_repository")
    if download and download[0].startswith("/") and _under(download[0], mount_path):
        return f"the server's model/download directory {download[0]}"
    if CACHE_MOUNT.search(mount_path):
        return "a model/download cache path"
    return None


@rules.rule(
    id="MLS-K8S-005", name="unbounded-shm-or-model-cache",
    title="Memory-backed /dev/shm or model-cache emptyDir without sizeLimit / ephemeral-storage limit",
    severity=Severity.MEDIUM, scope=Scope.POD, inference_only=True,
    rationale="""
        LLM pods download tens of gigabytes of weights into an `emptyDir` or `~/.cache/huggingface`, and give
        NCCL and PyTorch a memory-backed `/dev/shm`. Without a `sizeLimit` (or an `ephemeral-storage` limit)
        one pod can fill the node's disk or memory, evicting its neighbours or taking the node down; a
        prompt that makes the server load another model is enough.""",
    remediation="""
        Give every memory-backed emptyDir a `sizeLimit`, and every model-cache emptyDir a `sizeLimit` or the
        container a `resources.limits.ephemeral-storage`; prefer a PVC for large model caches.""",
    bad="volumes: [{name: dshm, emptyDir: {medium: Memory}}, {name: hf, emptyDir: {}}]",
    good="""
        volumes: [{name: dshm, emptyDir: {medium: Memory, sizeLimit: 8Gi}}, {name: hf, emptyDir: {sizeLimit: 60Gi}}]
        # and on the container: resources.limits.ephemeral-storage: 80Gi""",
    references=("Kubernetes docs: emptyDir (sizeLimit, medium: Memory)", LLM10, atlas("AML.T0029")),
)
def unbounded_scratch(pod: PodSpec) -> Iterator[Hit]:
    if _not_serving(pod):
        return
    for index, volume in pod.volumes:
        empty = volume.get("emptyDir")
        if not isinstance(empty, dict) or empty.get("sizeLimit") not in (None, ""):
            continue
        name = volume.get("name", index)
        users = [(c, str(m.get("mountPath", ""))) for c in pod.containers for _, m in c.mounts()
                 if m.get("name") == name]
        where = pod.at("volumes", index, "emptyDir", "sizeLimit")
        if empty.get("medium") == "Memory":
            if users:
                mounted = ", ".join(f"{p} in `{c.name}`" for c, p in users)
            elif str(name).startswith("gke-gcsfuse-"):
                mounted = "used by the injected Cloud Storage FUSE sidecar"
            else:
                continue  # mounted by no container: nothing writes to it
            yield Hit(where, f"{pod.display}: memory-backed emptyDir `{name}` ({mounted}) has no sizeLimit: what is "
                      "written there is node memory, bounded only by the node")
            continue
        for c, mount_path in users:
            if c.resources("limits").get("ephemeral-storage") not in (None, ""):
                continue
            reason = _cache_reason(c, mount_path)
            if reason:
                yield Hit(where, f"{pod.display}: emptyDir `{name}` mounted at {mount_path} in `{c.name}` "
                          f"({reason}) has no sizeLimit and the container has no ephemeral-storage limit: model "
                          "downloads can fill the node's disk")
                break


# --- MLS-K8S-006 --------------------------------------------------------------------------------------------

def _node_ports(pod: PodSpec) -> list[str]:
    found: dict[int, str] = {}
    for c in pod.main_containers:
        for server in sorted(identify(c)):
            for port, role in PORTS.get(server, {}).items():
                found.setdefault(port, f"{port} ({server} {role})")
        for port in container_ports(c).values():
            found.setdefault(port, str(port))
    return [found[p] for p in sorted(found)]


@rules.rule(
    id="MLS-K8S-006", name="host-network-inference",
    title="`hostNetwork: true` on inference pods (RDMA/NCCL shortcut)",
    severity=Severity.HIGH, scope=Scope.POD, inference_only=True, supersedes=("KUBE-006",),
    rationale="""
        `hostNetwork: true` is the shortcut for RDMA, NCCL or multi-node vLLM/Ray without a secondary network.
        The model server's ports (Triton 8000-8002, Ray 6379/8265/10001, vLLM, TorchServe management) then
        bind on the node's addresses: NetworkPolicies no longer apply, Services are bypassed, and the pod
        reaches node-local services and the cloud metadata endpoint directly.""",
    remediation="""
        Remove `hostNetwork: true`. For RDMA/GPUDirect use SR-IOV or host-device networks attached with Multus
        (`k8s.v1.cni.cncf.io/networks` annotation) and the RDMA device-plugin resources; expose serving ports
        through a ClusterIP Service.""",
    bad="spec: {hostNetwork: true, dnsPolicy: ClusterFirstWithHostNet}",
    good="""
        metadata:
          annotations: {k8s.v1.cni.cncf.io/networks: rdma-net}
        spec:
          hostNetwork: false
          containers:
          - name: vllm
            resources: {limits: {nvidia.com/gpu: 8, rdma/hca_shared_devices_a: 1}}""",
    references=(f"{CIS} 5.2.5", f"{NSA}: Network separation and hardening", atlas("AML.T0049")),
)
def host_network(pod: PodSpec) -> Iterator[Hit]:
    if _not_serving(pod):
        return
    ports = _node_ports(pod)
    listed = f": ports {', '.join(ports)} bind on the node's addresses" if ports else ""
    for hit in _generic(generic.host_network, pod):
        if pod.get("hostNetwork") is True:
            yield Hit(hit.path, f"{pod.display} sets hostNetwork: true{listed}, outside NetworkPolicy and next to "
                      "node-local services and the cloud metadata endpoint", fixes=hit.fixes)
        else:
            yield Hit(hit.path, f"{hit.message}; if true, the model server's ports bind on the node",
                      confidence=hit.confidence)


# --- MLS-K8S-007 --------------------------------------------------------------------------------------------

ML_CAPABILITIES: dict[str, str] = {
    "SYS_ADMIN": "near-root (mount, namespaces, BPF); usually added for in-container FUSE bucket mounts",
    "SYS_PTRACE": "can read any process's memory (model weights, API keys); usually added for profilers",
    "NET_ADMIN": "can rewrite the pod's network configuration and sniff traffic",
    "SYS_MODULE": "can load kernel modules on the node",
    "DAC_READ_SEARCH": "bypasses file read permissions and allows open_by_handle_at host file access",
    "IPC_LOCK": "can pin unlimited memory; usually added for RDMA/NCCL memory registration",
    "SYS_RESOURCE": "can override resource limits; usually added for RDMA/NCCL",
    "ALL": "every capability",
}
FUSE_PROGRAMS = ("s3fs", "gcsfuse", "goofys", "mount-s3", "blobfuse2", "blobfuse", "rclone", "juicefs")
RDMA_RESOURCES = ("rdma/", "vpc.amazonaws.com/efa", "nvidia.com/hostdev", "nvidia.com/rdma", "mellanox.com/")


@rules.rule(
    id="MLS-K8S-007", name="ml-dangerous-capabilities",
    title="ML-motivated dangerous capabilities (SYS_ADMIN for FUSE bucket mounts, IPC_LOCK/SYS_RESOURCE for RDMA, "
          "SYS_PTRACE for profilers)",
    severity=Severity.HIGH, scope=Scope.CONTAINER, inference_only=True, supersedes=("KUBE-004",),
    rationale="""
        Model servers get capabilities added for ML conveniences: `SYS_ADMIN` to run s3fs/gcsfuse inside the
        container and mount the model bucket (near-root on the node), `SYS_PTRACE` for py-spy or Nsight
        profilers (read other processes' memory: weights, keys), `IPC_LOCK`/`SYS_RESOURCE` for RDMA. Any code
        execution in the model server inherits them.""",
    remediation="""
        Drop ALL capabilities. Mount model buckets with a CSI driver (Mountpoint for Amazon S3 CSI, Cloud
        Storage FUSE CSI `gcsfuse.csi.storage.gke.io`, Azure Blob CSI) with `readOnly: true`; profile in a
        debug copy of the pod; keep `IPC_LOCK` only on dedicated RDMA node pools, with a justification
        annotation.""",
    bad="""
        command: ["sh", "-c", "gcsfuse models /mnt/models && python serve.py"]
        securityContext: {capabilities: {add: ["SYS_ADMIN"]}}""",
    good="""
        securityContext: {capabilities: {drop: ["ALL"]}}
        volumes:
        - name: models
          csi: {driver: gcsfuse.csi.storage.gke.io, readOnly: true, volumeAttributes: {bucketName: models}}""",
    references=(f"{CIS} 5.2.9", f"{CIS} 5.2.10", atlas("AML.T0105")),
)
def ml_capabilities(c: Container) -> Iterator[Hit]:
    if _not_serving(c.pod):
        return
    added = c.get("securityContext", "capabilities", "add")
    added = added if isinstance(added, list) else []
    rdma = sorted({str(n) for other in c.pod.containers for n in other.resources("limits")
                   if str(n).startswith(RDMA_RESOURCES)})
    for hit in _generic(generic.dangerous_capabilities, c):
        index = hit.path[-1]
        cap = str(added[index]).upper().removeprefix("CAP_") if isinstance(index, int) and index < len(added) else ""
        if cap not in ML_CAPABILITIES:  # another non-default capability: the generic verdict, on a model server
            yield Hit(hit.path, hit.message.replace(c.display, f"{c.display}{_servers(c)}", 1),
                      severity=hit.severity, confidence=hit.confidence, fixes=hit.fixes)
            continue
        what, severity = ML_CAPABILITIES[cap], None
        if cap == "SYS_ADMIN":
            fuse = c.argv.has_program(*FUSE_PROGRAMS)
            if fuse is not None:
                program = fuse.text.rsplit("/", 1)[-1]
                what += f"; it runs {program} to mount a bucket inside the container: use a CSI driver"
        elif cap in ("IPC_LOCK", "SYS_RESOURCE") and rdma:
            what += f"; the pod requests {', '.join(rdma)}, so keep it to a dedicated RDMA node pool"
            severity = Severity.MEDIUM
        yield Hit(hit.path, f"{c.display}{_servers(c)} adds capability {cap}: {what}", severity=severity,
                  fixes=hit.fixes)


# --- MLS-K8S-008 --------------------------------------------------------------------------------------------

TOOLKIT_FIXED = (1, 17, 8)
OPERATOR_FIXED = (25, 3, 1)


def _gpu_capable(pod: PodSpec) -> bool:
    if "nvidia" in str(pod.get("runtimeClassName") or "").lower():
        return True
    return any(c.requests_gpu or "NVIDIA_VISIBLE_DEVICES" in c.env for c in pod.containers)


def _preload_hits(c: Container, gpu: bool) -> Iterator[Hit]:
    preload = c.env.get("LD_PRELOAD")
    owner = _env_owner(c, preload) if preload else None
    where = "GPU container" if gpu else "model-serving container (if it lands on a GPU node)"
    if preload is not None:
        if preload.value is None or is_templated(preload.value):
            shown = f"to `{preload.value}`" if preload.value else f"from {preload.source}"
            yield Hit(preload.path, f"{c.display} sets LD_PRELOAD {shown} (value unknown) in a {where}: the NVIDIA "
                      "Container Toolkit's createContainer hook inherits it on the host (CVE-2025-23266)",
                      obj=owner, confidence=Confidence.LOW)
        elif preload.value.strip():
            entries = [e for e in re.split(r"[:\s]+", preload.value) if e]
            relative = [e for e in entries if not e.startswith("/") or e.startswith("/proc/")]
            setting = f"{c.display} sets `LD_PRELOAD={preload.value}`{_env_where(preload)} in a {where}"
            if relative:
                yield Hit(preload.path, f"{setting}: a relative or /proc path resolves in the container's filesystem "
                          "when the NVIDIA toolkit hook runs on the host, the NVIDIAScape escape (CVE-2025-23266, "
                          "fixed in toolkit 1.17.8)", obj=owner, confidence=None if gpu else Confidence.MEDIUM)
            else:
                yield Hit(preload.path, f"{setting}: the NVIDIA toolkit's createContainer hook inherits it as root on "
                          "the host (CVE-2025-23266); move the preload into the image's entrypoint and run toolkit "
                          ">= 1.17.8", obj=owner, severity=Severity.HIGH, confidence=None if gpu else Confidence.LOW)
    library = c.env.get("LD_LIBRARY_PATH")
    if library is not None and library.value:
        entries = library.value.split(":")
        bad = [e for e in entries
               if not e.startswith("$") and (e == "" or not e.startswith("/") or e.startswith("/proc/"))]
        if bad:
            shown = ", ".join(repr(e) if e else "an empty entry (the current directory)" for e in bad)
            yield Hit(library.path, f"{c.display} sets `LD_LIBRARY_PATH={library.value}`{_env_where(library)} in a "
                      f"{where} with {shown}: the NVIDIA toolkit hook runs on the host with the container root as "
                      "its working directory and would load libraries from the image (CVE-2025-23266/23267)",
                      obj=_env_owner(c, library), confidence=None if gpu else Confidence.MEDIUM)


def _pinned_hits(c: Container) -> Iterator[Hit]:
    if not c.image or is_templated(c.image):
        return
    repo = image_repository(c.image).lower()
    version = version_tuple(image_tag(c.image))
    if version is None:
        return
    if repo.endswith(("/container-toolkit", "/nvidia-container-toolkit")) and "nvidia" in repo \
            and version < TOOLKIT_FIXED:
        yield Hit(c.at("image"), f"{c.display} runs NVIDIA Container Toolkit `{c.image}`, older than 1.17.8: "
                  "vulnerable to the NVIDIAScape container escape (CVE-2025-23266, CVE-2025-23267)")
    elif repo.endswith("/gpu-operator") and "nvidia" in repo and version < OPERATOR_FIXED:
        yield Hit(c.at("image"), f"{c.display} runs NVIDIA GPU Operator `{c.image}`, older than v25.3.1: it "
                  "deploys a container toolkit vulnerable to NVIDIAScape (CVE-2025-23266)")


@rules.rule(
    id="MLS-K8S-008", name="nvidiascape-ld-preload",
    title="NVIDIAScape pattern: LD_PRELOAD in GPU pods and vulnerable NVIDIA Container Toolkit / GPU Operator pins",
    severity=Severity.CRITICAL, scope=Scope.INVENTORY,
    rationale="""
        CVE-2025-23266 ("NVIDIAScape", CVSS 9.0): the NVIDIA Container Toolkit's `enable-cuda-compat`
        createContainer hook runs on the host, as root, with the container's environment and the container's
        root filesystem as working directory. An `LD_PRELOAD` (or an `LD_LIBRARY_PATH` with relative
        entries) set by the pod spec or the image makes it load a library from the image on the host: a
        three-line container escape on any GPU node. Fixed in toolkit 1.17.8 and GPU Operator 25.3.1, together
        with CVE-2025-23267 (`update-ldcache`).""",
    remediation="""
        Upgrade the NVIDIA Container Toolkit to 1.17.8 or later (GPU Operator 25.3.1 or later). Do not set
        `LD_PRELOAD` in GPU pod specs: preload libraries from the image's entrypoint script instead, keep
        `LD_LIBRARY_PATH` to absolute paths, and deny `LD_PRELOAD` on pods requesting `nvidia.com/gpu` with an
        admission policy.""",
    bad="""
        # ClusterPolicy of the NVIDIA GPU Operator
        spec:
          toolkit: {version: v1.17.5-ubuntu20.04}
        ---
        env: [{name: LD_PRELOAD, value: ./libhook.so}]     # on a container requesting nvidia.com/gpu""",
    good="""
        spec:
          toolkit: {version: v1.17.8-ubuntu20.04}
        # and an admission policy: deny env LD_PRELOAD on pods requesting nvidia.com/gpu""",
    references=("CVE-2025-23266 (NVIDIAScape, Wiz Research)", "CVE-2025-23267",
                "NVIDIA Security Bulletin: NVIDIA Container Toolkit, July 2025", atlas("AML.T0105"), ML06),
)
def nvidiascape(inventory: Inventory) -> Iterator[Hit]:
    for obj in inventory.objects:
        if obj.kind == "ClusterPolicy" and obj.group == "nvidia.com":
            yield from _cluster_policy_hits(obj)
            continue
        for pod in pod_specs(obj, inventory):
            for c in pod.containers:
                yield from (Hit(h.path, h.message, obj=h.obj or obj, severity=h.severity, confidence=h.confidence)
                            for h in _pinned_hits(c))
            if _not_serving(pod):
                continue
            gpu = _gpu_capable(pod)
            if not gpu and not pod.is_inference:
                continue
            for c in pod.containers:
                for hit in _preload_hits(c, gpu):
                    yield Hit(hit.path, hit.message, obj=hit.obj or obj, severity=hit.severity,
                              confidence=hit.confidence)


def _cluster_policy_hits(obj: K8sObject) -> Iterator[Hit]:
    toolkit = obj.get("spec", "toolkit")
    if not isinstance(toolkit, dict) or toolkit.get("enabled") is False:
        return
    version = toolkit.get("version")
    parsed = version_tuple(str(version)) if version is not None else None
    if parsed is not None and parsed < TOOLKIT_FIXED:
        yield Hit(obj.at("spec", "toolkit", "version"), f"{obj.ref} deploys NVIDIA Container Toolkit {version}, "
                  "older than 1.17.8: vulnerable to the NVIDIAScape container escape (CVE-2025-23266)", obj=obj)


# --- MLS-K8S-009 --------------------------------------------------------------------------------------------

@rules.rule(
    id="MLS-K8S-009", name="model-server-root-or-escalation",
    title="Model server runs as root or with privilege escalation allowed",
    severity=Severity.MEDIUM, scope=Scope.CONTAINER, inference_only=True, supersedes=("KUBE-003", "KUBE-002"),
    rationale="""
        Most model-server images (vLLM, TGI, TorchServe, Ray, many Triton builds) run as root by default, and
        model servers are exactly where remote code execution happens: pickled models, custom handlers,
        `trust_remote_code`, template injection. Root in the container, or setuid escalation, widens every
        container-escape and file-permission mistake that follows.""",
    remediation="""
        Set `runAsNonRoot: true` and a non-zero `runAsUser` (Triton: user `triton-server`, uid 1000) on the pod
        or container, `allowPrivilegeEscalation: false` and `capabilities.drop: [ALL]` on the container, and
        point `HOME`, `HF_HOME` and other cache directories at writable volumes so the server runs without
        root.""",
    bad="""
        containers:
        - name: vllm
          image: vllm/vllm-openai:v0.9.2
          securityContext: {}""",
    good="""
        containers:
        - name: vllm
          image: vllm/vllm-openai:v0.9.2@sha256:<digest>
          env: [{name: HF_HOME, value: /cache/hf}]
          securityContext:
            runAsNonRoot: true
            runAsUser: 1000
            allowPrivilegeEscalation: false
            capabilities: {drop: ["ALL"]}""",
    references=(f"{CIS} 5.2.6", f"{CIS} 5.2.7", "NVIDIA Triton docs: Run as a Non-Root User", atlas("AML.T0105")),
)
def model_server_root(c: Container) -> Iterator[Hit]:
    if _not_serving(c.pod):
        return
    label = f"{c.display}{_servers(c)}"
    for hit in _generic(generic.run_as_root, c):
        message = hit.message.replace(c.display, label, 1)
        if identify(c) and c.security("runAsUser")[0] is None and c.security("runAsNonRoot")[0] is None:
            message += ", and model-server images usually default to root"
        yield Hit(hit.path, message, confidence=hit.confidence,
                  fixes=(generic.non_root_fix(c, MODEL_SERVER_UID),) if hit.fixes else ())
    for hit in _generic(generic.privilege_escalation, c):
        yield Hit(hit.path, hit.message.replace(c.display, label, 1), confidence=hit.confidence, fixes=hit.fixes)


# --- MLS-K8S-010 --------------------------------------------------------------------------------------------

def _bindings_of(pod: PodSpec) -> list[K8sObject]:
    """Bindings naming the pod's service account, groups included (the resource graph's G-01 walk)."""
    # No binding, no graph to build (for a lone object at admission, it would be most of the work). One kind at
    # a time: asking for both would build a list of every binding, for every pod.
    if not (pod.inventory.of_kind("RoleBinding") or pod.inventory.of_kind("ClusterRoleBinding")):
        return []
    return pod.inventory.graph.bindings(pod)


@rules.rule(
    id="MLS-K8S-010", name="model-server-token-automount",
    title="Service-account token automounted into model-serving pods",
    severity=Severity.MEDIUM, scope=Scope.POD, inference_only=True, supersedes=("KUBE-015",),
    rationale="""
        Model servers almost never call the Kubernetes API, yet every pod gets its service account's token
        at /var/run/secrets/kubernetes.io/serviceaccount. After a remote code execution in the server (a
        pickled model, a custom handler, `trust_remote_code`), that token is free lateral movement: whatever
        RBAC the account holds, plus discovery of the cluster.""",
    remediation="""
        Set `automountServiceAccountToken: false` on the pod (KServe: on `spec.predictor`; it is a pod field)
        and on the dedicated ServiceAccount of the model server; mount a projected token with an audience
        only where the server really needs one.""",
    bad="""
        spec:
          serviceAccountName: triton
          containers: [{name: triton, image: nvcr.io/nvidia/tritonserver:25.08-py3}]""",
    good="""
        spec:
          serviceAccountName: triton
          automountServiceAccountToken: false
          containers: [{name: triton, image: nvcr.io/nvidia/tritonserver:25.08-py3}]""",
    references=(f"{CIS} 5.1.5", f"{CIS} 5.1.6", f"{NSA}: Protecting Pod service account tokens", atlas("AML.T0055")),
)
def model_server_token(pod: PodSpec) -> Iterator[Hit]:
    if _not_serving(pod):
        return
    if pod.obj.kind in ("RayCluster", "RayService", "RayJob") and pod.role == "head" and _ray_autoscaling(pod):
        return  # the in-tree autoscaler sidecar of the head pod calls the API server
    bindings = _bindings_of(pod)
    granted = ""
    if bindings:
        roles = ", ".join(f"`{b.get('roleRef', 'name')}` ({b.ref})" for b in bindings[:3])
        granted = (f"; the account is bound to {roles}: if the server does not call the API, that is what an RCE "
                   "gets, and if it does, a projected token in that one container is enough")
    for hit in _generic(generic.token_automount, pod):
        confidence = hit.confidence
        if bindings and confidence is not Confidence.LOW:
            confidence = Confidence.MEDIUM  # the server may be the one pod that does call the API
        extra = "" if " grants it a role" in hit.message else granted
        yield Hit(hit.path, f"{hit.message}; a model server rarely needs the Kubernetes API, and after an RCE its "
                  f"token is lateral movement{extra}", obj=hit.obj, related=hit.related,
                  severity=Severity.HIGH if bindings else None, confidence=confidence, fixes=hit.fixes)


def _ray_autoscaling(pod: PodSpec) -> bool:
    spec = get_path(pod.obj.doc, pod.group_path[:-1])  # the Ray cluster spec holding headGroupSpec
    return isinstance(spec, dict) and spec.get("enableInTreeAutoscaling") is True


# --- MLS-K8S-011 --------------------------------------------------------------------------------------------

PROBE_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "Rollout",
                         "LeaderWorkerSet"})  # long-running replicas behind a Service; not bare Pods or Jobs
SERVING_SERVERS = frozenset({"torchserve", "triton", "tfserving", "vllm", "sglang", "tgi", "tei", "ollama",
                             "kserve", "seldon"})
LLM_SERVERS = frozenset({"vllm", "sglang", "tgi", "ollama", "triton"})


@rules.rule(
    id="MLS-K8S-011", name="inference-limits-and-probes",
    title="Inference pods without GPU/memory limits or startup/readiness probes",
    severity=Severity.MEDIUM, scope=Scope.CONTAINER, inference_only=True, supersedes=("KUBE-012",),
    rationale="""
        A model server without a memory limit can take the node's memory (a long prompt, a large batch, a
        second model loaded through an admin API); GPUs only in `requests` are rejected or unaccounted; and
        LLM servers take minutes to load weights, so without a `startupProbe` the liveness probe kills them in
        a loop, and without a `readinessProbe` traffic reaches replicas that have not loaded the model.""",
    remediation="""
        Set `resources.limits` for `nvidia.com/gpu` (GPUs belong in limits) and `memory`; add a
        `readinessProbe` on the server's health endpoint and, for LLM servers, a `startupProbe` with a
        failure budget longer than the model load time. Cap the namespace with a ResourceQuota on
        `requests.nvidia.com/gpu` and `limits.memory`.""",
    bad="""
        resources: {requests: {nvidia.com/gpu: 1}}
        # no probes""",
    good="""
        resources: {limits: {nvidia.com/gpu: 1, memory: 64Gi, cpu: "8"}, requests: {memory: 64Gi, cpu: "8"}}
        startupProbe: {httpGet: {path: /health, port: 8000}, failureThreshold: 120, periodSeconds: 10}
        readinessProbe: {httpGet: {path: /health, port: 8000}, periodSeconds: 5}""",
    references=("Kubernetes docs: Schedule GPUs (GPUs are specified in limits)", f"{CIS} 5.7.1", LLM10,
                atlas("AML.T0029", "AML.T0034")),
)
def inference_limits(c: Container) -> Iterator[Hit]:
    pod = c.pod
    if _not_serving(pod):
        return
    label = f"{c.display}{_servers(c)}"
    requested = _gpu_resources(c, "requests")
    limited = set(_gpu_resources(c, "limits"))
    only_requested = [name for name in requested if name not in limited]
    if only_requested:
        yield Hit(c.at("resources", "limits", only_requested[0]),
                  f"{label} requests {', '.join(only_requested)} without a limit: Kubernetes requires GPUs in "
                  "resources.limits, and the scheduler cannot account for them otherwise",
                  fixes=generic.limit_from_request_fixes(c, only_requested[0]))
    for hit in _generic(generic.missing_memory_limit, c):
        why = ("loading weights, long prompts or large batches can exhaust the node's memory and get other pods "
               "OOM-killed" if identify(c) or c.requests_gpu else
               "next to a model server it can exhaust the node's memory and get the server OOM-killed")
        yield Hit(hit.path, f"{label} has no memory limit: {why}", confidence=hit.confidence, fixes=hit.fixes)
    if not c.init and pod.main_containers and pod.main_containers[0] is c:
        runtime = str(pod.get("runtimeClassName") or "")
        if "nvidia" in runtime.lower() and not any(_gpu_resources(o, "limits") for o in pod.containers):
            yield Hit(pod.at("runtimeClassName"),
                      f"{pod.display} uses runtimeClassName `{runtime}` but no container has a GPU limit: with a "
                      "CUDA image (NVIDIA_VISIBLE_DEVICES=all) it sees every GPU of the node, unaccounted")
    yield from _probe_hits(c, label)


def _probe_hits(c: Container, label: str) -> Iterator[Hit]:
    pod = c.pod
    if c.init or pod.obj.kind not in PROBE_KINDS or pod.role == "workerTemplate" or c.is_fragment:
        return
    servers = identify(c) & SERVING_SERVERS
    if not servers and not (c.requests_gpu and container_ports(c)):
        return  # a GPU container that listens on a port serves something; one that does not is a batch worker
    if c.get("readinessProbe") is None:
        yield Hit(c.at("readinessProbe"), f"{label} has no readinessProbe: traffic reaches replicas before the model "
                  "is loaded")
    if servers & LLM_SERVERS and c.get("livenessProbe") is not None and c.get("startupProbe") is None:
        yield Hit(c.at("startupProbe"), f"{label} has a livenessProbe but no startupProbe: while weights load the "
                  "liveness probe can kill the server in a loop")


# --- MLS-K8S-012 --------------------------------------------------------------------------------------------

def _oci_unpinned(uri: str) -> bool:
    return uri.startswith("oci://") and not is_templated(uri) and image_digest(uri) is None


@rules.rule(
    id="MLS-K8S-012", name="model-image-not-pinned",
    title="Model-serving images and model OCI artifacts not pinned by digest",
    severity=Severity.MEDIUM, scope=Scope.CONTAINER, inference_only=True, confidence=Confidence.MEDIUM,
    supersedes=("KUBE-018",),
    rationale="""
        Serving runtime images (often pulled from public registries) and KServe "modelcar" OCI model images
        are referenced by mutable tags: whoever can push to the repository, or hijack a tag, swaps the server
        or the model weights the next time a pod starts, with no change to the manifest.""",
    remediation="""
        Reference images and `oci://` model URIs by digest (`@sha256:...`, keeping the tag for readers), sign
        them with cosign and verify them at admission (Sigstore policy-controller, Kyverno `verifyImages`, GKE
        Binary Authorization).""",
    bad="storageUri: oci://quay.io/acme/modelcar-granite:latest",
    good="storageUri: oci://quay.io/acme/modelcar-granite@sha256:<digest>",
    references=(f"{CIS} 5.5.1", f"{CIS_EKS} 5.1", ML06, LLM03, atlas("AML.T0010.004", "AML.T0010.003")),
)
def model_image_not_pinned(c: Container) -> Iterator[Hit]:
    if _not_serving(c.pod):
        return
    label = f"{c.display}{_servers(c)}"
    for hit in _generic(generic.image_not_pinned, c):
        what = "model-serving image" if identify(c) else "image, in a model-serving pod,"
        swapped = "the server" if identify(c) else "what runs next to the model"
        yield Hit(hit.path, f"{label} pulls {what} `{c.image}` by tag, not by digest: a push to the tag swaps "
                  f"{swapped}", confidence=hit.confidence)
    uri = c.get("storageUri")
    if isinstance(uri, str) and _oci_unpinned(uri):
        yield Hit(c.at("storageUri"), f"{label} loads model OCI artifact `{uri}` by tag, not by digest")
    storage = c.env.get("STORAGE_URI")
    if storage is not None and storage.value and _oci_unpinned(storage.value):
        yield Hit(storage.path, f"{label} loads model OCI artifact `{storage.value}` (STORAGE_URI) by tag, not by "
                  "digest", obj=_env_owner(c, storage))
    version = c.get("runtimeVersion")
    if c.default_name and version not in (None, "") and not c.image:
        yield Hit(c.at("runtimeVersion"), f"{label} selects its serving runtime image by tag `{version}` "
                  "(runtimeVersion); set the runtime's image by digest instead")


# --- MLS-K8S-014 and MLS-K8S-015: NetworkPolicy ----------------------------------------------------------------

OTHER_POLICY_KINDS = ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "GlobalNetworkPolicy",
                      "AdminNetworkPolicy", "BaselineAdminNetworkPolicy")
RUNTIME_KINDS = ("ServingRuntime", "ClusterServingRuntime")


def _k8s_policies(inventory: Inventory) -> list[K8sObject]:
    return [p for p in inventory.of_kind("NetworkPolicy") if p.group == "networking.k8s.io"]


def _other_policies(inventory: Inventory, namespace: str) -> list[K8sObject]:
    """Cilium/Calico/AdminNetworkPolicy objects that may apply to the namespace; their semantics are not modelled."""
    found = [p for p in inventory.of_kind(*OTHER_POLICY_KINDS)
             if p.kind not in ("CiliumNetworkPolicy",) or p.namespace == namespace]
    found += [p for p in inventory.of_kind("NetworkPolicy")
              if p.group != "networking.k8s.io" and p.namespace == namespace]
    return found


def _policy_types(policy: K8sObject) -> set[str]:
    types = policy.get("spec", "policyTypes")
    if isinstance(types, list) and types:
        return {str(t) for t in types}
    found = {"Ingress"}
    if policy.get("spec", "egress") is not None:
        found.add("Egress")
    return found


def _pod_selector(policy: K8sObject) -> dict:
    selector = policy.get("spec", "podSelector")
    return selector if isinstance(selector, dict) else {}


def _selects_all(policy: K8sObject) -> bool:
    selector = _pod_selector(policy)
    return not selector.get("matchLabels") and not selector.get("matchExpressions")


def _only_dns(rule: dict) -> bool:
    ports = rule.get("ports")
    return isinstance(ports, list) and bool(ports) and all(
        isinstance(p, dict) and str(p.get("port")) in ("53", "dns", "dns-tcp") for p in ports)


def _rule_opens_all(rule: object, direction: str) -> bool:
    """A rule admitting every peer (no peers, an empty peer, all namespaces, or 0.0.0.0/0)."""
    if not isinstance(rule, dict):
        return False
    peers = rule.get("from" if direction == "Ingress" else "to")
    if direction == "Egress" and _only_dns(rule):
        return False
    if not isinstance(peers, list) or not peers:
        return True
    for peer in peers:
        if not isinstance(peer, dict) or not peer:
            return True
        block = peer.get("ipBlock")
        if isinstance(block, dict) and str(block.get("cidr")) in ("0.0.0.0/0", "::/0"):
            return True
        if peer.get("namespaceSelector") == {} and not peer.get("podSelector"):
            return True
    return False


def _denies_by_default(policy: K8sObject, direction: str) -> bool:
    if not _selects_all(policy) or direction not in _policy_types(policy):
        return False
    items = policy.get("spec", direction.lower())
    return not any(_rule_opens_all(rule, direction) for rule in (items if isinstance(items, list) else ()))


def _inference_pods(inventory: Inventory) -> Iterator[PodSpec]:
    for obj in inventory.objects:
        if obj.kind in RUNTIME_KINDS:
            continue
        for pod in pod_specs(obj, inventory):
            if pod.role != "submitter" and _serving(pod):
                yield pod


def _namespace_name(namespace: str) -> str:
    return (f"namespace `{namespace}`" if namespace else
            "the deploy-time namespace of the manifests without metadata.namespace (treated as one namespace)")


@rules.rule(
    id="MLS-K8S-014", name="model-namespace-without-default-deny",
    title="Model namespace without default-deny NetworkPolicy (ingress and egress)",
    severity=Severity.HIGH, scope=Scope.INVENTORY, confidence=Confidence.MEDIUM,
    rationale="""
        Model servers expose unauthenticated admin, metrics and model-management APIs and fetch URLs given to
        them. Without a default-deny NetworkPolicy for both directions, a notebook or any compromised pod in
        the cluster reaches those APIs, and a compromised model server reaches the internet (exfiltrating
        weights) and the cloud metadata endpoint.""",
    remediation="""
        Add a NetworkPolicy selecting every pod of the namespace (`podSelector: {}`) with
        `policyTypes: [Ingress, Egress]` and no rules, then allow only the flows each server needs: the
        gateway to the inference port, Prometheus to the metrics port, DNS and the model store for egress.""",
    bad="# namespace llm with Deployments only",
    good="""
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: default-deny, namespace: llm}
        spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: allow-gateway-to-vllm, namespace: llm}
        spec:
          podSelector: {matchLabels: {app: vllm}}
          policyTypes: [Ingress]
          ingress:
          - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: istio-ingress}}}]
            ports: [{port: 8000}]""",
    references=(f"{CIS} 5.3.2", f"{CIS_EKS} 5.4.4", f"{NSA}: Network separation and hardening",
                "vLLM docs: Security (network isolation)", atlas("AML.T0049", "AML.T0025")),
)
def namespace_default_deny(inventory: Inventory) -> Iterator[Hit]:
    workloads: dict[str, list[K8sObject]] = {}
    for pod in _inference_pods(inventory):
        objects = workloads.setdefault(pod.obj.namespace, [])
        if pod.obj not in objects:
            objects.append(pod.obj)
    policies = _k8s_policies(inventory)
    for namespace, objects in workloads.items():
        own = [p for p in policies if p.namespace == namespace]
        missing = [d for d in ("Ingress", "Egress") if not any(_denies_by_default(p, d) for p in own)]
        if not missing:
            continue
        first = objects[0]
        confidence = None
        notes = []
        if own:
            notes.append(f"its NetworkPolicies ({', '.join('`' + p.name + '`' for p in own)}) select only some pods "
                         "or allow all peers")
        if namespace and any(_denies_by_default(p, d) for p in policies if p.namespace == "" for d in missing):
            confidence = Confidence.LOW
            notes.append("a NetworkPolicy without metadata.namespace may be deployed there")
        others = _other_policies(inventory, namespace)
        if others:
            confidence = Confidence.LOW
            notes.append(f"{', '.join(p.ref for p in others[:3])} may be equivalent (not evaluated)")
        count = f" and {len(objects) - 1} more" if len(objects) > 1 else ""
        direction = " and ".join(d.lower() for d in missing)
        message = (f"{_namespace_name(namespace)} runs inference workloads ({first.ref}{count}) but no NetworkPolicy "
                   f"denies {direction} by default (podSelector: {{}} with policyTypes [{', '.join(missing)}] and no "
                   f"rule admitting all peers)")
        if notes:
            message += "; " + "; ".join(notes)
        path = first.at("metadata", "namespace") if namespace else first.at("metadata")
        related = tuple(RelatedHit(o, o.at("metadata", "name"), f"{o.ref} also serves models in this namespace")
                        for o in objects[1:10])
        yield Hit(path, message, obj=first, confidence=confidence, related=related)


METADATA_ADDRESSES = (ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"))


def _network(text: object) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(str(text), strict=False)
    except ValueError:
        return None


def _ports_allow_http(rule: dict) -> bool:
    ports = rule.get("ports")
    if not isinstance(ports, list) or not ports:
        return True
    for entry in ports:
        if not isinstance(entry, dict):
            continue
        if str(entry.get("protocol") or "TCP").upper() != "TCP":
            continue
        port = entry.get("port")
        if port is None:
            return True
        try:
            number = int(str(port))
        except ValueError:
            continue  # named ports only resolve on pods, never on an ipBlock destination
        end = entry.get("endPort")
        if number == 80 or (isinstance(end, int) and number <= 80 <= end):
            return True
    return False


def _metadata_opening(rule: object) -> tuple[tuple, str] | None:
    """(path steps inside the rule, address) of what lets an egress rule reach the metadata endpoint."""
    if not isinstance(rule, dict) or not _ports_allow_http(rule):
        return None
    peers = rule.get("to")
    if not isinstance(peers, list) or not peers:
        return (), "every destination"
    for index, peer in enumerate(peers):
        if not isinstance(peer, dict):
            continue
        block = peer.get("ipBlock")
        if not isinstance(block, dict):
            continue
        network = _network(block.get("cidr"))
        if network is None:
            continue
        excepts = [n for n in (_network(e) for e in (block.get("except") or [])) if n is not None]
        for address in METADATA_ADDRESSES:
            if address.version == network.version and address in network and \
                    not any(address.version == e.version and address in e for e in excepts):
                return ("to", index, "ipBlock"), f"{block.get('cidr')} (without an except for {address})"
    return None


def _pod_labels(pod: PodSpec) -> dict:
    """The labels the pod will carry, adding those the ML operators set on the pods they create."""
    obj = pod.obj
    labels: dict = {}
    if obj.kind in ("InferenceService", "LLMInferenceService"):
        extra = pod.get("labels")
        labels.update(obj.labels)
        labels.update({"serving.kserve.io/inferenceservice": obj.name, "component": pod.role,
                       "app": f"isvc.{obj.name}-{pod.role}"})
        labels.update(extra if isinstance(extra, dict) else {})
    elif obj.kind in ("RayCluster", "RayService", "RayJob"):
        labels.update({"app.kubernetes.io/name": "kuberay", "app.kubernetes.io/created-by": "kuberay-operator",
                       "ray.io/node-type": "head" if pod.role == "head" else "worker"})
        if obj.kind == "RayCluster":
            labels["ray.io/cluster"] = obj.name
    elif obj.kind == "SeldonDeployment":
        labels.update({"seldon-deployment-id": obj.name, "app.kubernetes.io/managed-by": "seldon-core"})
    elif obj.kind == "Notebook":
        labels.update({"notebook-name": obj.name, "statefulset": obj.name})
    labels.update(pod.labels)
    return labels


def _pod_anchor(pod: PodSpec) -> Path:
    return pod.meta_path + ("labels",) if pod.meta_path and pod.labels else pod.path


@rules.rule(
    id="MLS-K8S-015", name="metadata-endpoint-reachable",
    title="Cloud metadata endpoint reachable from model-serving or notebook pods",
    severity=Severity.HIGH, scope=Scope.INVENTORY, confidence=Confidence.MEDIUM,
    rationale="""
        Model servers fetch URLs they are given (model URIs, image and document inputs, tool calls) and
        notebooks run arbitrary user code. Unless egress to 169.254.169.254 (and fd00:ec2::254) is blocked,
        a server-side request forgery or a notebook user reads the node's cloud credentials from the metadata
        endpoint, which usually grant far more than the model needs (ECR/GCR pull, the node's IAM role).""",
    remediation="""
        Select every model-serving and notebook pod with an egress NetworkPolicy that does not admit the
        metadata address: allow only DNS and the model store, or use `ipBlock: {cidr: 0.0.0.0/0, except:
        [169.254.169.254/32]}`. Also require IMDSv2 with hop limit 1 on the GPU nodes (EKS) or the GKE
        metadata server (Workload Identity), and avoid `hostNetwork`.""",
    bad="""
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: allow-egress, namespace: llm}
        spec:
          podSelector: {}
          policyTypes: [Egress]
          egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}]""",
    good="""
        spec:
          podSelector: {}
          policyTypes: [Egress]
          egress:
          - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}}]""",
    references=(f"{CIS_EKS} 5.2.1", f"{NSA}: Network separation and hardening", atlas("AML.T0106", "AML.T0055"),
                ML05),
)
def metadata_reachable(inventory: Inventory) -> Iterator[Hit]:
    policies = _k8s_policies(inventory)
    unprotected: dict[str, list[PodSpec]] = {}
    openings: dict[tuple[int, int], tuple[K8sObject, int, tuple, str, list[PodSpec]]] = {}
    for pod in _inference_pods(inventory):
        namespace = pod.obj.namespace
        if pod.get("hostNetwork") is True:
            yield Hit(pod.at("hostNetwork"), f"{pod.display} uses hostNetwork, so no NetworkPolicy applies: the "
                      "cloud metadata endpoint 169.254.169.254 and the node's credentials are reachable from it",
                      obj=pod.obj)
            continue
        labels = _pod_labels(pod)
        egress = [p for p in policies if p.namespace == namespace and "Egress" in _policy_types(p)
                  and selects(_pod_selector(p), labels)]
        if not egress:
            unprotected.setdefault(namespace, []).append(pod)
            continue
        for policy in egress:
            items = policy.get("spec", "egress")
            for index, rule in enumerate(items if isinstance(items, list) else ()):
                opening = _metadata_opening(rule)
                if opening is not None:
                    key = (id(policy), index)
                    openings.setdefault(key, (policy, index, opening[0], opening[1], []))[4].append(pod)
    for namespace, pods in unprotected.items():
        others = _other_policies(inventory, namespace)
        unknown = f"; {others[0].ref} may block it (not evaluated)" if others else ""
        first = pods[0]
        more = f" and {len(pods) - 1} more model-serving pods" if len(pods) > 1 else ""
        verb, them = ("are", "them") if len(pods) > 1 else ("is", "it")
        yield Hit(_pod_anchor(first), f"{first.display}{more} in {_namespace_name(namespace)} {verb} selected by "
                  f"no egress NetworkPolicy: the cloud metadata endpoint 169.254.169.254 is reachable from "
                  f"{them}{unknown}",
                  obj=first.obj, confidence=Confidence.LOW if others else None,
                  related=tuple(RelatedHit(p.obj, _pod_anchor(p), f"{p.display} is not egress-restricted either")
                                for p in pods[1:10]))
    for policy, index, steps, what, pods in openings.values():
        shown = list(dict.fromkeys(p.display for p in pods))
        names = ", ".join(shown[:3]) + (f" and {len(shown) - 3} more" if len(shown) > 3 else "")
        yield Hit(policy.at("spec", "egress", index, *steps),
                  f"{policy.ref} lets {names} reach the cloud metadata endpoint: egress rule {index} admits {what} "
                  "on port 80", obj=policy,
                  related=tuple(RelatedHit(p.obj, _pod_anchor(p), f"{p.display} is selected") for p in pods[:10]))
