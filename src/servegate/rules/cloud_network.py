"""cloud-network: cloud firewalls, security groups and NSGs that admit the internet.

One shared normalisation reads the rules of the three clouds into ``Opening``s: "this rule admits
traffic from anywhere (sources S) for these services (protocol, port ranges)". AWS security groups
(inline ``ingress`` blocks, ``aws_security_group_rule`` of type ingress, ``aws_vpc_security_group_ingress_rule``),
Google Cloud VPC firewall rules and firewall-policy rules, and Azure NSG rules (standalone and inline
``security_rule``) all become the same shape, and small checks classify each opening:

* ``TF-NET-001`` when it reaches SSH (22/tcp) or RDP (3389/tcp+udp);
* ``MLS-NET-002`` when it reaches a default ML-serving / ML-control port (the port table below);
* ``TF-NET-002`` otherwise (any other port or protocol open to the internet).

So an opening gives one finding, with the most specific id. An opening that covers both an admin port
and ML ports (all ports, ``-1``, ``0-65535``, ``*``, or a wide range) gives the admin-port finding *and*
the ML-port finding, on the same line: these are two distinct exposures with different fixes (SSH/RDP
belongs behind Session Manager / IAP / Bastion; ML UIs and APIs behind an authenticating proxy), and
each is a benchmark-grade fact. The generic ``TF-NET-002`` is never emitted when either applies.

Semantics worth knowing (they follow the providers, not other scanners' shortcuts):

* A /0 prefix of any address (``0.0.0.0/0``, ``::/0``, ``1.2.3.4/0``) is "anywhere"; on Azure also
  ``*``, ``Internet`` and ``Any``; Azure's bare ``0.0.0.0`` is read as "anywhere" at medium confidence.
* AWS ``protocol = "-1"``/``"all"`` (or any protocol other than tcp/udp/icmp/icmpv6) opens every port
  whatever ``from_port``/``to_port`` say; ``tcp`` with ``from_port = to_port = 0`` opens port 0 only
  (hashicorp/terraform-provider-aws#27525), so it is an open port, not "all ports".
* SSH counts over TCP only; RDP over TCP and UDP. ML ports count over TCP.
* A rule with no source at all (no CIDR, no security group, no prefix list) is invalid for the provider
  and admits nobody: not reported. A source computed from other resources (a subnet's CIDR, a cluster's
  master range, a module output) names specific networks: not reported. A source from a variable or
  expression whose value is not known statically is reported at LOW confidence.
* Google: ``direction`` defaults to INGRESS; with no ``source_ranges``, ``source_tags`` or
  ``source_service_accounts`` the API applies the rule to 0.0.0.0/0; ranges and tags combine with OR,
  so ``source_ranges = ["0.0.0.0/0"]`` stays open whatever tags are also listed. ``disabled`` rules
  are skipped.
* Rule priorities and deny rules that might shadow an allow are not evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from servegate.findings import Confidence, Severity
from servegate.model.terraform.config import TfResource
from servegate.model.terraform.defaults import setting
from servegate.model.terraform.inventory import TfInventory
from servegate.model.terraform.values import Unknown
from servegate.rules.base import Hit, RuleSet, Scope

rules = RuleSet("cloud-network")

CIS_AWS = "CIS Amazon Web Services Foundations Benchmark v2.0.0"
CIS_GCP = "CIS Google Cloud Platform Foundation Benchmark v2.0.0"
CIS_AZURE = "CIS Microsoft Azure Foundations Benchmark v2.0.0"

ALL = (0, 65535)  # every port

# Admin ports: (port, protocols, label).
ADMIN_PORTS = ((22, ("tcp",), "SSH (22/tcp)"), (3389, ("tcp", "udp"), "RDP (3389)"))

# Default ports of ML servers and ML control planes (servegate's port table, from vendor docs).
ML_PORTS: dict[int, str] = {
    5000: "MLflow tracking server / model serving",
    6006: "TensorBoard",
    6379: "Ray GCS",
    7070: "TorchServe gRPC inference",
    7071: "TorchServe gRPC management",
    7860: "Gradio",
    8000: "Triton HTTP / vLLM / Ray Serve / JupyterHub",
    8001: "Triton gRPC",
    8002: "Triton metrics / NVIDIA FLARE server",
    8003: "NVIDIA FLARE admin",
    8080: "TorchServe inference / TGI / Ray metrics",
    8081: "TorchServe management API",
    8082: "TorchServe metrics",
    8265: "Ray dashboard and Jobs API",
    8500: "TensorFlow Serving gRPC",
    8501: "TensorFlow Serving REST / Streamlit",
    8888: "Jupyter",
    10001: "Ray client server",
    11434: "Ollama API",
    29500: "PyTorch distributed rendezvous",
    30000: "SGLang",
    52365: "Ray dashboard agent",
}
# Ports ordinary web applications use as well: on their own they make the finding HIGH, not CRITICAL.
# (NVIDIA FLARE ports are published on purpose for federated clients, behind mutual TLS.)
ML_PORTS_SHARED_WITH_WEB_APPS = frozenset({7070, 8000, 8001, 8002, 8003, 8080, 8082, 8500, 8501, 30000})
WEB_PORTS = frozenset({80, 443})


# --- the shared model ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Service:
    """What a rule lets through: a protocol and its destination port ranges.

    ``protocol`` is "all", "tcp", "udp", "icmp", ... (lower case) or "?" when not known statically.
    ``ranges``: inclusive (low, high) port ranges; () for protocols without ports (ICMP, ESP, ...);
    None when the ports are not known statically or not set (``note`` says which).
    """

    protocol: str
    ranges: tuple[tuple[int, int], ...] | None
    note: str = ""

    def covers(self, port: int, protocols: tuple[str, ...]) -> bool:
        if self.protocol != "all" and self.protocol not in protocols:
            return False
        return self.ranges is not None and any(low <= port <= high for low, high in self.ranges)

    def describe(self) -> str:
        if self.protocol == "?":
            return f"traffic ({self.note or 'protocol not known statically'})"
        protocol = "all protocols" if self.protocol == "all" else \
            f"protocol {self.protocol}" if self.protocol.isdigit() else self.protocol
        if self.ranges is None:
            return f"{protocol} ({self.note or 'ports not known statically'})"
        if not self.ranges:
            return protocol
        if self.ranges == (ALL,):
            return f"{protocol}, all ports" if self.protocol != "all" else "all protocols and ports"
        ports = ", ".join(str(low) if low == high else f"{low}-{high}" for low, high in self.ranges)
        return f"{protocol} {ports}{f' ({self.note})' if self.note else ''}"


@dataclass
class Opening:
    """One firewall rule that admits traffic from anywhere (or maybe from anywhere, when ``unknown``)."""

    resource: TfResource
    label: str  # "aws_security_group.gpu ingress rule #2" - what the message names
    path: tuple  # where the open source is written (the finding's location)
    sources: list[str] = field(default_factory=list)  # the open sources as written
    services: list[Service] = field(default_factory=list)
    unknown: str = ""  # why the source is not known statically (when no open source is known)
    confidence: Confidence = Confidence.HIGH

    @property
    def source_text(self) -> str:
        if self.sources:
            return ", ".join(dict.fromkeys(self.sources))
        return f"a source not known statically ({self.unknown})"

    def services_text(self) -> str:
        return "; ".join(s.describe() for s in self.services) or "traffic"

    def admin_ports(self) -> list[str]:
        return [label for port, protocols, label in ADMIN_PORTS
                if any(s.covers(port, protocols) for s in self.services)]

    def ml_ports(self) -> list[int]:
        found = []
        for port in ML_PORTS:
            if any(s.covers(port, ("tcp",)) for s in self.services):
                found.append(port)
        return found


def _is_anywhere(value: str, azure: bool) -> tuple[bool, bool]:
    """(admits every address, only probably so)."""
    text = value.strip().lower()
    if azure and text in ("*", "internet", "any"):
        return True, False
    if azure and text == "0.0.0.0":
        return True, True
    return bool(re.fullmatch(r"[0-9a-f.:]*/0+", text)), False


def _computed_elsewhere(resource: TfResource, path: tuple, value: Unknown) -> bool:
    """True when an unknown source comes from other infrastructure (a subnet CIDR, a cluster's master
    range, a module output, a data source, a resource outside the scan): it names specific networks,
    not the internet. Variables and expressions without a value are not: they may be anything."""
    reason = value.reason
    if value.ref or reason.startswith("known after apply") or "a remote source" in reason or \
            "undeclared resource" in reason:
        return True
    roots = {root for root, _ in resource.references_of(path)}
    return bool(roots) and roots <= {"data", "module"}


@dataclass
class _Sources:
    open: list[tuple[tuple, str]] = field(default_factory=list)  # (path, value as written)
    unknown: list[tuple[tuple, str]] = field(default_factory=list)  # (path, reason)
    present: bool = False  # some source attribute is set at all


def _sources(resource: TfResource, base: tuple, attributes: tuple[str, ...], azure: bool = False) -> _Sources:
    found = _Sources()
    for name in attributes:
        path = base + (name,)
        value = resource.get(*path)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if item is None or item == "":
                continue
            found.present = True
            if isinstance(item, Unknown):
                if not _computed_elsewhere(resource, path, item):
                    found.unknown.append((path, item.reason))
            elif isinstance(item, str):
                if _is_anywhere(item, azure)[0]:
                    found.open.append((path, item))
    return found


def _opening(resource: TfResource, label: str, found: _Sources, services: list[Service],
             confidence: Confidence = Confidence.HIGH) -> Opening | None:
    if not services:
        return None
    if found.open:
        sure = [(p, v) for p, v in found.open if not (_is_anywhere(v, True)[1])]
        if not sure:
            confidence = min(confidence, Confidence.MEDIUM)
        path = (sure or found.open)[0][0]
        return Opening(resource, label, path, [v for _, v in found.open], services, confidence=confidence)
    if found.unknown:
        path, reason = found.unknown[0]
        return Opening(resource, label, path, [], services, unknown=reason, confidence=Confidence.LOW)
    return None


def _items(value: Any) -> list:
    """The rules of a block list; [] when absent or wholly unknown (``ingress = var.rules`` without a value:
    nothing says there is any rule, so nothing is reported)."""
    return value if isinstance(value, list) else []


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


# --- AWS -------------------------------------------------------------------------------------------

AWS_PROTOCOLS = {"-1": "all", "all": "all", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}


def _aws_service(protocol: Any, from_port: Any, to_port: Any, ports_optional: bool = False) -> Service:
    if isinstance(protocol, Unknown) or protocol is None:
        return Service("?", None, "protocol not known statically" if protocol is not None else "protocol not set")
    name = str(protocol).strip().lower()
    name = AWS_PROTOCOLS.get(name, name)
    if name == "all":
        return Service("all", (ALL,))  # the EC2 API ignores the ports
    if name not in ("tcp", "udp"):
        return Service(name, ())  # ICMP types, or a protocol without ports (all its traffic)
    if from_port is None and to_port is None and ports_optional:
        return Service(name, (ALL,))
    if isinstance(from_port, Unknown) or isinstance(to_port, Unknown):
        return Service(name, None, "ports not known statically")
    low, high = _int(from_port), _int(to_port)
    if low is None or high is None:
        return Service(name, None, "ports not set")
    low, high = max(low, 0), min(high if high >= 0 else 65535, 65535)
    if low == high == 0:
        return Service(name, ((0, 0),), f"from_port = to_port = 0 opens {name} port 0 only, not all ports")
    return Service(name, ((low, min(max(low, high), 65535)),))


AWS_SG_SOURCES = ("cidr_blocks", "ipv6_cidr_blocks")


def _label_with_description(label: str, description: Any) -> str:
    if isinstance(description, str) and description.strip():
        return f'{label} ("{description.strip()}")'
    return label


def _aws_security_group(resource: TfResource) -> Iterator[Opening]:
    for index, rule in enumerate(_items(resource.get("ingress"))):
        if not isinstance(rule, dict):
            continue
        base = ("ingress", index)
        found = _sources(resource, base, AWS_SG_SOURCES)
        service = _aws_service(rule.get("protocol"), rule.get("from_port"), rule.get("to_port"))
        label = _label_with_description(f"{resource.address} ingress rule #{index + 1}", rule.get("description"))
        opening = _opening(resource, label, found, [service])
        if opening:
            yield opening


def _aws_security_group_rule(resource: TfResource) -> Iterator[Opening]:
    kind = resource.get("type")
    if isinstance(kind, str) and kind.lower() != "ingress":
        return
    found = _sources(resource, (), AWS_SG_SOURCES)
    service = _aws_service(resource.get("protocol"), resource.get("from_port"), resource.get("to_port"))
    confidence = Confidence.LOW if isinstance(kind, Unknown) else Confidence.HIGH
    opening = _opening(resource, resource.address, found, [service], confidence)
    if opening:
        yield opening


def _aws_vpc_ingress_rule(resource: TfResource) -> Iterator[Opening]:
    found = _sources(resource, (), ("cidr_ipv4", "cidr_ipv6"))
    service = _aws_service(resource.get("ip_protocol"), resource.get("from_port"), resource.get("to_port"),
                           ports_optional=True)
    opening = _opening(resource, resource.address, found, [service])
    if opening:
        yield opening


# --- Google Cloud ---------------------------------------------------------------------------------

GCP_PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "132": "sctp", "50": "esp", "51": "ah", "58": "icmpv6"}
PORTED = ("tcp", "udp", "sctp", "all")


def _port_specs(specs: Any, note_missing: str) -> tuple[tuple[tuple[int, int], ...] | None, str]:
    """Parse Google/Azure port specs ("22", "8000-8002", "*", 22, a comma-separated string) into ranges."""
    if specs is None or specs == "" or specs == []:
        return None, note_missing
    if isinstance(specs, Unknown):
        return None, "ports not known statically"
    items = specs if isinstance(specs, list) else [specs]
    ranges: list[tuple[int, int]] = []
    for item in items:
        if isinstance(item, Unknown):
            return None, "ports not known statically"
        for piece in str(item).split(","):
            piece = piece.strip()
            if not piece:
                continue
            if piece in ("*", "any"):
                return (ALL,), ""
            match = re.fullmatch(r"(\d+)\s*(?:-\s*(\d+))?", piece)
            if match is None:
                return None, f"port {piece!r} not understood"
            low = int(match.group(1))
            high = int(match.group(2)) if match.group(2) else low
            ranges.append((min(low, high), max(low, high)))
    return (tuple(ranges) or None), ("" if ranges else note_missing)


def _gcp_service(protocol: Any, ports: Any) -> Service:
    if isinstance(protocol, Unknown) or protocol is None:
        return Service("?", None, "protocol not known statically" if protocol is not None else "protocol not set")
    name = str(protocol).strip().lower()
    name = GCP_PROTOCOLS.get(name, name)
    if name not in PORTED:
        return Service(name, ())
    ranges, note = _port_specs(ports, "")
    if ranges is None and not note:  # no ports listed: every port of the protocol
        ranges = (ALL,)
    return Service(name, ranges, note)


def _gcp_firewall(resource: TfResource) -> Iterator[Opening]:
    direction = setting(resource, "direction").value
    disabled = setting(resource, "disabled").value
    if disabled is True or (isinstance(direction, str) and direction.upper() != "INGRESS"):
        return
    services = [_gcp_service(a.get("protocol"), a.get("ports"))
                for a in _items(resource.get("allow")) if isinstance(a, dict)]
    confidence = Confidence.LOW if isinstance(direction, Unknown) or isinstance(disabled, Unknown) else Confidence.HIGH
    found = _sources(resource, (), ("source_ranges",))
    if not found.present and not any(resource.get(k) not in (None, [], "")
                                     for k in ("source_tags", "source_service_accounts")):
        found.open.append((("source_ranges",), "0.0.0.0/0 (no source_ranges, source_tags or "
                                                "source_service_accounts: the API default)"))
    opening = _opening(resource, resource.address, found, services, confidence)
    if opening:
        yield opening


def _gcp_policy_rule(resource: TfResource) -> Iterator[Opening]:
    direction, action, disabled = resource.get("direction"), resource.get("action"), resource.get("disabled")
    if disabled is True or (isinstance(direction, str) and direction.upper() != "INGRESS") or \
            (isinstance(action, str) and action.lower() != "allow"):
        return
    match = resource.get("match", 0)
    if not isinstance(match, dict):
        return
    services = [_gcp_service(c.get("ip_protocol"), c.get("ports"))
                for c in _items(match.get("layer4_configs")) if isinstance(c, dict)]
    unsure = any(isinstance(v, Unknown) for v in (direction, action, disabled))
    found = _sources(resource, ("match", 0), ("src_ip_ranges",))
    opening = _opening(resource, resource.address, found, services,
                       Confidence.LOW if unsure else Confidence.HIGH)
    if opening:
        yield opening


# --- Azure ----------------------------------------------------------------------------------------

AZURE_PROTOCOLS = {"*": "all", "tcp": "tcp", "udp": "udp", "icmp": "icmp", "esp": "esp", "ah": "ah"}


def _azure_rule(resource: TfResource, base: tuple, label: str) -> Opening | None:
    values = resource.get(*base) if base else resource.values
    if not isinstance(values, dict):
        return None
    direction, access = values.get("direction"), values.get("access")
    if (isinstance(direction, str) and direction.lower() != "inbound") or \
            (isinstance(access, str) and access.lower() != "allow"):
        return None
    protocol = values.get("protocol")
    if isinstance(protocol, Unknown):
        service = Service("?", None, "protocol not known statically")
    else:
        name = AZURE_PROTOCOLS.get(str(protocol).strip().lower(), str(protocol).strip().lower()) \
            if protocol is not None else "all"
        if name in ("tcp", "udp", "all"):
            specs = values.get("destination_port_range")
            if specs in (None, "", []):
                specs = values.get("destination_port_ranges")
            ranges, note = _port_specs(specs, "no destination port set")
            service = Service(name, ranges, note)
        else:
            service = Service(name, ())
    found = _sources(resource, base, ("source_address_prefix", "source_address_prefixes"), azure=True)
    unsure = isinstance(direction, Unknown) or isinstance(access, Unknown)
    return _opening(resource, label, found, [service], Confidence.LOW if unsure else Confidence.HIGH)


def _azure_security_rule(resource: TfResource) -> Iterator[Opening]:
    opening = _azure_rule(resource, (), resource.address)
    if opening:
        yield opening


def _azure_nsg(resource: TfResource) -> Iterator[Opening]:
    for index, rule in enumerate(_items(resource.get("security_rule"))):
        if not isinstance(rule, dict):
            continue
        name = rule.get("name")
        label = f'{resource.address} security_rule "{name}"' if isinstance(name, str) else \
            f"{resource.address} security_rule #{index + 1}"
        opening = _azure_rule(resource, ("security_rule", index), label)
        if opening:
            yield opening


# Named rules of the terraform-aws-modules/security-group registry module (its rules.tf), as
# (from_port, to_port, protocol); the commonly used ones.
SG_MODULE_SOURCE = "terraform-aws-modules/security-group/aws"
SG_MODULE_RULES = {
    "all-all": (-1, -1, "-1"), "all-tcp": (0, 65535, "tcp"), "all-udp": (0, 65535, "udp"),
    "all-icmp": (-1, -1, "icmp"), "ssh-tcp": (22, 22, "tcp"), "rdp-tcp": (3389, 3389, "tcp"),
    "rdp-udp": (3389, 3389, "udp"), "http-80-tcp": (80, 80, "tcp"), "https-443-tcp": (443, 443, "tcp"),
    "http-8080-tcp": (8080, 8080, "tcp"), "https-8443-tcp": (8443, 8443, "tcp"),
    "postgresql-tcp": (5432, 5432, "tcp"), "mysql-tcp": (3306, 3306, "tcp"), "redis-tcp": (6379, 6379, "tcp"),
    "mongodb-27017-tcp": (27017, 27017, "tcp"), "elasticsearch-rest-tcp": (9200, 9200, "tcp"),
    "kubernetes-api-https-tcp": (6443, 6443, "tcp"), "prometheus-http-tcp": (9090, 9090, "tcp"),
    "grafana-tcp": (3000, 3000, "tcp"), "winrm-http-tcp": (5985, 5985, "tcp"), "winrm-https-tcp": (5986, 5986, "tcp"),
    "ntp-udp": (123, 123, "udp"), "dns-udp": (53, 53, "udp"), "dns-tcp": (53, 53, "tcp"),
}


def _aws_security_group_module(resource: TfResource) -> Iterator[Opening]:
    """The security-group registry module: ``ingress_cidr_blocks`` with named ``ingress_rules``, and
    ``ingress_with_cidr_blocks`` maps whose ``cidr_blocks`` is a comma-separated string."""
    found = _sources(resource, (), ("ingress_cidr_blocks", "ingress_ipv6_cidr_blocks"))
    for index, name in enumerate(_items(resource.get("ingress_rules"))):
        spec = SG_MODULE_RULES.get(name) if isinstance(name, str) else None
        if spec is not None:
            opening = _opening(resource, f'{resource.address} ingress rule "{name}"', found,
                               [_aws_service(spec[2], spec[0], spec[1])])
            if opening:
                yield opening
    for index, rule in enumerate(_items(resource.get("ingress_with_cidr_blocks"))):
        if not isinstance(rule, dict):
            continue
        cidrs = rule.get("cidr_blocks")
        path = ("ingress_with_cidr_blocks", index)
        found_here = _Sources()
        if isinstance(cidrs, str):
            found_here.open = [(path + ("cidr_blocks",), c.strip()) for c in cidrs.split(",")
                               if _is_anywhere(c.strip(), False)[0]]
        if "rule" in rule and isinstance(rule.get("rule"), str) and rule["rule"] in SG_MODULE_RULES:
            low, high, protocol = SG_MODULE_RULES[rule["rule"]]
        else:
            low, high, protocol = rule.get("from_port"), rule.get("to_port"), rule.get("protocol")
        opening = _opening(resource, f"{resource.address} ingress_with_cidr_blocks #{index + 1}", found_here,
                           [_aws_service(protocol, low, high)])
        if opening:
            yield opening


OPENERS: dict[str, Callable[[TfResource], Iterator[Opening]]] = {
    "module:" + SG_MODULE_SOURCE: _aws_security_group_module,
    "aws_security_group": _aws_security_group,
    "aws_default_security_group": _aws_security_group,
    "aws_security_group_rule": _aws_security_group_rule,
    "aws_vpc_security_group_ingress_rule": _aws_vpc_ingress_rule,
    "google_compute_firewall": _gcp_firewall,
    "google_compute_firewall_policy_rule": _gcp_policy_rule,
    "google_compute_network_firewall_policy_rule": _gcp_policy_rule,
    "google_compute_region_network_firewall_policy_rule": _gcp_policy_rule,
    "azurerm_network_security_rule": _azure_security_rule,
    "azurerm_network_security_group": _azure_nsg,
}
FIREWALL_TYPES = tuple(OPENERS)


def openings(resource: TfResource) -> list[Opening]:
    """Every rule of ``resource`` that admits traffic from anywhere (the shared normalisation)."""
    opener = OPENERS.get(resource.type)
    return list(opener(resource)) if opener else []


def classify(opening: Opening) -> str:
    """The one rule id that owns an opening when it exposes neither admin nor ML ports."""
    if opening.admin_ports():
        return "TF-NET-001"
    if opening.ml_ports():
        return "MLS-NET-002"
    return "TF-NET-002"


def _known_note(opening: Opening) -> str:
    if opening.confidence == Confidence.LOW and opening.unknown:
        return ""  # the source text already says so
    if opening.confidence == Confidence.LOW:
        return " (direction, action or type not known statically)"
    if opening.confidence == Confidence.MEDIUM:
        return " (a bare 0.0.0.0 source is usually written to mean any address)"
    return ""


# --- rules ----------------------------------------------------------------------------------------

@rules.rule(
    id="TF-NET-001", name="admin-port-open-to-internet",
    title="SSH or RDP open to the internet in a security group, firewall or NSG rule",
    severity=Severity.HIGH, scope=Scope.RESOURCE, kinds=FIREWALL_TYPES, supersedes=("TF-NET-002",),
    rationale="""
        SSH (22) and RDP (3389) reachable from 0.0.0.0/0 or ::/0 are scanned and brute-forced within
        minutes of an address going live, and every pre-auth vulnerability of the daemon becomes remote.
        On GPU training and inference hosts a shell is the model weights, the datasets, the cloud
        credentials of the instance role and the cluster's east-west network.""",
    remediation="""
        Remove the internet-wide rule. Reach instances through AWS Systems Manager Session Manager,
        Google IAP TCP forwarding (source 35.235.240.0/20) or Azure Bastion, or restrict the source to
        a VPN / corporate CIDR or to a bastion's security group.""",
    bad="""
        resource "aws_security_group" "gpu_nodes" {
          ingress {
            from_port   = 22
            to_port     = 22
            protocol    = "tcp"
            cidr_blocks = ["0.0.0.0/0"]
          }
        }""",
    good="""
        resource "aws_security_group" "gpu_nodes" {
          ingress {
            from_port       = 22
            to_port         = 22
            protocol        = "tcp"
            security_groups = [aws_security_group.bastion.id]   # or use SSM Session Manager
          }
        }""",
    references=(
        f"{CIS_AWS} 5.2", f"{CIS_AWS} 5.3", f"{CIS_GCP} 3.6", f"{CIS_GCP} 3.7", f"{CIS_AZURE} 6.1",
        f"{CIS_AZURE} 6.2", "AWS Security Hub EC2.13 / EC2.14", "MITRE ATT&CK T1133 External Remote Services",
        "MITRE ATLAS AML.T0049",
    ),
)
def admin_port_open(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for opening in openings(resource):
        admin = opening.admin_ports()
        if not admin:
            continue
        yield Hit(opening.path,
                  f"{opening.label} allows {opening.services_text()} from {opening.source_text}: "
                  f"{' and '.join(admin)} reachable from the internet{_known_note(opening)}",
                  confidence=opening.confidence)


@rules.rule(
    id="MLS-NET-002", name="ml-ports-open-to-internet",
    title="Cloud firewall / security group opens ML ports to the internet",
    severity=Severity.CRITICAL, scope=Scope.RESOURCE, kinds=FIREWALL_TYPES, supersedes=("TF-NET-002",),
    rationale="""
        ML servers and control planes listen without authentication by default: the Ray dashboard and Jobs
        API (8265) and Ray client (10001) run arbitrary code (ShadowRay), Jupyter (8888) and MLflow (5000)
        are remote shells and model registries, TorchServe's management API (8081) registers models that
        execute, Ollama (11434) pulls and deletes models, Triton and vLLM (8000-8002) serve and manage
        models and burn GPUs. Self-managed GPU VMs and node groups routinely open these ports to 0.0.0.0/0
        so a notebook or dashboard "just works", and internet-wide scans find them within hours.""",
    remediation="""
        Allow these ports only from the load balancer, bastion or VPN that needs them
        (`referenced_security_group_id` / `security_groups`, GCP `source_tags` / IAP range, Azure
        application security groups or a VNet prefix), and publish UIs and APIs only through an
        authenticating proxy or gateway (OIDC proxy, IAP, API gateway with auth).""",
    bad="""
        resource "aws_vpc_security_group_ingress_rule" "jupyter" {
          security_group_id = aws_security_group.gpu.id
          cidr_ipv4         = "0.0.0.0/0"
          ip_protocol       = "tcp"
          from_port         = 8888
          to_port           = 8888
        }""",
    good="""
        resource "aws_vpc_security_group_ingress_rule" "jupyter" {
          security_group_id            = aws_security_group.gpu.id
          referenced_security_group_id = aws_security_group.auth_proxy.id
          ip_protocol                  = "tcp"
          from_port                    = 8888
          to_port                      = 8888
        }""",
    references=(
        "MITRE ATLAS AML.CS0023 (ShadowRay)", "MITRE ATLAS AML.T0006", "MITRE ATLAS AML.T0049",
        "OWASP ML05:2023 Model Theft", "Ray documentation: Security (do not expose the dashboard or client ports)",
        "AWS Well-Architected Security Pillar SEC05-BP01 (create network layers)", "AWS Security Hub EC2.18",
    ),
)
def ml_ports_open(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for opening in openings(resource):
        ports = opening.ml_ports()
        if not ports:
            continue
        shown = ", ".join(f"{p} ({ML_PORTS[p]})" for p in ports[:6])
        more = f" and {len(ports) - 6} more" if len(ports) > 6 else ""
        only_shared = all(p in ML_PORTS_SHARED_WITH_WEB_APPS for p in ports)
        yield Hit(opening.path,
                  f"{opening.label} allows {opening.services_text()} from {opening.source_text}: "
                  f"ML server ports {shown}{more} reachable from the internet{_known_note(opening)}",
                  confidence=opening.confidence, severity=Severity.HIGH if only_shared else None)


@rules.rule(
    id="TF-NET-002", name="ingress-open-to-internet",
    title="Security group, firewall or NSG rule allows inbound traffic from the internet",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=FIREWALL_TYPES,
    rationale="""
        A rule admitting 0.0.0.0/0, ::/0 or Azure's `*`/`Internet` puts the port in front of every scanner
        on the internet; whatever listens there is only as safe as its own authentication and patch level.
        Only public load balancers should take traffic from anywhere, and only on their listener ports.
        (Rules reaching SSH/RDP or ML server ports are reported by TF-NET-001 and MLS-NET-002 instead.)""",
    remediation="""
        Restrict the source to the networks that need the service (VPC/VNet ranges, corporate or VPN CIDRs,
        a load balancer's or bastion's security group, GCP source tags or service accounts). Put public
        services behind a load balancer and accept internet traffic only there, on 80/443.""",
    bad="""
        resource "google_compute_firewall" "feature_store" {
          network       = google_compute_network.ml.name
          source_ranges = ["0.0.0.0/0"]
          allow {
            protocol = "tcp"
            ports    = ["6566"]
          }
        }""",
    good="""
        resource "google_compute_firewall" "feature_store" {
          network     = google_compute_network.ml.name
          source_tags = ["ml-training"]
          allow {
            protocol = "tcp"
            ports    = ["6566"]
          }
        }""",
    references=(
        f"{CIS_AWS} 5.2", f"{CIS_AZURE} 6.3", f"{CIS_AZURE} 6.4", "AWS Security Hub EC2.18",
        "AWS Well-Architected Security Pillar SEC05-BP01 (create network layers)",
    ),
)
def ingress_open(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for opening in openings(resource):
        if opening.admin_ports() or opening.ml_ports():
            continue
        web_only = all(s.protocol in ("icmp", "icmpv6") or
                       (s.ranges and s.protocol in ("tcp", "udp") and
                        all(low == high and low in WEB_PORTS for low, high in s.ranges))
                       for s in opening.services)
        yield Hit(opening.path,
                  f"{opening.label} allows {opening.services_text()} from {opening.source_text}"
                  f"{' (public web/ICMP traffic: fine only on an internet-facing load balancer)' if web_only else ''}"
                  f"{_known_note(opening)}",
                  confidence=opening.confidence, severity=Severity.LOW if web_only else None)


@rules.rule(
    id="TF-NET-003", name="aws-default-security-group-has-rules",
    title="AWS default security group allows traffic",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE, kinds=("aws_default_security_group",),
    rationale="""
        Every VPC has a default security group that instances, endpoints and SageMaker/EKS resources fall
        into when no group is given. If it allows traffic, anything launched without an explicit group
        (a forgotten training job, a notebook, an ENI) silently gets that access; CIS requires the default
        group to allow nothing so that every permitted flow is a deliberate, named group.""",
    remediation="""
        Manage the default group with `aws_default_security_group` and no `ingress` or `egress` blocks (this
        removes all its rules), and give every workload its own least-privilege security group.""",
    bad="""
        resource "aws_default_security_group" "default" {
          vpc_id = aws_vpc.ml.id
          ingress {
            protocol  = -1
            self      = true
            from_port = 0
            to_port   = 0
          }
        }""",
    good="""
        resource "aws_default_security_group" "default" {
          vpc_id = aws_vpc.ml.id   # no ingress/egress: all rules removed
        }""",
    references=(f"{CIS_AWS} 5.4", "AWS Security Hub EC2.2"),
)
def default_sg_has_rules(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    counts = {}
    for direction in ("ingress", "egress"):
        rules_ = resource.get(direction)
        if isinstance(rules_, Unknown):
            yield Hit((direction,), f"{resource.address} has {direction} rules not known statically; the default "
                                    f"security group should have none", confidence=Confidence.LOW)
            return
        if isinstance(rules_, list) and rules_:
            counts[direction] = len(rules_)
    if not counts:
        return
    first = "ingress" if "ingress" in counts else "egress"
    text = " and ".join(f"{n} {d} rule{'s' if n > 1 else ''}" for d, n in counts.items())
    yield Hit((first, 0), f"{resource.address} gives the VPC's default security group {text}; it should allow "
                          f"no traffic, so resources launched without a security group get no access")


def _nacl_openings(resource: TfResource) -> Iterator[tuple[tuple, str, Service, _Sources]]:
    if resource.type == "aws_network_acl_rule":
        egress, action = setting(resource, "egress").value, resource.get("rule_action")
        if egress is True or (isinstance(action, str) and action.lower() != "allow"):
            return
        service = _aws_service(resource.get("protocol"), resource.get("from_port"), resource.get("to_port"))
        label = resource.address
        rule_no = resource.get("rule_number")
        if isinstance(rule_no, (int, float)) and not isinstance(rule_no, bool):
            label += f" (rule {int(rule_no)})"
        yield (), label, service, _sources(resource, (), ("cidr_block", "ipv6_cidr_block"))
        return
    for index, rule in enumerate(_items(resource.get("ingress"))):
        if not isinstance(rule, dict):
            continue
        action = rule.get("action")
        if isinstance(action, str) and action.lower() != "allow":
            continue
        service = _aws_service(rule.get("protocol"), rule.get("from_port"), rule.get("to_port"))
        rule_no = rule.get("rule_no")
        number = f" (rule {int(rule_no)})" if isinstance(rule_no, (int, float)) and not isinstance(rule_no, bool) \
            else f" #{index + 1}"
        yield (("ingress", index), f"{resource.address} ingress{number}", service,
               _sources(resource, ("ingress", index), ("cidr_block", "ipv6_cidr_block")))


@rules.rule(
    id="TF-NET-004", name="network-acl-admin-port-open",
    title="Network ACL allows SSH or RDP from the internet",
    severity=Severity.MEDIUM, scope=Scope.RESOURCE,
    kinds=("aws_network_acl_rule", "aws_network_acl", "aws_default_network_acl"),
    rationale="""
        Network ACLs are the subnet-level layer under security groups; CIS asks that they do not admit
        remote administration ports from anywhere, so that one permissive security group is not enough to
        expose SSH or RDP on a subnet of GPU or notebook instances.""",
    remediation="""
        Add an ingress `deny` for 22 and 3389 from 0.0.0.0/0 and ::/0 before the broad allow, or allow
        those ports only from the administration network's CIDR.""",
    bad="""
        resource "aws_network_acl_rule" "ssh" {
          network_acl_id = aws_network_acl.training.id
          rule_number    = 100
          protocol       = "tcp"
          rule_action    = "allow"
          cidr_block     = "0.0.0.0/0"
          from_port      = 22
          to_port        = 22
        }""",
    good="""
        resource "aws_network_acl_rule" "ssh" {
          network_acl_id = aws_network_acl.training.id
          rule_number    = 100
          protocol       = "tcp"
          rule_action    = "allow"
          cidr_block     = "10.20.0.0/16"   # the VPN range
          from_port      = 22
          to_port        = 22
        }""",
    references=(f"{CIS_AWS} 5.1", "AWS Security Hub EC2.21"),
)
def nacl_admin_port(resource: TfResource, inventory: TfInventory) -> Iterator[Hit]:
    for base, label, service, found in _nacl_openings(resource):
        opening = _opening(resource, label, found, [service])
        if opening is None:
            continue
        admin = opening.admin_ports()
        if admin:
            yield Hit(opening.path, f"{label} allows {service.describe()} from {opening.source_text}: "
                                    f"{' and '.join(admin)} admitted from the internet{_known_note(opening)}",
                      confidence=opening.confidence)
