"""What `servegate fix` did: the fixes applied, the ones rolled back, and the findings that remain.

A pure function of the engine's outcome. Applied fixes are listed at the line of the finding in the file as
it was; remaining findings at their line in the fixed file (which is what the user opens next).
"""

from __future__ import annotations

from collections import Counter

from servegate.findings import Applicability, Finding
from servegate.fix.engine import FixOutcome


def _where(finding: Finding) -> str:
    return f"{finding.location.file}:{finding.location.line}"


def _gist(message: str, limit: int = 140) -> str:
    """The start of a message: `servegate scan` prints all of it."""
    return message if len(message) <= limit else message[: limit - 1].rstrip() + "…"


def render_summary(outcome: FixOutcome, unsafe: bool, written: bool) -> str:
    first_seen = {f.fingerprint: f for f in outcome.before.findings}
    out: list[str] = []
    verb = "applied" if written else "would apply"
    kinds = Counter(item.fix.applicability.value for item in outcome.applied)
    files = sorted({e.file for item in outcome.applied for e in item.fix.edits})
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    out.append(f"{verb} {len(outcome.applied)} fixes" + (f" ({counts})" if counts else "")
               + f" to {len(files)} files in {outcome.rounds} rounds; {len(outcome.fixed)} findings fixed")
    applied = [(first_seen.get(item.finding.fingerprint, item.finding), item) for item in outcome.applied]
    for original, item in sorted(applied, key=lambda pair: pair[0].sort_key()):
        out.append(f"  {_where(original)}  {item.finding.rule_id}  fix ({item.fix.applicability.value}): "
                   f"{item.fix.title}")
    for item, problem in outcome.broken:
        out.append(f"not applied ({problem}): {_where(item.finding)}  {item.finding.rule_id}  {item.fix.title}")
    remaining = [f for f in outcome.after.findings if not f.suppressed]
    out.append(f"{len(remaining)} findings remain" + (":" if remaining else ""))
    held_back = 0
    for finding in remaining:
        note = ""
        if finding.fixes:
            unapplied = [fix for fix in finding.fixes if fix.applicability is Applicability.UNSAFE and not unsafe]
            note = "  [unsafe fix available: --unsafe]" if unapplied else "  [fix available]"
            held_back += bool(unapplied)
        out.append(f"  {_where(finding)}  {finding.rule_id}  {_gist(finding.message)}{note}")
    if held_back:
        out.append(f"{held_back} of them have only unsafe fixes: review `servegate fix --unsafe --diff`")
    for error in outcome.after.errors:
        out.append(f"error {error.file}:{error.line}: {error.message}")
    return "\n".join(out) + "\n"
