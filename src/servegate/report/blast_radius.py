"""``servegate graph``: the blast radius of every model-serving workload, from the scan's resource graph.

For each workload: how it is reached (from where, through which objects), which identity it runs as, what
that identity may do in Kubernetes and in the cloud, which artifact stores it can read or write, and which
Secrets it sees. ``text`` is for people, ``json`` gives the same as data, ``dot`` draws the whole graph for
Graphviz. Pure functions of the graph: nothing here decides what is risky, the rules do.
"""

from __future__ import annotations

import json
from typing import Any

from servegate.model.graph import ResourceGraph, pod_key
from servegate.model.rbac import Named, dangerous_powers, describe_rule
from servegate.model.workloads import PodSpec

VERSION = 1


def _where(obj: Any, path: tuple) -> dict:
    location = obj.locate(path)
    return {"file": location.file, "line": location.line}


def _node_name(node: Any) -> str:
    if isinstance(node, PodSpec):
        return node.display
    for attribute in ("ref", "address"):
        value = getattr(node, attribute, None)
        if isinstance(value, str):
            return value
    return str(node)


def workloads(graph: ResourceGraph) -> list[dict]:
    """One entry per model-serving pod template, then per SageMaker model, as plain data."""
    out = [_pod_entry(graph, pod) for pod in graph.serving_pods()]
    out += [_sagemaker_entry(graph, model) for model in graph.cloud.managed("aws_sagemaker_model")]
    return out


def _pod_entry(graph: ResourceGraph, pod: PodSpec) -> dict:
    account = graph.account(pod)
    network = graph.network(pod)
    grants = graph.grants(pod)
    namespace = graph.namespace(pod.obj)
    secrets = [{"name": s.name, "how": s.how, **_where(s.obj, s.path)} for s in graph.secrets(pod)]
    if graph.token_mounted(pod):
        for grant in grants:
            if any(grant.allows(verb, "secrets") for verb in ("get", "list", "watch")):
                secrets.append({"name": "*", "how": f"every Secret {grant.where} through {grant.binding.ref}",
                                **_where(grant.binding, grant.subject_path)})
    return {
        "workload": pod.display,
        "kind": pod.obj.kind,
        "namespace": namespace,
        **_where(pod.obj, pod.path),
        "reachable": [{"from": reach.source, "through": [h.text for h in reach.hops],
                       "authenticated": reach.authenticated,
                       "locations": [_where(h.obj, h.path) for h in reach.hops]} for reach in graph.reach(pod)],
        "network_policies": {"ingress": [p.ref for p in network.ingress], "egress": [p.ref for p in network.egress],
                             "ingress_open": network.ingress_open, "egress_open": network.egress_open},
        "identity": {
            "service_account": account.ref,
            "declared": not isinstance(account, Named),
            "token_mounted": graph.token_mounted(pod),
            "cloud": [{"provider": link.identity.provider, "identity": link.identity.ref, "how": link.how,
                       **_where(link.via, link.path)} for link in graph.identities(pod)],
        },
        "kubernetes_permissions": [{"binding": g.binding.ref, "role": g.role.ref, "scope": g.scope or "cluster",
                                    "rule": describe_rule(g.rule), "powers": dangerous_powers(g),
                                    **_where(g.binding, g.subject_path)} for g in grants],
        "cloud_permissions": [{"identity": p.identity.ref, "grant": p.text, "via": _node_name(p.via),
                               **_where(p.via, p.path)} for p in graph.permissions(pod)],
        "artifact_stores": _stores(graph, pod),
        "secrets": secrets,
    }


def _stores(graph: ResourceGraph, pod: PodSpec) -> list[dict]:
    out = [{"store": loc.store.ref, "prefix": loc.key, "access": ["loads"], **_where(loc.obj, loc.path)}
           for loc in graph.locations(pod)]
    for access in graph.store_access(pod):
        if access.store is not None:
            out.append({"store": access.store.ref, "prefix": access.pattern, "access": sorted(access.access),
                        "via": _node_name(access.permission.via),
                        **_where(access.permission.via, access.permission.path)})
    for use in graph.volumes(pod):
        if use.claim is not None or use.kind in ("hostPath", "nfs", "csi"):
            out.append({"store": use.label, "prefix": "", "access": ["read", "write"] if use.writable else ["read"],
                        **_where(pod.obj, use.path)})
    return out


def _sagemaker_entry(graph: ResourceGraph, model: Any) -> dict:
    configurations = [e.source for e in graph.edges if e.kind.value == "routes-to" and e.target is model]
    reachable = []
    for configuration in configurations:
        for endpoint in (e.source for e in graph.edges if e.kind.value == "routes-to" and e.target is configuration):
            reachable.append({"from": "internet", "through": [endpoint.address, configuration.address],
                              "authenticated": "AWS SigV4 (sagemaker:InvokeEndpoint)",
                              "locations": [_where(endpoint, ("endpoint_config_name",)),
                                            _where(configuration, ())]})
    links = graph.model_roles(model)
    return {
        "workload": model.address,
        "kind": model.type,
        "namespace": "",
        **_where(model, ()),
        "reachable": reachable,
        "network_policies": None,
        "identity": {"service_account": None, "declared": True, "token_mounted": False,
                     "cloud": [{"provider": "aws", "identity": link.identity.ref, "how": link.how,
                                **_where(link.via, link.path)} for link in links]},
        "kubernetes_permissions": [],
        "cloud_permissions": [{"identity": p.identity.ref, "grant": p.text, "via": _node_name(p.via),
                               **_where(p.via, p.path)} for link in links
                              for p in graph.cloud.permissions(link.identity)],
        "artifact_stores": [{"store": loc.store.ref, "prefix": loc.key, "access": ["loads"], **_where(loc.obj, loc.path)}
                            for loc in graph.sagemaker_locations(model)] +
                           [{"store": a.store.ref, "prefix": a.pattern, "access": sorted(a.access),
                             "via": _node_name(a.permission.via), **_where(a.permission.via, a.permission.path)}
                            for link in links for a in graph.cloud.store_access(link.identity) if a.store is not None],
        "secrets": [],
    }


# --- renderers ------------------------------------------------------------------------------------------------

def render_json(graph: ResourceGraph) -> str:
    edges = [{"kind": e.kind.value, "source": _node_name(e.source), "target": _node_name(e.target),
              "note": e.note, **(_where(e.via, e.path) if e.via is not None else {})} for e in graph.edges]
    return json.dumps({"version": VERSION, "workloads": workloads(graph), "edges": edges}, indent=2) + "\n"


def render_text(graph: ResourceGraph) -> str:
    entries = workloads(graph)
    if not entries:
        return "No model-serving workload in the scan.\n"
    lines: list[str] = []
    for entry in entries:
        lines.append(f"{entry['workload']}  ({entry['file']}:{entry['line']})")
        reachable = entry["reachable"]
        lines.append("  reached from:" if reachable else "  reached from: nothing in the scan routes to it")
        for reach in reachable:
            auth = f"  [authenticated: {reach['authenticated']}]" if reach["authenticated"] else \
                "  [no authentication on the way]"
            lines.append(f"    {reach['from']}: {' -> '.join(reach['through'])}{auth}")
        identity = entry["identity"]
        if identity["service_account"]:
            token = "token mounted" if identity["token_mounted"] else "token not mounted"
            lines.append(f"  runs as: {identity['service_account']} ({token})")
        elif identity["cloud"]:
            lines.append("  runs as:")
        for cloud in identity["cloud"]:
            lines.append(f"    assumes {cloud['identity']} ({cloud['how']})")
        if entry["kubernetes_permissions"]:
            lines.append("  may, in Kubernetes:")
            for grant in entry["kubernetes_permissions"]:
                powers = f"  <- {', '.join(grant['powers'])}" if grant["powers"] else ""
                lines.append(f"    {grant['rule']} ({grant['scope']}, {grant['binding']} -> {grant['role']}){powers}")
        if entry["cloud_permissions"]:
            lines.append("  may, in the cloud:")
            lines.extend(f"    {p['grant']} (as {p['identity']}, {p['via']})" for p in entry["cloud_permissions"])
        if entry["artifact_stores"]:
            lines.append("  artifact stores:")
            for store in entry["artifact_stores"]:
                prefix = f"/{store['prefix']}" if store["prefix"] and store["prefix"] != "*" else ""
                lines.append(f"    {', '.join(store['access'])}: {store['store']}{prefix}")
        if entry["secrets"]:
            lines.append("  secrets: " + ", ".join(f"{s['name']} ({s['how']})" for s in entry["secrets"]))
        lines.append("")
    return "\n".join(lines)


def render_dot(graph: ResourceGraph) -> str:
    """The whole graph in Graphviz's DOT language; serving workloads are drawn bold."""
    serving = {pod_key(p) for p in graph.serving_pods()}
    ids: dict[str, str] = {}
    lines = ["digraph servegate {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']

    def node(value: Any) -> str:
        name = _node_name(value)
        if name not in ids:
            ids[name] = f"n{len(ids)}"
            style = ", style=bold" if isinstance(value, PodSpec) and pod_key(value) in serving else ""
            shape = ", shape=ellipse" if isinstance(value, PodSpec) else \
                ", shape=diamond" if isinstance(value, Named) and value.kind == "Internet" else ""
            lines.append(f"  {ids[name]} [label={_quote(name)}{shape}{style}];")
        return ids[name]

    for edge in graph.edges:
        source, target = node(edge.source), node(edge.target)
        label = edge.kind.value + (f"\\n{edge.note}" if edge.note else "")
        lines.append(f"  {source} -> {target} [label={_quote(label)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\\\\n", "\\n") + '"'


RENDERERS = {"text": render_text, "json": render_json, "dot": render_dot}
