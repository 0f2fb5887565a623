"""트리아지 4: storage buckets that serve their objects publicly (storage.buckets.public), against the contract."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Connection

from opslib.fetch import QueryTiming
from opslib.results import Finding
from opslib.rls_audit import baseline
from opslib.rls_audit.audit import audit_part, part_findings
from opslib.rls_audit.compare import frame, html_safe
from opslib.rls_audit.settings import settings

CHECKS = ("rls-audit.public_bucket",)


@dataclass(frozen=True)
class BucketAudit:
    buckets: pd.DataFrame
    drift: pd.DataFrame
    known: pd.DataFrame
    findings: tuple[Finding, ...]
    timings: tuple[QueryTiming, ...]


def buckets(conn: Connection) -> BucketAudit:
    audited = audit_part(conn, "buckets", ())
    if audited.live is None:
        empty = pd.DataFrame()
        return BucketAudit(empty, empty, empty, part_findings(audited, CHECKS), audited.timings)
    contract = baseline.contract()["buckets"]
    personal = settings().personal_buckets
    rows = [
        {
            "bucket": b,
            "public": public,
            "personal media": b in personal,
            "contract": ("public" if contract[b] else "private") if b in contract else "계약에 없음 (new)",
        }
        for b, public in sorted(audited.live["buckets"].items())
    ]
    return BucketAudit(
        html_safe(pd.DataFrame(rows)),
        frame(audited.drift.new, "드리프트 (drift)"),
        frame(audited.drift.known, "계약의 알려진 허점 (contract's known gap)"),
        part_findings(audited, CHECKS),
        audited.timings,
    )
