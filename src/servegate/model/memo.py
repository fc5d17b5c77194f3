"""Values derived from a scan's inventories and resource graph, kept with them."""

from __future__ import annotations

from typing import Any, Callable, Hashable


class Memo:
    """What rules share about an inventory or the graph (an index of it, or what one of its objects yields), computed
    once and kept in the inventory or graph itself, never in a rule module, where it would keep the last scan's
    model alive."""

    __slots__ = ()
    _memo: dict[Hashable, Any]  # set by the class

    def memo(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]
