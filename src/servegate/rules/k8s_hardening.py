"""General Kubernetes hardening, for every workload, so no second scanner is needed.

The ML-specific rules of ``gpu_workloads`` supersede some of these on model-serving pods.
"""

from __future__ import annotations

from typing import Iterator

from servegate.findings import Confidence, Severity
from servegate.model.images import image_digest, image_tag, is_templated
from servegate.model.k8s import Inventory, K8sObject
from servegate.model.network import external_exposure, selects
from servegate.model.workloads import Container, PodSpec
from servegate.rules.base import Hit, RelatedHit, RuleSet, Scope

rules = RuleSet("k8s-hardening")

CIS = "CIS Kubernetes Benchmark v1.9"
NSA = "NSA/CISA Kubernetes Hardening Guidance v1.2"
PSS = "Kubernetes Pod Security Standards"
DANGEROUS_CAPABILITIES = frozenset(
    {"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "SYS_RAWIO", "SYS_BOOT", "DAC_READ_SEARCH",
     "BPF", "PERFMON", "SYS_TIME", "MAC_ADMIN", "MAC_OVERRIDE", "SETFCAP"}
)


def _caps(container: Container, key: str) -> list[tuple[int, str]]:
    values = container.get("securityContext", "capabilities", key)
    return [(i, str(v).upper().removeprefix("CAP_")) for i, v in enumerate(values if isinstance(values, list) else ())]


def _is_windows(pod: PodSpec) -> bool:
    return pod.get("os", "name") == "windows" or pod.get("securityContext", "windowsOptions") is not None


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
    if c.get("securityContext", "privileged") is True:
        yield Hit(c.at("securityContext", "privileged"), f"{c.display} runs privileged")


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
    if c.get("securityContext", "allowPrivilegeEscalation") is not False:
        yield Hit(c.at("securityContext", "allowPrivilegeEscalation"),
                  f"{c.display} does not set allowPrivilegeEscalation: false")


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
    if _is_windows(c.pod):
        return
    user, user_path = c.security("runAsUser")
    non_root, non_root_path = c.security("runAsNonRoot")
    if user == 0 and user_path is not None:
        yield Hit(user_path, f"{c.display} runs as root (runAsUser: 0)")
    elif user is None and non_root is not True:
        yield Hit(non_root_path or c.at("securityContext", "runAsNonRoot"),
                  f"{c.display} may run as root: no runAsNonRoot: true and no non-zero runAsUser")


@rules.rule(
    id="KUBE-004", name="dangerous-capabilities", title="Container adds dangerous Linux capabilities",
    severity=Severity.HIGH, scope=Scope.CONTAINER,
    rationale="""
        Capabilities such as SYS_ADMIN, NET_ADMIN or SYS_PTRACE are close to root on the node: mounting
        filesystems, rewriting network configuration, reading other processes' memory.""",
    remediation="Remove the capability from `capabilities.add`; drop ALL and add back only narrow ones.",
    bad="capabilities: {add: [SYS_ADMIN]}",
    good="capabilities: {drop: [ALL]}",
    references=(f"{CIS} 5.2.9", f"{PSS}: Baseline"),
)
def dangerous_capabilities(c: Container) -> Iterator[Hit]:
    for index, cap in _caps(c, "add"):
        if cap in DANGEROUS_CAPABILITIES:
            yield Hit(c.at("securityContext", "capabilities", "add", index), f"{c.display} adds capability {cap}")


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
    dropped = {cap for _, cap in _caps(c, "drop")}
    if not dropped & {"ALL", "NET_RAW"}:
        yield Hit(c.at("securityContext", "capabilities", "drop"), f"{c.display} does not drop ALL capabilities")


def _host_namespace_rule(field: str, rule_id: str, what: str, cis: str):
    @rules.rule(
        id=rule_id, name=f"host-{field[4:].lower()}", title=f"Pod shares the host's {what}",
        severity=Severity.HIGH, scope=Scope.POD,
        rationale=f"""
            `{field}: true` puts the pod in the node's {what}, so it can see and reach what other pods and
            the node itself keep apart.""",
        remediation=f"Remove `{field}: true`.",
        bad=f"spec: {{{field}: true}}",
        good=f"spec: {{{field}: false}}",
        references=(f"{CIS} {cis}", f"{PSS}: Baseline"),
    )
    def check(pod: PodSpec) -> Iterator[Hit]:
        if pod.get(field) is True:
            yield Hit(pod.at(field), f"{pod.display} sets {field}: true")

    return check


host_network = _host_namespace_rule("hostNetwork", "KUBE-006", "network namespace", "5.2.5")
host_pid = _host_namespace_rule("hostPID", "KUBE-007", "process ID namespace", "5.2.3")
host_ipc = _host_namespace_rule("hostIPC", "KUBE-008", "IPC namespace", "5.2.4")


@rules.rule(
    id="KUBE-009", name="host-path-volume", title="Pod mounts a hostPath volume",
    severity=Severity.MEDIUM, scope=Scope.POD,
    rationale="""
        A hostPath volume exposes the node's filesystem: runtime sockets, kubelet credentials and other pods'
        data are a path away.""",
    remediation="Use a PersistentVolumeClaim, a ConfigMap, a Secret or an emptyDir instead of hostPath.",
    bad="volumes: [{name: data, hostPath: {path: /var/lib/data}}]",
    good="volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]",
    references=(f"{CIS} 5.2.12", f"{PSS}: Baseline"),
)
def host_path_volume(pod: PodSpec) -> Iterator[Hit]:
    for index, volume in pod.volumes:
        if isinstance(volume.get("hostPath"), dict):
            path = volume["hostPath"].get("path", "?")
            yield Hit(pod.at("volumes", index, "hostPath"),
                      f"{pod.display} mounts host path {path} (volume `{volume.get('name', index)}`)")


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
    if c.get("securityContext", "readOnlyRootFilesystem") is not True:
        yield Hit(c.at("securityContext", "readOnlyRootFilesystem"),
                  f"{c.display} does not set readOnlyRootFilesystem: true")


def _resource_rule(section: str, resource: str, rule_id: str, severity: Severity):
    noun = {"limits": "limit", "requests": "request"}[section]

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
        if c.init or c.default_name:  # KServe shorthands take resources from the runtime
            return
        if c.resources(section).get(resource) in (None, ""):
            yield Hit(c.at("resources", section, resource), f"{c.display} has no {resource} {noun}")

    return check


missing_cpu_limit = _resource_rule("limits", "cpu", "KUBE-011", Severity.LOW)
missing_memory_limit = _resource_rule("limits", "memory", "KUBE-012", Severity.MEDIUM)
missing_cpu_request = _resource_rule("requests", "cpu", "KUBE-013", Severity.LOW)
missing_memory_request = _resource_rule("requests", "memory", "KUBE-014", Severity.LOW)


def _service_account(pod: PodSpec) -> K8sObject | None:
    return pod.inventory.find("ServiceAccount", pod.obj.effective_namespace, pod.service_account)


@rules.rule(
    id="KUBE-015", name="service-account-token-automount", title="Service-account token is mounted automatically",
    severity=Severity.LOW, scope=Scope.POD,
    rationale="""
        Most workloads never call the Kubernetes API, yet every pod gets a token for its service account.
        After a compromise that token is free lateral movement.""",
    remediation="Set `automountServiceAccountToken: false` on the pod (or its ServiceAccount).",
    bad="spec: {containers: [...]}",
    good="spec: {automountServiceAccountToken: false, containers: [...]}",
    references=(f"{CIS} 5.1.6", f"{NSA}: Authentication and authorization"),
)
def token_automount(pod: PodSpec) -> Iterator[Hit]:
    setting = pod.get("automountServiceAccountToken")
    if setting is False:
        return
    account = _service_account(pod)
    if setting is None and account is not None:
        if account.get("automountServiceAccountToken") is False:
            return
        # Neither disables it: the ServiceAccount is the one place that fixes every pod using it.
        yield Hit(account.at("automountServiceAccountToken"),
                  f"service account `{account.name}` mounts its token into {pod.display}; neither sets "
                  "automountServiceAccountToken: false", obj=account,
                  related=(RelatedHit(pod.obj, pod.path, f"{pod.display} uses it"),))
        return
    yield Hit(pod.at("automountServiceAccountToken"),
              f"{pod.display} mounts the token of service account `{pod.service_account}`")


@rules.rule(
    id="KUBE-016", name="default-service-account", title="Default service account is used or left active",
    severity=Severity.LOW, scope=Scope.OBJECT,
    kinds=("ServiceAccount", "RoleBinding", "ClusterRoleBinding"),
    rationale="""
        Every pod that names no service account runs as the namespace's `default` one. Granting it RBAC
        or leaving its token automounted gives those permissions to every such pod.""",
    remediation="""
        Set `automountServiceAccountToken: false` on the `default` ServiceAccount, give each workload its
        own ServiceAccount, and never bind roles to `default`.""",
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
                      f"{obj.ref}: the default service account does not set automountServiceAccountToken: false")
        return
    subjects = obj.get("subjects")
    for index, subject in enumerate(subjects if isinstance(subjects, list) else ()):
        if isinstance(subject, dict) and subject.get("kind") == "ServiceAccount" and subject.get("name") == "default":
            yield Hit(obj.at("subjects", index), f"{obj.ref} grants a role to the `default` service account")


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
    if tag is None or tag == "latest":
        yield Hit(c.at("image"), f"{c.display} uses image `{c.image}`" + (" with no tag" if tag is None else ""))


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
    if c.image and not is_templated(c.image) and not image_digest(c.image):
        yield Hit(c.at("image"), f"{c.display} uses image `{c.image}` without a digest")


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
    if exposure == "type LoadBalancer" and isinstance(ranges, list) and ranges and \
            not any(str(r).endswith("/0") for r in ranges):
        return
    field = "externalIPs" if exposure == "externalIPs" else "type"
    yield Hit(obj.at("spec", field), f"{obj.ref} is exposed outside the cluster ({exposure})")


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
    if pod.obj.kind in ("ServingRuntime", "ClusterServingRuntime") or pod.role == "submitter":
        return
    if pod.get("hostNetwork") is True:
        return  # KUBE-006 already says it: NetworkPolicy does not apply to host-network pods
    namespace = pod.obj.effective_namespace
    for policy in pod.inventory.of_kind("NetworkPolicy"):
        if policy.effective_namespace == namespace and selects(policy.get("spec", "podSelector"), pod.labels):
            return
    yield Hit(pod.meta_path + ("labels",) if pod.meta_path else pod.path,
              f"{pod.display} is not selected by any NetworkPolicy in namespace `{namespace}`")


RBAC_KINDS = ("Role", "ClusterRole")


def _rbac_rules(obj: K8sObject) -> Iterator[tuple[int, dict]]:
    items = obj.get("rules")
    for index, rule in enumerate(items if isinstance(items, list) else ()):
        if isinstance(rule, dict):
            yield index, rule


def _listed(rule: dict, key: str) -> list[str]:
    values = rule.get(key)
    return [str(v) for v in values] if isinstance(values, list) else []


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
        for key in ("apiGroups", "resources", "verbs"):
            if "*" in _listed(rule, key):
                yield Hit(obj.at("rules", index, key), f"{obj.ref} grants `*` in {key}")
                break


SECRET_READ_VERBS = frozenset({"get", "list", "watch", "*"})


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
        verbs = set(_listed(rule, "verbs")) & SECRET_READ_VERBS
        if verbs:
            yield Hit(obj.at("rules", index, "verbs"),
                      f"{obj.ref} can {'/'.join(sorted(verbs))} Secrets")


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
    if obj.get("roleRef", "name") == "cluster-admin":
        yield Hit(obj.at("roleRef", "name"), f"{obj.ref} binds cluster-admin")


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
    env = c.get("env")
    for index, entry in enumerate(env if isinstance(env, list) else ()):
        if isinstance(entry, dict) and isinstance(entry.get("valueFrom"), dict) and \
                "secretKeyRef" in entry["valueFrom"]:
            yield Hit(c.at("env", index, "valueFrom", "secretKeyRef"),
                      f"{c.display} reads Secret `{entry['valueFrom']['secretKeyRef'].get('name', '?')}` "
                      f"into variable {entry.get('name', '?')}")
    sources = c.get("envFrom")
    for index, source in enumerate(sources if isinstance(sources, list) else ()):
        if isinstance(source, dict) and isinstance(source.get("secretRef"), dict):
            yield Hit(c.at("envFrom", index, "secretRef"),
                      f"{c.display} loads every key of Secret `{source['secretRef'].get('name', '?')}` into its environment")


SECCOMP_OK = ("runtime/default", "docker/default", "localhost/")


def _seccomp_annotation(pod: PodSpec, container: Container) -> str | None:
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
    if _is_windows(c.pod):
        return
    profile, path = c.security("seccompProfile")
    if isinstance(profile, dict) and profile.get("type") in ("RuntimeDefault", "Localhost"):
        return
    if isinstance(profile, dict) and path is not None:
        yield Hit(path + ("type",), f"{c.display} runs with seccomp profile `{profile.get('type')}`")
        return
    annotation = _seccomp_annotation(c.pod, c)
    if annotation is not None and str(annotation).startswith(SECCOMP_OK):
        return
    yield Hit(c.at("securityContext", "seccompProfile"), f"{c.display} has no seccomp profile")


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
    profile, path = c.security("appArmorProfile")
    if isinstance(profile, dict) and path is not None and profile.get("type") == "Unconfined":
        yield Hit(path + ("type",), f"{c.display} runs with AppArmor Unconfined")
        return
    key = APPARMOR_ANNOTATION + c.name
    value = c.pod.annotations.get(key)
    if value is None or str(value).startswith(("runtime/default", "localhost/")):
        return
    meta = c.pod.meta_path or c.obj.at("metadata")
    yield Hit(meta + ("annotations", key), f"{c.display} has AppArmor profile `{value}`")


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
    ports = c.get("ports")
    for index, port in enumerate(ports if isinstance(ports, list) else ()):
        if isinstance(port, dict) and port.get("hostPort") not in (None, 0):
            yield Hit(c.at("ports", index, "hostPort"), f"{c.display} binds host port {port['hostPort']}")


@rules.rule(
    id="KUBE-028", name="rbac-workload-escalation", title="RBAC rule can exec into pods or create workloads",
    severity=Severity.HIGH, scope=Scope.OBJECT, kinds=RBAC_KINDS,
    rationale="""
        `pods/exec`, `pods/attach`, creating pods or workloads, or minting service-account tokens each lets
        the subject run code as any service account in the namespace.""",
    remediation="Remove these permissions from roles bound to applications; keep them for operators only.",
    bad='rules: [{apiGroups: [""], resources: ["pods/exec"], verbs: ["create"]}]',
    good='rules: [{apiGroups: [""], resources: ["pods"], verbs: ["get", "list"]}]',
    references=(f"{CIS} 5.1.4",),
)
def rbac_workload_escalation(obj: K8sObject, inventory: Inventory) -> Iterator[Hit]:
    escalating = {"pods/exec", "pods/attach", "pods", "deployments", "daemonsets", "statefulsets", "jobs",
                  "cronjobs", "serviceaccounts/token"}
    for index, rule in _rbac_rules(obj):
        verbs = set(_listed(rule, "verbs"))
        hit = sorted(set(_listed(rule, "resources")) & escalating)
        if hit and verbs & {"create", "*"}:
            yield Hit(obj.at("rules", index, "resources"), f"{obj.ref} can create {', '.join(hit)}")
