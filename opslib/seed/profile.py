"""The shape of the demo platform: volumes per scale unit, catalogue, daily rhythm, PG vocabularies.

Everything the generators treat as "realistic" lives here, so the data's character can be
read (and changed) in one place. Rates are shares of purchases unless said otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

DAYS = 14  # history length; scale multiplies users and volume, never days
FANS_PER_SCALE = 3_000
CREATORS_PER_SCALE = 30
ADMINS = 3
PURCHASES_PER_DAY_PER_SCALE = 1_500
NEW_USER_SHARE = 0.08  # fans who signed up inside the history window (they do not buy)

# Relative traffic by KST hour (index = hour): quiet 03-07, evening peak 20-23.
KST_HOURLY_WEIGHT = (
    0.95,
    0.75,
    0.50,
    0.30,
    0.20,
    0.15,
    0.15,
    0.20,
    0.35,
    0.50,
    0.60,
    0.70,
    0.85,
    0.90,
    0.80,
    0.80,
    0.85,
    0.95,
    1.10,
    1.35,
    1.75,
    1.95,
    2.00,
    1.60,
)


@dataclass(frozen=True)
class Package:
    sku: str
    name: str
    dt_amount: int
    bonus_dt: int
    price_krw: int
    share: float  # of purchases


PACKAGES = (
    Package("dt_100", "DT 100", 100, 0, 1_100, 0.25),
    Package("dt_500", "DT 500", 500, 0, 5_500, 0.25),
    Package("dt_1000", "DT 1,000 (+50)", 1_000, 50, 11_000, 0.25),
    Package("dt_3000", "DT 3,000 (+300)", 3_000, 300, 33_000, 0.12),
    Package("dt_5000", "DT 5,000 (+600)", 5_000, 600, 55_000, 0.08),
    Package("dt_10000", "DT 10,000 (+1,500)", 10_000, 1_500, 110_000, 0.05),
)

PORTONE_SHARE = 0.65  # the rest goes through TossPayments

# Purchase outcomes. PG declines and abandoned checkouts are evenly spaced (every Nth purchase in
# time order): any hour then shows the profile's rate, not a dice roll a small window amplifies.
FAILED_EVERY = 20  # 5 % declined at the PG
ABANDONED_EVERY = 33  # 3 % pending and left (only recognisable after an hour)
# The rest, as cumulative thresholds on one uniform draw.
REFUNDED = 0.010
PARTIALLY_REFUNDED = 0.005
CHARGEBACK = 0.0005  # PortOne disputes
OPEN_REFUND = 0.0015  # paid, refund requested/processing right now

# Webhook delivery anomalies (PortOne), as shares of deliveries; none in the quiet tail.
TIMEOUT_RETRY = 0.004  # first attempt unanswered (504), processed by the retry a minute later
DUPLICATE_RETRY = 0.025  # processed, then a redelivery answered 200 'duplicate'
QUIET_TAIL_HOURS = 3  # no timeouts in the last hours: a healthy hour must read healthy

# Spending: message unlocks (and a few subscriptions / pledges) paid from each credited purchase.
MAX_SPENDS_PER_PURCHASE = 16
SPEND_SHARE_OF_CREDIT = 0.9  # a purchase's spends never exceed this share of its DT
CREATOR_FEE_DIVISOR = 5  # platform keeps 1/5 (20 %) of what fans spend on creators
SUBSCRIPTION_SHARE = 0.04  # of purchases whose last spend is a subscription charge
PLEDGE_SHARE = 0.02  # of purchases whose last spend is a funding pledge
MESSAGE_EVERY_HOURS = 6  # each creator posts a (mostly paid) message this often

# TossPayments failure.code / message (docs.tosspayments.com error codes).
TOSS_FAILURES = (
    ("REJECT_CARD_PAYMENT", "한도초과 혹은 잔액부족으로 결제에 실패했습니다."),
    ("EXCEED_MAX_DAILY_PAYMENT_COUNT", "하루 결제 가능 횟수를 초과했습니다."),
    ("INVALID_CARD_EXPIRATION", "카드 정보를 다시 확인해주세요. (유효기간)"),
    ("PAY_PROCESS_CANCELED", "사용자에 의해 결제가 취소되었습니다."),
    ("REJECT_CARD_COMPANY", "결제 승인이 거절되었습니다."),
    ("INVALID_STOPPED_CARD", "정지된 카드 입니다."),
)
# PortOne V2 failure.pgCode / pgMessage as relayed from the underlying card PG.
PORTONE_FAILURES = (
    ("3001", "카드 한도 초과"),
    ("1051", "잔액 부족"),
    ("V803", "카드 유효기간 오류"),
    ("USER_CANCEL", "사용자가 결제를 취소하였습니다"),
    ("8328", "카드사 승인 거절"),
)
# What an outage at the PG looks like (checkout_failures drill).
TOSS_OUTAGE_FAILURES = (
    ("PROVIDER_ERROR", "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요."),
    ("FAILED_INTERNAL_SYSTEM_PROCESSING", "내부 시스템 처리 작업이 실패했습니다. 잠시 후 다시 시도해주세요."),
)
PORTONE_OUTAGE_FAILURES = (("F001", "PG사 통신 장애 (승인 응답 없음)"),)

PORTONE_STORE_ID = "store-8c4f2a6e-31d9-4b57-9f0e-6a2d1c7b5e93"
TOSS_MID = "fanplatfm1"
PORTONE_WEBHOOK_IP = "52.78.5.241"  # PortOne V2 webhook source (PortOne docs)
TOSS_WEBHOOK_IPS = ("13.124.18.147", "13.124.108.35", "3.36.173.151", "3.38.81.32")
PROJECT_URL = "https://xkqpzfanplatform.supabase.co"

# Edge Function releases seen in the history.
WEBHOOK_VERSION_OLD = "payment-webhook@v40"
WEBHOOK_VERSION = "payment-webhook@v41"
WEBHOOK_VERSION_BAD = "payment-webhook@v42"  # the release an incident drill ships
WEBHOOK_DEPLOYED_DAYS_AGO = 2  # inside the 3 days of logs, so the switch is visible
