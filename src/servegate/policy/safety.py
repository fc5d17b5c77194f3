"""Built-ins a scan must never run: the network and the scanner's environment are out of a policy's reach.

The bindings expose no OPA capabilities setting (and registering a Python function under a built-in's name does
not replace it: ``http.send`` still dials), so servegate reads each module's parsed syntax tree and refuses any
reference to these built-ins, whether called or replaced with ``with``. Rego has no dynamic calls, so a
reference is the only way to reach one.
"""

from __future__ import annotations

from typing import Any, Iterator

REFUSED = {
    ("http", "send"): "http.send",  # arbitrary HTTP requests
    ("net", "lookup_ip_addr"): "net.lookup_ip_addr",  # DNS lookups
    ("opa", "runtime"): "opa.runtime",  # the process environment, where CI keeps its secrets
}


def refused_builtins(ast: Any) -> Iterator[str]:
    """The refused built-ins a module refers to, each once, in the order found."""
    seen: set[str] = set()
    stack = [ast]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "ref" and isinstance(node.get("value"), list):
                name = _refused(node["value"])
                if name and name not in seen:
                    seen.add(name)
                    yield name
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))


def _refused(terms: list[Any]) -> str | None:
    if len(terms) < 2 or not all(isinstance(t, dict) for t in terms[:2]):
        return None
    head, step = terms[0], terms[1]
    if head.get("type") != "var" or step.get("type") != "string":
        return None
    return REFUSED.get((head.get("value"), step.get("value")))
