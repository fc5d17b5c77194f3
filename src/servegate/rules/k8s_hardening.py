"""General Kubernetes hardening, for every workload, so no second scanner is needed.

The ML-specific rules of ``gpu_workloads`` supersede some of these on model-serving pods.

Rules that flag a *missing* setting skip fragments that something else completes: Kustomize patches
(files a Kustomization of the scan lists as patches, and apps/v1 workloads without a selector),
containers without an image (completed by a patch or by a controller, as Seldon does for its
prepackaged servers) and KServe model-format shorthands (merged with their ServingRuntime's
container, which is checked on its own). Settings they do contain are still checked.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any, Iterator

from servegate.findings import Confidence, Severity
from servegate.fix.model import AddItem, RemoveKey, SetKey, SymbolicFix, safe, unsafe
from servegate.model.images import image_digest, image_repository, image_tag, is_templated
from servegate.model.k8s import Inventory, K8sObject
from servegate.model.network import external_exposure, selects
from servegate.model.workloads import Container, PodSpec
from servegate.rules.base import Hit, RelatedHit, RuleSet, Scope

rules = RuleSet("k8s-hardening")

CIS = "CIS Kubernetes Benchmark v1.9"
NSA = "NSA/CISA Kubernetes Hardening Guidance v1.2"
PSS = "Kubernetes Pod Security Standards"
# Capabilities that amount to (near) root on the node, with what each one hands over.
DANGEROUS_CAPABILITIES = {
    "ALL": "every capability",
    "SYS_ADMIN": "mounts, namespaces and most kernel administration, close to root",
    "NET_ADMIN": "control of interfaces, routes and firewall rules",
    "SYS_PTRACE": "reading and rewriting other processes' memory",
    "SYS_MODULE": "loading kernel modules",
    "SYS_RAWIO": "raw access to devices and I/O ports",
    "SYS_BOOT": "rebooting the node",
    "DAC_READ_SEARCH": "reading any file through open_by_handle_at (the Shocker escape)",
    "BPF": "loading eBPF programs into the kernel",
    "PERFMON": "observing the kernel and other processes through perf",
    "SYS_TIME": "setting the node's clock",
    "MAC_ADMIN": "changing the AppArmor/SELinux policy",
    "MAC_OVERRIDE": "bypassing the AppArmor/SELinux policy",
}
# What the Pod Security Standards "baseline" profile lets a container add (the runtimes' default set).
BASELINE_CAPABILITIES = frozenset(
    {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP",
     "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
)
SERVING_RUNTIME_KINDS = frozenset({"ServingRuntime", "ClusterServingRuntime"})


def _templated(value: Any) -> bool:
    """A value still holding template or envsubst syntax: known only at deploy time."""
    return isinstance(value, str) and ("$" in value or "{{" in value)


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _caps(container: Container, key: str) -> list[tuple[int, str]]:
    values = container.get("securityContext", "capabilities", key)
    return [(i, str(v).upper().removeprefix("CAP_")) for i, v in enumerate(values if isinstance(values, list) else ())]


def _is_windows(pod: PodSpec, container: Container | None = None) -> bool:
    """Windows pods have no Linux securityContext semantics (capabilities, seccomp, AppArmor, root)."""
    if pod.get("os", "name") == "windows" or pod.get("securityContext", "windowsOptions") is not None:
        return True
    return container is not None and container.get("securityContext", "windowsOptions") is not None


def _ephemeral(c: Container) -> bool:
    return "ephemeralContainers" in c.path


# --- fix builders: what each rule's automatic fix changes (servegate.fix turns them into edits) -------------

def no_escalation_fix(c: Container) -> SymbolicFix:
    return safe("set allowPrivilegeEscalation: false",
                SetKey(c.at("securityContext", "allowPrivilegeEscalation"), False))


def non_root_fix(c: Container, uid: int) -> SymbolicFix:
    """runAsNonRoot on the container, and a user id unless a non-zero one is already in effect."""
    operations = [SetKey(c.at("securityContext", "runAsNonRoot"), True)]
    user, _ = c.security("runAsUser")
    if not _is_uid(user) or user == 0:
        operations.append(SetKey(c.at("securityContext", "runAsUser"), uid))
        return unsafe(f"run as non-root: set runAsNonRoot: true and runAsUser: {uid}", *operations)
    return unsafe("run as non-root: set runAsNonRoot: true", *operations)


def drop_all_fix(c: Container) -> SymbolicFix:
    return unsafe("drop all capabilities: add ALL to capabilities.drop",
                  AddItem(c.at("securityContext", "capabilities", "drop"), "ALL"))


def host_namespace_fix(pod: PodSpec, field: str) -> SymbolicFix:
    return unsafe(f"set {field}: false", SetKey(pod.at(field), False))


def token_fix(obj_path: tuple) -> SymbolicFix:
    return unsafe("set automountServiceAccountToken: false", SetKey(obj_path, False))


def limit_from_request_fixes(c: Container, resource: str) -> tuple[SymbolicFix, ...]:
    """A limit equal to the container's request, the one value the manifest itself vouches for."""
    request = c.resources("requests").get(resource)
    if request in (None, "") or _templated(request):
        return ()
    return (unsafe(f"set resources.limits.{resource}: {request} (its request)",
                   SetKey(c.at("resources", "limits", resource), request)),)


# Where servers write besides /tmp, so that a read-only root filesystem keeps them working.
WRITABLE_PATHS: dict[str, tuple[str, ...]] = {
    "torchserve": ("/home/model-server/logs",),
    "vllm": ("/root/.cache",),
    "sglang": ("/root/.cache",),
}
# A cache directory gets a bounded emptyDir (compile and kernel caches, not weights, which have their own
# volume): an unbounded one could fill the node's disk (MLS-K8S-005).
CACHE_SIZE_LIMIT = "10Gi"


def _volume_name(path: str, c: Container, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9-]+", "-", path.rstrip("/").rsplit("/", 1)[-1].lower()).strip("-") or "scratch"
    if len(c.pod.main_containers) > 1:
        base = f"{c.name}-{base}"
    name, number = base, 2
    while name in taken:
        name, number = f"{base}-{number}", number + 1
    return name


def read_only_root_fix(c: Container) -> SymbolicFix:
    """readOnlyRootFilesystem, with an emptyDir wherever the process must still write."""
    operations: list = [SetKey(c.at("securityContext", "readOnlyRootFilesystem"), True)]
    mounted = [str(m.get("mountPath") or "").rstrip("/") for _, m in c.mounts()]
    taken = {str(v.get("name")) for _, v in c.pod.volumes}
    wanted = ("/tmp",) + tuple(p for server in sorted(c.servers) for p in WRITABLE_PATHS.get(server, ()))
    added = []
    for path in dict.fromkeys(wanted):
        if any(path == m or path.startswith(m + "/") for m in mounted if m):
            continue
        name = _volume_name(path, c, taken)
        taken.add(name)
        added.append(path)
        empty_dir = {"sizeLimit": CACHE_SIZE_LIMIT} if "/.cache" in path else {}
        operations += [AddItem(c.at("volumeMounts"), {"name": name, "mountPath": path}),
                       AddItem(c.pod.at("volumes"), {"name": name, "emptyDir": empty_dir})]
    where = f" and emptyDir volumes at {', '.join(added)}" if added else ""
    return unsafe(f"set readOnlyRootFilesystem: true{where}", *operations)


def seccomp_fix(c: Container, path: tuple | None = None) -> SymbolicFix:
    """RuntimeDefault where the profile is set, else on the pod (on the container where there is no pod spec)."""
    if path is not None:
        return safe("set seccompProfile.type: RuntimeDefault", SetKey(path, "RuntimeDefault"))
    holder = c.at("securityContext") if c.obj.kind in SERVING_RUNTIME_KINDS else c.pod.at("securityContext")
    return safe("set seccompProfile.type: RuntimeDefault", SetKey(holder + ("seccompProfile",),
                                                                  {"type": "RuntimeDefault"}))


@rules.rule(
    id="KUBE-001", name="privileged-container", title="Container runs privileged",
    severity=Severity.HIGH, scope=Scope.CONTAINER,
    rationale="""
        A privileged container has every capability and every host device, with seccomp and AppArmor off.
        Any code execution inside it is code execution on the node.""",
    remediation="Remove `privileged: true`; grant the one capability or device-plugin resource actually needed.",
    bad="""
        securityContext:
          privileged: true""",
    good="""
        securityContext:
          privileged: false
          allowPrivilegeEscalation: false
          capabilities: {drop: ["ALL"]}""",
    references=(f"{CIS} 5.2.2", f"{NSA}: Pod security", f"{PSS}: Baseline"),
)
def privileged_container(c: Container) -> Iterator[Hit]:
    value = c.get("securityContext", "privileged")
    if value is True:
        yield Hit(c.at("securityContext", "privileged"),
                  f"{c.display} runs privileged: every host device and capability, no seccomp or AppArmor",
                  fixes=(unsafe("set privileged: false", SetKey(c.at("securityContext", "privileged"), False)),))
    elif _templated(value):
        yield Hit(c.at("securityContext", "privileged"),
                  f"{c.display} sets privileged to `{value}`, known only at deploy time", confidence=Confidence.LOW)


@rules.rule(
    id="KUBE-002", name="privilege-escalation-allowed", title="Container allows privilege escalation",
    severity=Severity.MEDIUM, scope=Scope.CONTAINER,
    rationale="""
        Unless `allowPrivilegeEscalation` is false, a process can gain more privileges than its parent
        through setuid binaries or file capabilities (no_new_privs is not set).""",
    remediation="Set `securityContext.allowPrivilegeEscalation: false` on every container.",
    bad="securityContext: {}",
    good="securityContext: {allowPrivilegeEscalation: false}",
    references=(f"{CIS} 5.2.6", f"{PSS}: Restricted"),
)
def privilege_escalation(c: Container) -> Iterator[Hit]:
    if _is_windows(c.pod, c):
        return
    value = c.get("securityContext", "allowPrivilegeEscalation")
    path = c.at("securityContext", "allowPrivilegeEscalation")
    if value is False:
        return
    if value is True:
        yield Hit(path, f"{c.display} sets allowPrivilegeEscalation: true (setuid binaries can gain privileges)",
                  fixes=(no_escalation_fix(c),))
    elif _templated(value):
        yield Hit(path, f"{c.display} sets allowPrivilegeEscalation to `{value}`, known only at deploy time",
                  confidence=Confidence.LOW)
    elif not c.is_fragment:
        yield Hit(path, f"{c.display} does not set allowPrivilegeEscalation: false, so setuid binaries and file "
                        "capabilities can raise its privileges", fixes=(no_escalation_fix(c),))


def _is_uid(value: Any) -> bool:
    return type(value) is int  # noqa: E721 - a YAML bool is not a user id


@rules.rule(
    id="KUBE-003", name="run-as-root", title="Container may run as root",
    severity=Severity.MEDIUM, scope=Scope.CONTAINER,
    rationale="""
        With neither `runAsNonRoot: true` nor a non-zero `runAsUser`, the image decides, and most images run
        as root. Root in the container widens every escape and file-permission mistake.""",
    remediation="Set `runAsNonRoot: true` and a non-zero `runAsUser` on the pod or container.",
    bad="securityContext: {runAsUser: 0}",
    good="securityContext: {runAsNonRoot: true, runAsUser: 10001}",
    references=(f"{CIS} 5.2.7", f"{PSS}: Restricted", f"{NSA}: Pod security"),
)
def run_as_root(c: Container) -> Iterator[Hit]:
    if _is_windows(c.pod, c):
        return
    user, user_path = c.security("runAsUser")  # the container's value, else the pod's
    non_root, non_root_path = c.security("runAsNonRoot")
    if _is_uid(user) and user == 0 and user_path is not None:
        yield Hit(user_path, f"{c.display} runs as root (runAsUser: 0)", fixes=(non_root_fix(c, 10001),))
    elif _is_uid(user) or non_root is True:
        return
    elif _templated(user) and user_path is not None:
        yield Hit(user_path, f"{c.display} sets runAsUser to `{user}`, known only at deploy time, and no "
                             "runAsNonRoot: true", confidence=Confidence.LOW)
    elif non_root is False and non_root_path is not None:
        yield Hit(non_root_path, f"{c.display} sets runAsNonRoot: false and no non-zero runAsUser: it runs as "
                                 "whatever user the image names, usually root", fixes=(non_root_fix(c, 10001),))
    elif not c.is_fragment:
        yield Hit(non_root_path or c.at("securityContext", "runAsNonRoot"),
                  f"{c.display} may run as root: neither it nor its pod sets runAsNonRoot: true or a non-zero "
                  "runAsUser", fixes=(non_root_fix(c, 10001),))


@rules.rule(
    id="KUBE-004", name="dangerous-capabilities", title="Container adds dangerous Linux capabilities",
    severity=Severity.HIGH, scope=Scope.CONTAINER,
    rationale="""
        Capabilities such as SYS_ADMIN, NET_ADMIN or SYS_PTRACE are close to root on the node: mounting
        filesystems, rewriting network configuration, reading other processes' memory. Any capability
        outside the runtime's default set widens what a compromised process can do.""",
    remediation="""
        Remove the capability from `capabilities.add`; drop ALL and add back only narrow ones from the
        Pod Security Standards baseline set (for example NET_BIND_SERVICE).""",
    bad="capabilities: {add: [SYS_ADMIN]}",
    good="capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}",
    references=(f"{CIS} 5.2.9", f"{PSS}: Baseline"),
)
def dangerous_capabilities(c: Container) -> Iterator[Hit]:
    for index, cap in _caps(c, "add"):
        path = c.at("securityContext", "capabilities", "add", index)
        fixes = (unsafe(f"remove capability {cap} from capabilities.add", RemoveKey(path)),)
        if cap in DANGEROUS_CAPABILITIES:
            yield Hit(path, f"{c.display} adds capability {cap}: {DANGEROUS_CAPABILITIES[cap]}", fixes=fixes)
        elif cap not in BASELINE_CAPABILITIES and not _templated(cap):
            yield Hit(path, f"{c.display} adds capability {cap}, outside the Pod Security Standards baseline set",
                      severity=Severity.MEDIUM, fixes=fixes)


@rules.rule(
    id="KUBE-005", name="capabilities-not-dropped", title="Container does not drop capabilities",
    severity=Severity.LOW, scope=Scope.CONTAINER,
    rationale="""
        Container runtimes grant a default set of capabilities, including NET_RAW (packet spoofing on the
        pod network). Dropping ALL removes what the process does not need.""",
    remediation="Add `capabilities: {drop: [ALL]}` to the container's securityContext.",
    bad="securityContext: {}",
    good="securityContext: {capabilities: {drop: [ALL]}}",
    references=(f"{CIS} 5.2.8", f"{PSS}: Restricted"),
)
def capabilities_not_dropped(c: Container) -> Iterator[Hit]:
    if _is_windows(c.pod, c):
        return
    dropped = [cap for _, cap in _caps(c, "drop")]
    if {"ALL", "NET_RAW"} & set(dropped):  # NET_RAW is the default capability that matters most
        return
    if dropped:
        yield Hit(c.at("securityContext", "capabilities", "drop"),
                  f"{c.display} drops {', '.join(dropped)} but neither ALL nor NET_RAW", fixes=(drop_all_fix(c),))
    elif not c.is_fragment:
        yield Hit(c.at("securityContext", "capabilities", "drop"),
                  f"{c.display} does not drop ALL capabilities: it keeps the runtime defaults, NET_RAW included",
                  fixes=(drop_all_fix(c),))


def _host_namespace_rule(field: str, rule_id: str, what: str, cis: str, risk: str):
    @rules.rule(
        id=rule_id, name=f"host-{field[4:].lower()}", title=f"Pod shares the host's {what}",
        severity=Severity.HIGH, scope=Scope.POD,
        rationale=f"""
            `{field}: true` puts the pod in the node's {what}, so it can see and reach what other pods and
            the node itself keep apart: {risk}.""",
        remediation=f"Remove `{field}: true`.",
        bad=f"spec: {{{field}: true}}",
        good=f"spec: {{{field}: false}}",
        references=(f"{CIS} {cis}", f"{PSS}: Baseline"),
    )
    def check(pod: PodSpec) -> Iterator[Hit]:
        value = pod.get(field)
        if value is True:
            yield Hit(pod.at(field), f"{pod.display} sets {field}: true ({risk})",
                      fixes=(host_namespace_fix(pod, field),))
        elif _templated(value):
            yield Hit(pod.at(field), f"{pod.display} sets {field} to `{value}`, known only at deploy time",
                      confidence=Confidence.LOW)

    return check


host_network = _host_namespace_rule(
    "hostNetwork", "KUBE-006", "network namespace", "5.2.5",
    "node-local services, the node's interfaces and traffic, no NetworkPolicy")
host_pid = _host_namespace_rule(
    "hostPID", "KUBE-007", "process ID namespace", "5.2.3",
    "every process on the node is visible, with its environment and command line")
host_ipc = _host_namespace_rule(
    "hostIPC", "KUBE-008", "IPC namespace", "5.2.4",
    "shared memory and IPC objects of every process on the node")

# Host paths that hand over the node: runtime sockets, kubelet credentials, system configuration.
SENSITIVE_HOST_PATHS = ("/", "/etc", "/root", "/home", "/proc", "/sys", "/dev", "/boot", "/var/run", "/run",
                        "/var/lib/kubelet", "/var/lib/docker", "/var/lib/containerd", "/var/log", "/usr", "/lib")


def _sensitive_host_path(path: str) -> bool:
    path = "/" + path.strip("/") if path.strip("/") else "/"
    if path.endswith(".sock") or path == "/":
        return True
    return any(path == p or path.startswith(p + "/") for p in SENSITIVE_HOST_PATHS if p != "/")


@rules.rule(
    id="KUBE-009", name="host-path-volume", title="Pod mounts a hostPath volume",
    severity=Severity.MEDIUM, scope=Scope.POD,
    rationale="""
        A hostPath volume exposes the node's filesystem: runtime sockets, kubelet credentials and other pods'
        data are a path away. Mounting `/`, `/proc`, `/etc`, `/var/run` or a runtime socket hands over the
        node.""",
    remediation="Use a PersistentVolumeClaim, a ConfigMap, a Secret or an emptyDir instead of hostPath.",
    bad="volumes: [{name: data, hostPath: {path: /var/lib/data}}]",
    good="volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]",
    references=(f"{CIS} 5.2.12", f"{PSS}: Baseline"),
)
def host_path_volume(pod: PodSpec) -> Iterator[Hit]:
    for index, volume in pod.volumes:
        if isinstance(volume.get("hostPath"), dict):
            path = volume["hostPath"].get("path")
            name = volume.get("name", index)
            if isinstance(path, str) and not _templated(path) and _sensitive_host_path(path):
                yield Hit(pod.at("volumes", index, "hostPath"),
                          f"{pod.display} mounts sensitive host path {path} (volume `{name}`)",
                          severity=Severity.HIGH)
            else:
                yield Hit(pod.at("volumes", index, "hostPath"),
                          f"{pod.display} mounts host path {path if path is not None else '?'} (volume `{name}`)")


@rules.rule(
    id="KUBE-010", name="writable-root-filesystem", title="Container root filesystem is writable",
    severity=Severity.LOW, scope=Scope.CONTAINER,
    rationale="""
        A writable root filesystem lets an intruder drop tools and persist changes to binaries and
        configuration for the life of the container.""",
    remediation="Set `readOnlyRootFilesystem: true` and mount emptyDir volumes where the process must write.",
    bad="securityContext: {}",
    good="""
        securityContext: {readOnlyRootFilesystem: true}
        volumeMounts: [{name: tmp, mountPath: /tmp}]""",
    references=(f"{NSA}: Pod security",),
)
def writable_root_filesystem(c: Container) -> Iterator[Hit]:
    if _is_windows(c.pod, c):
        return
    value = c.get("securityContext", "readOnlyRootFilesystem")
    path = c.at("securityContext", "readOnlyRootFilesystem")
    if value is True:
        return
    if _templated(value):
        yield Hit(path, f"{c.display} sets readOnlyRootFilesystem to `{value}`, known only at deploy time",
                  confidence=Confidence.LOW)
    elif value is False:
        yield Hit(path, f"{c.display} sets readOnlyRootFilesystem: false", fixes=(read_only_root_fix(c),))
    elif not c.is_fragment:
        yield Hit(path, f"{c.display} does not set readOnlyRootFilesystem: true", fixes=(read_only_root_fix(c),))


def _resource_rule(section: str, resource: str, rule_id: str, severity: Severity):
    noun = {"limits": "limit", "requests": "request"}[section]
    effect = {
        ("limits", "cpu"): "it can take every core of the node and starve its neighbours",
        ("limits", "memory"): "it can exhaust the node's memory and get other pods OOM-killed or evicted",
        ("requests", "cpu"): "the scheduler reserves no CPU for it, so it is throttled first under contention",
        ("requests", "memory"): "the scheduler reserves no memory for it, so it is evicted first under pressure",
    }[section, resource]

    @rules.rule(
        id=rule_id, name=f"missing-{resource}-{noun}", title=f"Container has no {resource} {noun}",
        severity=severity, scope=Scope.CONTAINER,
        rationale=f"""
            Without a {resource} {noun} a container can starve its neighbours or the node, and the scheduler
            cannot place it sensibly.""",
        remediation=f"Set `resources.{section}.{resource}` on every container.",
        bad="resources: {}",
        good=f"resources: {{{section}: {{{resource}: {'500m' if resource == 'cpu' else '512Mi'}}}}}",
        references=(f"{CIS} 5.7.x", f"{NSA}: Pod security"),
    )
    def check(c: Container) -> Iterator[Hit]:
        # Init containers run alone before the others; ephemeral containers cannot have resources;
        # KServe shorthands, image-less containers and patches take resources from elsewhere.
        if c.init or _ephemeral(c) or c.is_fragment:
            return
        if c.resources(section).get(resource) not in (None, ""):
            return
        if section == "requests" and c.resources("limits").get(resource) not in (None, ""):
            return  # an unset request defaults to the limit
        extra = " (nor a limit it would default to)" if section == "requests" else ""
        yield Hit(c.at("resources", section, resource), f"{c.display} has no {resource} {noun}{extra}: {effect}",
                  fixes=limit_from_request_fixes(c, resource) if section == "limits" else ())

    return check


missing_cpu_limit = _resource_rule("limits", "cpu", "KUBE-011", Severity.LOW)
missing_memory_limit = _resource_rule("limits", "memory", "KUBE-012", Severity.MEDIUM)
missing_cpu_request = _resource_rule("requests", "cpu", "KUBE-013", Severity.LOW)
missing_memory_request = _resource_rule("requests", "memory", "KUBE-014", Severity.LOW)


def _service_account(pod: PodSpec) -> K8sObject | None:
    """The ServiceAccount object the pod runs as, when the scan holds it next to the pod.

    A repository can define one name many times (samples, overlays); the definition deployed with the
    pod is the nearest one. The implicit `default` account is only taken from the pod's own folder.
    """
    name, namespace = pod.service_account, pod.inventory.namespace_of(pod.obj)
    best, best_score = None, 0
    for account in pod.inventory.named("ServiceAccount", name):
        if not _same_namespace(pod.inventory.namespace_of(account), namespace):
            continue
        score = pod.inventory.deployed_together(pod.obj, account)
        if score > best_score and (name != "default" or score >= 3):
            best, best_score = account, score
    return best


def _same_namespace(a: Any, b: Any) -> bool:
    """Namespaces as written; one left to the deploy-time default matches any."""
    return not a or not b or a == b


def _binding_of(account: K8sObject, inventory: Inventory) -> K8sObject | None:
    subjects = inventory.memo(("service-account-subjects",), lambda: _service_account_subjects(inventory))
    for binding, subject in subjects.get(account.name, ()):
        if _same_namespace(subject.get("namespace") or binding.namespace, account.namespace):
            return binding
    return None


def _service_account_subjects(inventory: Inventory) -> dict[str, list[tuple[K8sObject, dict]]]:
    """Each ServiceAccount subject of the scan's bindings by account name, in inventory order: looking through
    every binding for every pod grows with the square of a monorepo."""
    found: dict[str, list[tuple[K8sObject, dict]]] = defaultdict(list)
    for binding in inventory.of_kind("RoleBinding", "ClusterRoleBinding"):
        for subject in _as_list(binding.get("subjects")):
            if isinstance(subject, dict) and subject.get("kind") == "ServiceAccount" and \
                    isinstance(subject.get("name"), str):
                found[subject["name"]].append((binding, subject))
    return found


@rules.rule(
    id="KUBE-015", name="service-account-token-automount", title="Service-account token is mounted automatically",
    severity=Severity.LOW, scope=Scope.POD,
    rationale="""
        Most workloads never call the Kubernetes API, yet every pod gets a token for its service account.
        After a compromise that token is free lateral movement.""",
    remediation="""
        Set `automountServiceAccountToken: false` on the pod (or its ServiceAccount); a pod that does call
        the API can mount a projected token volume in the one container that needs it.""",
    bad="spec: {containers: [...]}",
    good="spec: {automountServiceAccountToken: false, containers: [...]}",
    references=(f"{CIS} 5.1.6", f"{NSA}: Authentication and authorization"),
)
def token_automount(pod: PodSpec) -> Iterator[Hit]:
    if pod.obj.kind in SERVING_RUNTIME_KINDS:
        return  # a runtime has no service account: its pods run as the InferenceService's
    setting = pod.get("automountServiceAccountToken")
    if setting is False:
        return
    if setting is True:
        yield Hit(pod.at("automountServiceAccountToken"),
                  f"{pod.display} sets automountServiceAccountToken: true for service account "
                  f"`{pod.service_account}`", fixes=(token_fix(pod.at("automountServiceAccountToken")),))
        return
    if _templated(setting):
        yield Hit(pod.at("automountServiceAccountToken"),
                  f"{pod.display} sets automountServiceAccountToken to `{setting}`, known only at deploy time",
                  confidence=Confidence.LOW)
        return
    if pod.inventory.is_patch(pod.obj):
        return
    account = _service_account(pod)
    if account is None:
        yield Hit(pod.at("automountServiceAccountToken"),
                  f"{pod.display} mounts the token of service account `{pod.service_account}`: neither the pod "
                  "nor a ServiceAccount in the scan sets automountServiceAccountToken: false",
                  fixes=(token_fix(pod.at("automountServiceAccountToken")),))
        return
    if account.get("automountServiceAccountToken") is False:
        return
    # Neither disables it: the ServiceAccount is the one place that fixes every pod using it.
    binding = _binding_of(account, pod.inventory)
    note = f"; {binding.ref} grants it a role, so the pod may need the API" if binding else ""
    yield Hit(account.at("automountServiceAccountToken"),
              f"service account `{account.name}` mounts its token into {pod.display}; neither sets "
              f"automountServiceAccountToken: false{note}", obj=account,
              confidence=Confidence.LOW if binding else None,
              related=(RelatedHit(pod.obj, pod.path, f"{pod.display} uses it"),),
              fixes=(token_fix(account.at("automountServiceAccountToken")),))


@rules.rule(
    id="KUBE-016", name="default-service-account", title="Default service account is used or left active",
    severity=Severity.LOW, scope=Scope.OBJECT,
    kinds=("ServiceAccount", "RoleBinding", "ClusterRoleBinding"),
    rationale="""
        Every pod that names no service account runs as the namespace's `default` one. Granting it RBAC
        or leaving its token automounted gives those permissions to every such pod.""",
    remediation="""
        Set `automountServiceAccountToken: false` on the `default` ServiceAccount, give each workload its
        own ServiceAccount, and never bind roles to `default` (or to the `system:serviceaccounts` groups).""",
    bad="""
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: default}""",
    good="""
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: default}
        automountServiceAccountToken: false""",
    references=(f"{CIS} 5.1.5",),
)
def default_service_account(obj: K8sObject, inventory: Inventory) -> Iterator[Hit]:
    if obj.kind == "ServiceAccount":
        if obj.name == "default" and obj.get("automountServiceAccountToken") is not False:
            yield Hit(obj.at("automountServiceAccountToken"),
                      f"{obj.ref}: the default service account does not set automountServiceAccountToken: false, "
                      "so every pod that names no account gets its token",
                      fixes=(token_fix(obj.at("automountServiceAccountToken")),))
        return
    role = obj.get("roleRef", "name") or "?"
    for index, subject in enumerate(_as_list(obj.get("subjects"))):
        if not isinstance(subject, dict):
            continue
        kind, name = subject.get("kind"), str(subject.get("name") or "")
        if kind == "ServiceAccount" and name == "default":
            yield Hit(obj.at("subjects", index),
                      f"{obj.ref} grants role `{role}` to the `default` service account of namespace "
                      f"`{subject.get('namespace') or obj.effective_namespace}`, so to every pod that names no account")
        elif kind == "Group" and (name == "system:serviceaccounts" or name.startswith("system:serviceaccounts:")):
            yield Hit(obj.at("subjects", index),
                      f"{obj.ref} grants role `{role}` to group `{name}`, which holds every service account "
                      "(`default` included)")


_NAME_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_REFERENCE = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?"
    rf"{_NAME_COMPONENT}(?:/{_NAME_COMPONENT})*(?::[\w][\w.-]{{0,127}})?(?:@[a-z0-9]+:[0-9a-fA-F]{{32,}})?$"
)


def _placeholder_image(image: str) -> bool:
    """Not a valid reference (`FILLED BY THE OPERATOR`, `ko://...`, `gcr.io/YOUR_PROJECT/app`): a stand-in."""
    return not _IMAGE_REFERENCE.match(image)


def _kustomized_images(c: Container) -> list[tuple[str, K8sObject]]:
    """The image as rewritten by each Kustomization `images:` entry whose build includes this manifest."""
    index = c.pod.inventory.kustomize
    if not index.images:
        return []
    repository = image_repository(c.image)
    rewritten = []
    for kustomization, _, entry in index.images_named.get(repository, ()):
        if not index.reaches(kustomization, c.obj.file):
            continue
        digest = entry.get("digest") or image_digest(c.image)
        tag = entry.get("newTag") if entry.get("newTag") is not None else image_tag(c.image)
        image = str(entry.get("newName") or repository) + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
        rewritten.append((image, kustomization))
    return rewritten


@rules.rule(
    id="KUBE-017", name="image-latest-tag", title="Image has no tag or uses `latest`",
    severity=Severity.MEDIUM, scope=Scope.CONTAINER,
    rationale="""
        `latest` (or no tag) means every pull may get different software: rollbacks stop working and an
        upstream push changes production without review.""",
    remediation="Pin a version tag, and preferably a digest: `image: repo/app:1.4.2@sha256:...`.",
    bad="image: nginx:latest",
    good="image: nginx:1.27.2@sha256:<digest>",
    references=(f"{CIS} 5.5.1",),
)
def image_latest_tag(c: Container) -> Iterator[Hit]:
    if not c.image or is_templated(c.image) or image_digest(c.image):
        return
    tag = image_tag(c.image)
    if tag is not None and tag != "latest":
        return
    if tag is None and _placeholder_image(c.image):
        return
    rewritten = _kustomized_images(c)
    if any(image_digest(image) or image_tag(image) not in (None, "latest") for image, _ in rewritten):
        return  # Kustomize pins it
    note = f" (and {rewritten[0][1].file} rewrites it to `{rewritten[0][0]}`)" if rewritten else ""
    if tag is None:
        yield Hit(c.at("image"), f"{c.display} uses image `{c.image}` with no tag, which pulls `latest`{note}")
    else:
        yield Hit(c.at("image"), f"{c.display} uses image `{c.image}`: `latest` changes with every push{note}")


@rules.rule(
    id="KUBE-018", name="image-not-pinned-by-digest", title="Image is not pinned by digest",
    severity=Severity.LOW, scope=Scope.CONTAINER, confidence=Confidence.MEDIUM,
    rationale="Tags are mutable: whoever can push to the repository can change what a tag points to.",
    remediation="Reference images by digest (`@sha256:...`), keeping the tag for readers.",
    bad="image: nginx:1.27.2",
    good="image: nginx:1.27.2@sha256:<digest>",
    references=(f"{CIS} 5.5.1",),
)
def image_not_pinned(c: Container) -> Iterator[Hit]:
    if not c.image or is_templated(c.image) or image_digest(c.image) or _placeholder_image(c.image):
        return
    if any(image_digest(image) for image, _ in _kustomized_images(c)):
        return
    yield Hit(c.at("image"), f"{c.display} uses image `{c.image}` without a digest: the tag can be moved")


@rules.rule(
    id="KUBE-019", name="service-exposed-externally", title="Service is reachable from outside the cluster",
    severity=Severity.MEDIUM, scope=Scope.OBJECT, kinds=("Service",), confidence=Confidence.MEDIUM,
    rationale="""
        A LoadBalancer, NodePort or externalIPs Service publishes its pods beyond the cluster network,
        bypassing the ingress layer where authentication and TLS usually live.""",
    remediation="""
        Use `type: ClusterIP` behind an authenticated Ingress or Gateway, or an internal load balancer with
        `loadBalancerSourceRanges`.""",
    bad="spec: {type: LoadBalancer}",
    good="""
        metadata:
          annotations: {service.beta.kubernetes.io/aws-load-balancer-scheme: internal}
        spec: {type: LoadBalancer, loadBalancerSourceRanges: [10.0.0.0/8]}""",
    references=(f"{NSA}: Network separation and hardening",),
)
def service_exposed(obj: K8sObject, inventory: Inventory) -> Iterator[Hit]:
    exposure = external_exposure(obj)
    if exposure is None:
        return
    ranges = obj.get("spec", "loadBalancerSourceRanges")
    if not ranges:  # the older annotation spelling of the same field
        annotation = obj.annotations.get("service.beta.kubernetes.io/load-balancer-source-ranges")
        ranges = [r.strip() for r in annotation.split(",") if r.strip()] if isinstance(annotation, str) else None
    if exposure == "type LoadBalancer" and isinstance(ranges, list) and ranges and \
            not any(str(r).endswith("/0") for r in ranges):
        return
    ports = [str(p.get("port")) for p in _as_list(obj.get("spec", "ports")) if isinstance(p, dict) and p.get("port")]
    on = f" on port{'s' if len(ports) > 1 else ''} {', '.join(ports)}" if ports else ""
    field_name = "externalIPs" if exposure == "externalIPs" else "type"
    yield Hit(obj.at("spec", field_name), f"{obj.ref} is exposed outside the cluster ({exposure}){on}")


def _pod_labels(pod: PodSpec) -> dict:
    """The labels the pods will carry, including those the ML operators add to what they create."""
    obj, labels = pod.obj, {}
    if obj.kind in ("InferenceService", "LLMInferenceService"):
        labels.update(obj.labels)
        labels.update({"serving.kserve.io/inferenceservice": obj.name, "component": pod.role})
        extra = pod.get("labels")
        if isinstance(extra, dict):
            labels.update(extra)
    elif obj.kind in ("RayCluster", "RayService", "RayJob"):
        labels.update({"ray.io/is-ray-node": "yes", "ray.io/node-type": "head" if pod.role == "head" else "worker"})
        if obj.kind == "RayCluster":
            labels["ray.io/cluster"] = obj.name
    elif obj.kind == "SeldonDeployment":
        labels.update(obj.labels)
        labels["seldon-deployment-id"] = obj.name
    elif obj.kind == "Notebook":
        labels.update({"notebook-name": obj.name, "statefulset": obj.name})
    labels.update(pod.labels)
    return labels


_CALICO_EQUALS = re.compile(r"""([\w./-]+)\s*(==|!=)\s*(['"])(.*?)\3""")
_CALICO_HAS = re.compile(r"(!?)\s*has\(\s*([\w./-]+)\s*\)")


def _calico_selects(selector: Any, labels: dict) -> bool:
    """Calico's selector expressions; anything beyond `a == 'b' && has(c)` counts as selecting."""
    if selector is None or str(selector).strip() in ("", "all()"):
        return True
    text = str(selector)
    if "||" in text or "(" in text.replace("has(", "").replace("all()", ""):
        return True
    for clause in (part.strip() for part in text.split("&&")):
        if match := _CALICO_EQUALS.fullmatch(clause):
            if (labels.get(match.group(1)) == match.group(4)) != (match.group(2) == "=="):
                return False
        elif match := _CALICO_HAS.fullmatch(clause):
            if (match.group(2) in labels) == bool(match.group(1)):
                return False
        elif clause != "all()":
            return True
    return True


def _cilium_selects(selector: Any, labels: dict, namespace: str) -> bool:
    if not isinstance(selector, dict):
        return False

    def bare(key: Any) -> str:
        key = str(key)
        for prefix in ("k8s:", "any:"):
            key = key.removeprefix(prefix)
        return key

    plain = {
        "matchLabels": {bare(k): v for k, v in (selector.get("matchLabels") or {}).items()}
        if isinstance(selector.get("matchLabels"), dict) else {},
        "matchExpressions": [dict(e, key=bare(e.get("key"))) for e in _as_list(selector.get("matchExpressions"))
                             if isinstance(e, dict)],
    }
    return selects(plain, dict(labels, **{"io.kubernetes.pod.namespace": namespace}))


NAMESPACED_POLICY_KINDS = ("NetworkPolicy", "CiliumNetworkPolicy")


def _policy_candidates(pod: PodSpec) -> list[K8sObject]:
    """The policies ``_policy_selects`` may accept for the pod, found without pairing the pod with every policy
    of the scan: the cluster-wide ones, those of its namespace, and those deployed with it (and a few more)."""
    inventory = pod.inventory
    cluster_wide = inventory.of_kind(*(k for k in POLICY_KINDS if k not in NAMESPACED_POLICY_KINDS))
    near = inventory.near(pod.obj, *NAMESPACED_POLICY_KINDS)
    namespace = inventory.namespace_of(pod.obj)
    if not namespace:
        return cluster_wide + near
    by_namespace = inventory.memo(("policies by namespace",), lambda: _by_namespace(inventory, NAMESPACED_POLICY_KINDS))
    return cluster_wide + by_namespace.get(namespace, []) + near


def _by_namespace(inventory: Inventory, kinds: tuple[str, ...]) -> dict[str, list[K8sObject]]:
    found: dict[str, list[K8sObject]] = {}
    for obj in inventory.of_kind(*kinds):
        found.setdefault(inventory.namespace_of(obj), []).append(obj)
    return found


def _policy_selects(policy: K8sObject, pod: PodSpec, labels: dict) -> bool:
    """Whether a network policy of any common flavour applies to pods with these labels."""
    kind, group, namespace = policy.kind, policy.group, pod.inventory.namespace_of(pod.obj)
    if kind in ("NetworkPolicy", "CiliumNetworkPolicy"):
        policy_namespace = pod.inventory.namespace_of(policy)
        if policy_namespace and namespace:
            if policy_namespace != namespace:
                return False
        elif pod.inventory.deployed_together(pod.obj, policy) == 0:
            return False  # the namespace is chosen at deploy time: only a policy deployed with the pod counts
    spec = policy.get("spec")
    if kind == "NetworkPolicy" and group == "networking.k8s.io":
        if not isinstance(spec, dict):
            return False
        selector = spec.get("podSelector")
        return selects({} if selector is None else selector, labels)  # omitted means every pod
    if group.endswith("projectcalico.org") and kind in ("NetworkPolicy", "GlobalNetworkPolicy"):
        return isinstance(spec, dict) and _calico_selects(spec.get("selector"), labels)
    if group == "cilium.io" and kind in ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"):
        specs = [spec] + _as_list(policy.get("specs"))
        return any(isinstance(s, dict) and _cilium_selects(s.get("endpointSelector"), labels, namespace)
                   for s in specs)
    return group == "policy.networking.k8s.io" and kind in ("AdminNetworkPolicy", "BaselineAdminNetworkPolicy")


POLICY_KINDS = ("NetworkPolicy", "GlobalNetworkPolicy", "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy",
                "AdminNetworkPolicy", "BaselineAdminNetworkPolicy")


@rules.rule(
    id="KUBE-020", name="pod-without-network-policy", title="Pod is not selected by any NetworkPolicy",
    severity=Severity.LOW, scope=Scope.POD, confidence=Confidence.MEDIUM,
    rationale="""
        Pods that no NetworkPolicy selects accept traffic from every pod in the cluster and may connect
        anywhere: one compromised pod reaches them all.""",
    remediation="Add a default-deny NetworkPolicy to the namespace and allow only the flows the pod needs.",
    bad="# no NetworkPolicy in namespace ml",
    good="""
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: default-deny, namespace: ml}
        spec: {podSelector: {}, policyTypes: [Ingress, Egress]}""",
    references=(f"{CIS} 5.3.2", f"{NSA}: Network separation and hardening"),
)
def pod_without_network_policy(pod: PodSpec) -> Iterator[Hit]:
    if pod.obj.kind in SERVING_RUNTIME_KINDS or pod.role == "submitter":
        return
    if pod.get("hostNetwork") is True:
        return  # KUBE-006 already says it: NetworkPolicy does not apply to host-network pods
    if pod.inventory.is_patch(pod.obj):
        return
    labels = _pod_labels(pod)
    for policy in _policy_candidates(pod):
        if _policy_selects(policy, pod, labels):
            return
    yield Hit(pod.meta_path + ("labels",) if pod.meta_path else pod.path,
              f"{pod.display} is not selected by any NetworkPolicy in namespace "
              f"`{pod.inventory.namespace_of(pod.obj) or 'default'}`: "
              "every pod in the cluster can reach it and it can connect anywhere")


RBAC_KINDS = ("Role", "ClusterRole")
READ_VERBS = frozenset({"get", "list", "watch"})
# Resources whose write (or read, for secrets) access is a step to cluster takeover.
SENSITIVE_RESOURCES = frozenset(
    {"secrets", "pods", "pods/exec", "pods/attach", "pods/ephemeralcontainers", "serviceaccounts",
     "serviceaccounts/token", "roles", "rolebindings", "clusterroles", "clusterrolebindings", "nodes", "nodes/proxy",
     "deployments", "daemonsets", "statefulsets", "replicasets", "replicationcontrollers", "jobs", "cronjobs",
     "persistentvolumes", "certificatesigningrequests", "mutatingwebhookconfigurations",
     "validatingwebhookconfigurations", "customresourcedefinitions"}
)


def _rbac_rules(obj: K8sObject) -> Iterator[tuple[int, dict]]:
    for index, rule in enumerate(_as_list(obj.get("rules"))):
        if isinstance(rule, dict):
            yield index, rule


def _listed(rule: dict, key: str) -> list[str]:
    values = rule.get(key)
    return [str(v) for v in values] if isinstance(values, list) else []


def _aggregated_into(obj: K8sObject) -> str:
    """The role a ClusterRole is aggregated into (its rules reach whoever holds that role), or ""."""
    for key, value in obj.labels.items():
        if "aggregate-to-" in str(key) and str(value).lower() == "true":
            return str(key).rpartition("aggregate-to-")[2]
    return ""


def _wildcard_severity(groups: list[str], resources: list[str], verbs: list[str]) -> Severity:
    read_only = bool(verbs) and set(verbs) <= READ_VERBS
    if "*" in resources:
        if "*" in groups or "" in groups:
            return Severity.HIGH  # every core resource: Secrets, pods, service-account tokens
        return Severity.LOW if read_only else Severity.MEDIUM  # every resource of named API groups
    if "*" in verbs:
        return Severity.HIGH if set(resources) & SENSITIVE_RESOURCES else Severity.MEDIUM
    return Severity.MEDIUM if not read_only else Severity.LOW  # only apiGroups is a wildcard


@rules.rule(
    id="KUBE-021", name="rbac-wildcard", title="RBAC rule uses wildcards",
    severity=Severity.HIGH, scope=Scope.OBJECT, kinds=RBAC_KINDS,
    rationale="""
        `*` in apiGroups, resources or verbs grants everything that exists now and everything added later,
        including Secrets and privileged workload creation.""",
    remediation="List the exact apiGroups, resources and verbs the subject needs.",
    bad='rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]',
    good='rules: [{apiGroups: [""], resources: ["configmaps"], verbs: ["get"]}]',
    references=(f"{CIS} 5.1.3",),
)
def rbac_wildcard(obj: K8sObject, inventory: Inventory) -> Iterator[Hit]:
    for index, rule in _rbac_rules(obj):
        groups, resources, verbs = (_listed(rule, key) for key in ("apiGroups", "resources", "verbs"))
        wild = [key for key, values in (("apiGroups", groups), ("resources", resources), ("verbs", verbs))
                if "*" in values]
        if not wild:
            continue
        scope = ", ".join(f"{key} [{', '.join(v or chr(34) * 2 for v in values)}]"
                          for key, values in (("apiGroups", groups), ("resources", resources), ("verbs", verbs))
                          if key not in wild)
        yield Hit(obj.at("rules", index, wild[0]),
                  f"{obj.ref} grants `*` in {' and '.join(wild)}" + (f" (with {scope})" if scope else ""),
                  severity=_wildcard_severity(groups, resources, verbs))


@rules.rule(
    id="KUBE-022", name="rbac-read-secrets", title="RBAC rule can read Secrets",
    severity=Severity.HIGH, scope=Scope.OBJECT, kinds=RBAC_KINDS,
    rationale="Reading Secrets yields credentials for databases, registries, clouds and other service accounts.",
    remediation="Remove `secrets` from the rule, or restrict it with `resourceNames` to the one Secret needed.",
    bad='rules: [{apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"]}]',
    good='rules: [{apiGroups: [""], resources: ["secrets"], resourceNames: ["model-token"], verbs: ["get"]}]',
    references=(f"{CIS} 5.1.2",),
)
def rbac_read_secrets(obj: K8sObject, inventory: Inventory) -> Iterator[Hit]:
    for index, rule in _rbac_rules(obj):
        if "secrets" not in _listed(rule, "resources") or rule.get("resourceNames"):
            continue
        groups = rule.get("apiGroups")
        if isinstance(groups, list) and not {"", "*"} & set(_listed(rule, "apiGroups")):
            continue  # Secrets live in the core API group only
        verbs = set(_listed(rule, "verbs")) & (READ_VERBS | {"*"})
        if verbs:
            scope = "in the whole cluster" if obj.kind == "ClusterRole" else "in its namespace"
            yield Hit(obj.at("rules", index, "verbs"),
                      f"{obj.ref} can {'/'.join(sorted(verbs))} every Secret {scope}")


@rules.rule(
    id="KUBE-023", name="cluster-admin-binding", title="Binding grants cluster-admin",
    severity=Severity.HIGH, scope=Scope.OBJECT, kinds=("RoleBinding", "ClusterRoleBinding"),
    rationale="cluster-admin is every permission on every resource; a compromised subject owns the cluster.",
    remediation="Bind a Role or ClusterRole that lists only the permissions the subject needs.",
    bad="roleRef: {kind: ClusterRole, name: cluster-admin}",
    good="roleRef: {kind: Role, name: model-reader}",
    references=(f"{CIS} 5.1.1",),
)
def cluster_admin_binding(obj: K8sObject, inventory: Inventory) -> Iterator[Hit]:
    if obj.get("roleRef", "name") == "cluster-admin" and obj.get("roleRef", "kind") in (None, "ClusterRole"):
        subjects = [f"{s.get('kind', '?')} `{s.get('name', '?')}`" for s in _as_list(obj.get("subjects"))
                    if isinstance(s, dict)]
        where = "in the whole cluster" if obj.kind == "ClusterRoleBinding" else \
            f"in namespace `{obj.effective_namespace}`"
        yield Hit(obj.at("roleRef", "name"),
                  f"{obj.ref} binds cluster-admin {where}" + (f" to {', '.join(subjects)}" if subjects else ""))


@rules.rule(
    id="KUBE-024", name="secret-in-environment", title="Secret exposed through environment variables",
    severity=Severity.LOW, scope=Scope.CONTAINER,
    rationale="""
        Environment variables leak into child processes, crash dumps, debug endpoints and logs; Secrets are
        safer as files from a volume.""",
    remediation="Mount the Secret as a volume (`secret: {secretName: ...}`) and read it from the file.",
    bad="env: [{name: TOKEN, valueFrom: {secretKeyRef: {name: api, key: token}}}]",
    good="volumes: [{name: api, secret: {secretName: api}}]",
    references=(f"{CIS} 5.4.1",),
)
def secret_in_environment(c: Container) -> Iterator[Hit]:
    for index, entry in enumerate(_as_list(c.get("env"))):
        if isinstance(entry, dict) and isinstance(entry.get("valueFrom"), dict) and \
                isinstance(entry["valueFrom"].get("secretKeyRef"), dict):
            yield Hit(c.at("env", index, "valueFrom", "secretKeyRef"),
                      f"{c.display} reads Secret `{entry['valueFrom']['secretKeyRef'].get('name', '?')}` "
                      f"into variable {entry.get('name', '?')}")
    for index, source in enumerate(_as_list(c.get("envFrom"))):
        if isinstance(source, dict) and isinstance(source.get("secretRef"), dict):
            yield Hit(c.at("envFrom", index, "secretRef"),
                      f"{c.display} loads every key of Secret `{source['secretRef'].get('name', '?')}` into its "
                      "environment")


SECCOMP_OK = ("runtime/default", "docker/default", "localhost/")


def _seccomp_annotation(pod: PodSpec, container: Container) -> str | None:
    """The seccomp annotations older clusters honour (container-specific first)."""
    annotations = pod.annotations
    value = annotations.get(f"container.seccomp.security.alpha.kubernetes.io/{container.name}")
    return value if value is not None else annotations.get("seccomp.security.alpha.kubernetes.io/pod")


@rules.rule(
    id="KUBE-025", name="seccomp-not-enforced", title="No seccomp profile, or seccomp Unconfined",
    severity=Severity.MEDIUM, scope=Scope.CONTAINER,
    rationale="""
        Without a seccomp profile the container may call every system call, including the rarely used ones
        behind most kernel privilege escalations.""",
    remediation="Set `securityContext.seccompProfile.type: RuntimeDefault` on the pod (or Localhost).",
    bad="securityContext: {seccompProfile: {type: Unconfined}}",
    good="securityContext: {seccompProfile: {type: RuntimeDefault}}",
    references=(f"{CIS} 5.7.2", f"{PSS}: Restricted"),
)
def seccomp(c: Container) -> Iterator[Hit]:
    if _is_windows(c.pod, c):
        return
    profile, path = c.security("seccompProfile")  # the container's, else the pod's
    if isinstance(profile, dict) and path is not None:
        kind = profile.get("type")
        if kind in ("RuntimeDefault", "Localhost"):
            return
        if _templated(kind):
            yield Hit(path + ("type",), f"{c.display} sets seccomp profile type `{kind}`, known only at deploy time",
                      confidence=Confidence.LOW)
        else:
            yield Hit(path + ("type",), f"{c.display} runs with seccomp profile `{kind}`: every system call is allowed",
                      fixes=(seccomp_fix(c, path + ("type",)),))
        return
    annotation = _seccomp_annotation(c.pod, c)
    if annotation is not None and str(annotation).startswith(SECCOMP_OK):
        return
    if annotation is not None:
        yield Hit(c.at("securityContext", "seccompProfile"),
                  f"{c.display} has seccomp annotation `{annotation}` and no seccompProfile: every system call "
                  "is allowed", fixes=(seccomp_fix(c),))
    elif not c.is_fragment:
        yield Hit(c.at("securityContext", "seccompProfile"),
                  f"{c.display} has no seccomp profile (neither it nor its pod sets seccompProfile), so it runs "
                  "Unconfined unless the kubelet defaults to RuntimeDefault", fixes=(seccomp_fix(c),))


APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


@rules.rule(
    id="KUBE-026", name="apparmor-disabled", title="AppArmor disabled or invalid for a container",
    severity=Severity.MEDIUM, scope=Scope.CONTAINER,
    rationale="""
        An `unconfined` AppArmor profile (or an invalid one) removes the mandatory access control layer
        that limits what a compromised process can touch on the node.""",
    remediation="Use `runtime/default` or a `localhost/<profile>` AppArmor profile.",
    bad="annotations: {container.apparmor.security.beta.kubernetes.io/app: unconfined}",
    good="securityContext: {appArmorProfile: {type: RuntimeDefault}}",
    references=(f"{PSS}: Baseline",),
)
def apparmor(c: Container) -> Iterator[Hit]:
    if _is_windows(c.pod, c):
        return
    profile, path = c.security("appArmorProfile")  # the container's, else the pod's
    if isinstance(profile, dict) and path is not None and profile.get("type") == "Unconfined":
        yield Hit(path + ("type",), f"{c.display} runs with AppArmor profile Unconfined")
        return
    key = APPARMOR_ANNOTATION + c.name
    value = c.pod.annotations.get(key)
    if value is None or str(value).startswith(("runtime/default", "localhost/")) or _templated(value):
        return
    meta = c.pod.meta_path or c.obj.at("metadata")
    what = "is unconfined" if str(value) == "unconfined" else "is not runtime/default or localhost/<profile>"
    yield Hit(meta + ("annotations", key), f"{c.display} has AppArmor profile `{value}`, which {what}")


@rules.rule(
    id="KUBE-027", name="host-port", title="Container binds a host port",
    severity=Severity.MEDIUM, scope=Scope.CONTAINER,
    rationale="A hostPort opens the port on the node's address, bypassing Services and most NetworkPolicies.",
    remediation="Remove `hostPort` and expose the port through a Service.",
    bad="ports: [{containerPort: 8080, hostPort: 8080}]",
    good="ports: [{containerPort: 8080}]",
    references=(f"{PSS}: Baseline",),
)
def host_port(c: Container) -> Iterator[Hit]:
    for index, port in enumerate(_as_list(c.get("ports"))):
        if isinstance(port, dict) and port.get("hostPort") not in (None, 0, ""):
            yield Hit(c.at("ports", index, "hostPort"),
                      f"{c.display} binds host port {port['hostPort']} on every node it runs on",
                      fixes=(unsafe("remove hostPort", RemoveKey(c.at("ports", index, "hostPort"))),))


WRITE_VERBS = frozenset({"create", "update", "patch", "*"})
# resource -> verbs that let the subject run code (or obtain credentials) as some service account
ESCALATING = {
    "pods/exec": frozenset({"create", "get", "*"}),  # WebSocket exec is a GET on older API servers
    "pods/attach": frozenset({"create", "get", "*"}),
    "pods/ephemeralcontainers": frozenset({"update", "patch", "*"}),
    "serviceaccounts/token": frozenset({"create", "*"}),
    **{resource: WRITE_VERBS for resource in (
        "pods", "deployments", "daemonsets", "statefulsets", "replicasets", "replicationcontrollers", "jobs",
        "cronjobs",
        # ML workloads: each runs an arbitrary image as any service account of the namespace
        "inferenceservices", "llminferenceservices", "servingruntimes", "inferencegraphs", "rayclusters",
        "rayjobs", "rayservices", "seldondeployments", "notebooks", "pytorchjobs", "tfjobs", "mpijobs",
        "xgboostjobs", "paddlejobs", "jaxjobs", "trainjobs", "leaderworkersets")},
}


@rules.rule(
    id="KUBE-028", name="rbac-workload-escalation", title="RBAC rule can exec into pods or create workloads",
    severity=Severity.HIGH, scope=Scope.OBJECT, kinds=RBAC_KINDS,
    rationale="""
        `pods/exec`, `pods/attach`, creating or changing pods, workloads or ML serving resources, or minting
        service-account tokens each lets the subject run code as any service account in the namespace.""",
    remediation="Remove these permissions from roles bound to applications; keep them for operators only.",
    bad='rules: [{apiGroups: [""], resources: ["pods/exec"], verbs: ["create"]}]',
    good='rules: [{apiGroups: [""], resources: ["pods"], verbs: ["get", "list"]}]',
    references=(f"{CIS} 5.1.4",),
)
def rbac_workload_escalation(obj: K8sObject, inventory: Inventory) -> Iterator[Hit]:
    aggregated = _aggregated_into(obj) if obj.kind == "ClusterRole" else ""
    for index, rule in _rbac_rules(obj):
        verbs = set(_listed(rule, "verbs"))
        hits = [resource for resource in _listed(rule, "resources") if verbs & ESCALATING.get(resource, frozenset())]
        if not hits:
            continue
        granted = "/".join(sorted(verbs & frozenset().union(*(ESCALATING[resource] for resource in hits))))
        message = f"{obj.ref} can {granted} {', '.join(hits)}"
        if aggregated:  # part of a user-facing role such as `edit`: expected there, still worth knowing
            yield Hit(obj.at("rules", index, "resources"), f"{message} (aggregated into the `{aggregated}` role)",
                      severity=Severity.LOW)
        else:
            yield Hit(obj.at("rules", index, "resources"), message)
