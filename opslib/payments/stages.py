"""The payment pipeline's vocabulary: stages, providers, the DB statuses that mean paid."""

from __future__ import annotations

import enum


class Stage(enum.Enum):
    """Runbook §3-A 트리아지 1: Checkout → Confirm → Webhook → 원장 반영 (Ledger).

    The string values are shared with the demo seeder's scenarios; compare `.value`.
    """

    CHECKOUT = "checkout"
    CONFIRM = "confirm"
    WEBHOOK = "webhook"
    LEDGER = "ledger"

    @property
    def order(self) -> int:
        return _ORDER[self.value]

    @property
    def label(self) -> str:
        return _LABEL[self.value]

    @property
    def label_ko(self) -> str:
        return _LABEL_KO[self.value]


_ORDER = {"checkout": 1, "confirm": 2, "webhook": 3, "ledger": 4}
_LABEL = {"checkout": "Checkout", "confirm": "Confirm", "webhook": "Webhook", "ledger": "Ledger"}
_LABEL_KO = {"checkout": "결제 시작", "confirm": "PG 승인", "webhook": "웹훅 반영", "ledger": "원장 반영"}

# dt_purchases.provider's CHECK: the only two PGs the app speaks to.
PROVIDERS: tuple[str, ...] = ("portone", "tosspayments")
_PROVIDER_LABEL = {"portone": "PortOne", "tosspayments": "TossPayments"}


def provider_label(provider: str | None) -> str:
    if provider is None:
        return "-"
    return _PROVIDER_LABEL.get(provider, provider)
