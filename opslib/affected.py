"""Affected items keyed so that an incident's impact is counted once across pages and runs.

A page's impact step names what it affected: orders (with their KRW and DT), users and
messages. The incident page (§1) adds up every run of a work item; the same order seen by two
pages, or by two runs of one page, must count once. So each item travels under a key:

    order   sha256("order:<provider>:<order_id>")[:16]   KRW and DT per order; an order seen
                                                         twice keeps the larger figure of each
    user    sha256("user:<user id>")[:16]               distinct users
    message sha256("message:<message id>")[:16]         distinct messages

The keys are pseudonyms: no user id, order id or message id is written to the evidence (a key
cannot be read back without the database it came from), yet equal items get equal keys in every
page's result.json.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

DT_KINDS = ("dt_not_credited", "dt_credited_twice", "dt_not_clawed_back")


def key(kind: str, *parts: object) -> str:
    return hashlib.sha256(":".join([kind, *(str(p) for p in parts)]).encode("utf-8")).hexdigest()[:16]


def order_key(provider: object, order_id: object) -> str:
    return key("order", provider, order_id)


def user_key(user_id: object) -> str:
    return key("user", user_id)


def message_key(message_id: object) -> str:
    return key("message", message_id)


@dataclass(frozen=True)
class Order:
    krw: int = 0
    dt_not_credited: int = 0
    dt_credited_twice: int = 0
    dt_not_clawed_back: int = 0

    @property
    def dt(self) -> int:
        return self.dt_not_credited + self.dt_credited_twice + self.dt_not_clawed_back

    def widest(self, other: Order) -> Order:
        """The same order seen twice: the larger figure of each kind (never the sum)."""
        return Order(*(max(getattr(self, f), getattr(other, f)) for f in ("krw", *DT_KINDS)))

    def to_json(self) -> dict[str, int]:
        return {f: getattr(self, f) for f in ("krw", *DT_KINDS)}


@dataclass(frozen=True)
class Affected:
    """What one page (or a whole incident) affected, by key."""

    orders: Mapping[str, Order] = field(default_factory=dict)
    users: frozenset[str] = frozenset()
    messages: frozenset[str] = frozenset()

    @property
    def krw(self) -> int:
        return sum(o.krw for o in self.orders.values())

    def dt(self, kind: str | None = None) -> int:
        return sum(o.dt if kind is None else getattr(o, kind) for o in self.orders.values())

    @property
    def empty(self) -> bool:
        return not (self.orders or self.users or self.messages)

    def to_json(self) -> dict[str, Any]:
        return {
            "orders": {k: o.to_json() for k, o in sorted(self.orders.items())},
            "users": sorted(self.users),
            "messages": sorted(self.messages),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Affected:
        orders = {
            str(k): Order(**{f: int(v.get(f, 0) or 0) for f in ("krw", *DT_KINDS)})
            for k, v in (data.get("orders") or {}).items()
        }
        users = frozenset(map(str, data.get("users") or ()))
        return cls(orders, users, frozenset(map(str, data.get("messages") or ())))


def merge(*parts: Affected) -> Affected:
    orders: dict[str, Order] = {}
    for part in parts:
        for k, o in part.orders.items():
            orders[k] = orders[k].widest(o) if k in orders else o
    return Affected(
        orders,
        frozenset().union(*(p.users for p in parts)),
        frozenset().union(*(p.messages for p in parts)),
    )


def from_rows(
    orders: Iterable[Mapping[str, Any]] = (), users: Iterable[object] = (), messages: Iterable[object] = ()
) -> Affected:
    """orders: rows with provider, order_id, amount_krw and the DT columns (one order may repeat);
    users/messages: raw ids (None skipped). Users of the order rows (user_id) are included."""
    merged: dict[str, Order] = {}
    seen_users = {user_key(u) for u in users if u is not None and str(u) not in ("", "nan", "None")}
    for row in orders:
        k = order_key(row["provider"], row["order_id"])
        o = Order(int(row.get("amount_krw", 0) or 0), *(int(row.get(f, 0) or 0) for f in DT_KINDS))
        merged[k] = merged[k].widest(o) if k in merged else o
        u = row.get("user_id")
        if u is not None and str(u) not in ("", "nan", "None"):
            seen_users.add(user_key(u))
    return Affected(merged, frozenset(seen_users), frozenset(message_key(m) for m in messages if m is not None))
