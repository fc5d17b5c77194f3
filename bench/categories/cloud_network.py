"""Cloud network rules (security groups, VPC firewalls, NSGs, NACLs) -> benchmark categories.

TF-NET-001 (SSH/RDP from anywhere) is net.open_admin_port, itself a sub-category of net.open_ingress.
MLS-NET-002 (ML ports from anywhere) and TF-NET-002 (any other port from anywhere) are net.open_ingress.
TF-NET-004 (network ACL admitting SSH/RDP from anywhere) is net.open_admin_port.
TF-NET-003 (the default security group has rules) has no category: it is about the default group
allowing any traffic at all, usually only from itself, not about the internet.
"""

CATEGORIES: dict[str, object] = {
    "TF-NET-001": ["net.open_admin_port"],
    "TF-NET-002": ["net.open_ingress"],
    "TF-NET-004": ["net.open_admin_port"],
    "MLS-NET-002": ["net.open_ingress"],
}
