"""Runbook §1 영향: users, orders, KRW, DT and messages over every verified run, each item counted once.

Each page's impact step keys what it affected (opslib.affected): an order seen by the payments
page in two runs, or by two pages, is one order with its larger KRW/DT figure, never two.
A page that reports no keyed impact is named, so a total is never silently partial.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from opslib.affected import Affected, merge
from opslib.incident.bundles import Evidence


@dataclass(frozen=True)
class Impact:
    total: Affected
    by_page: pd.DataFrame  # page, runs, users, orders, krw, dt, messages (each page's own union)
    unkeyed_pages: tuple[str, ...]  # pages whose runs carry no keyed impact (not summed)

    @property
    def users(self) -> int:
        return len(self.total.users)

    @property
    def orders(self) -> int:
        return len(self.total.orders)

    @property
    def krw(self) -> int:
        return self.total.krw

    @property
    def dt(self) -> int:
        return self.total.dt()

    @property
    def messages(self) -> int:
        return len(self.total.messages)

    def lines(self) -> list[str]:
        t = self.total
        out = [
            f"영향 사용자 수: {self.users:,}명 (distinct users)",
            f"매출 영향: 주문 {self.orders:,}건, {self.krw:,}원 (orders, KRW)",
            (
                f"데이터 영향: DT {self.dt:,} (미적립 {t.dt('dt_not_credited'):,} · 이중 적립 "
                f"{t.dt('dt_credited_twice'):,} · 환불 후 미회수 {t.dt('dt_not_clawed_back'):,}), "
                f"메시지 {self.messages:,}건"
            ),
        ]
        if self.unkeyed_pages:
            out.append(f"합계에 없는 페이지 (no keyed impact, see its report): {', '.join(self.unkeyed_pages)}")
        return out


def total(ev: Evidence) -> Impact:
    rows = []
    parts = []
    unkeyed = []
    for page in ev.pages:
        runs = [r for r in ev.runs if r.runbook == page]
        keyed = [r.affected for r in runs if r.affected is not None]
        if not keyed:
            unkeyed.append(page)
            continue
        mine = merge(*keyed)
        parts.append(mine)
        rows.append(
            {
                "page": page,
                "runs": len(runs),
                "users": len(mine.users),
                "orders": len(mine.orders),
                "krw": mine.krw,
                "dt": mine.dt(),
                "messages": len(mine.messages),
            }
        )
    everything = merge(*parts) if parts else Affected()
    by_page = pd.DataFrame(rows, columns=["page", "runs", "users", "orders", "krw", "dt", "messages"])
    return Impact(everything, by_page, tuple(unkeyed))
