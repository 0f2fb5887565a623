"""The baseline wallet in bulk: credits, spends and clawbacks computed with numpy, written by binary COPY.

Why numpy: the ledger is the biggest table (about 18 entries per purchase) and its running
balances need a sort per account slot; SQL window functions over millions of wide rows cost
several times more than numpy sorts, and binary COPY (FREEZE for the ledger) skips both text
formatting and the later hint-bit rewrite of every page.

What is written is what the triggers would have produced, in id order = time order:
  purchase_credit      user +(dt+bonus) | dt_issuance -dt | promo_bonus -bonus (if any)
  refund/chargeback_clawback   user -x | dt_issuance +dt part | promo_bonus +bonus part
  spend / subscription_charge / funding_pledge   user -x | creator +(x - x/5) | platform_fee +x/5
A purchase's spends come after its credit and never exceed 90 % of it (30 % if partly
refunded, none if refunded), so no user balance is ever negative.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import psycopg

from opslib.seed import pgbinary, profile
from opslib.seed.pgbinary import PG_EPOCH_UNIX_US, encode, text, uuid_text, uuids
from opslib.seed.pgbinary import rows as encoded_rows
from opslib.seed.plan import Plan

SECOND = 1_000_000
HOUR = 3600 * SECOND
DAY = 24 * HOUR
CHUNK = 100_000  # ledger: transactions encoded per block group (heap order = id order between groups)
TX_CHUNK = 5_000  # transactions: small groups keep primary-key inserts close to append-only

CREDIT, REFUND, CHARGEBACK, SPEND, SUBSCRIPTION, PLEDGE = range(6)
TX_TYPE = (
    b"purchase_credit",
    b"refund_clawback",
    b"chargeback_clawback",
    b"spend",
    b"subscription_charge",
    b"funding_pledge",
)
REF_TYPE = (b"dt_purchase", b"refund", b"refund", b"message", b"subscription", b"funding_pledge")
ISSUANCE = -1  # slot-2 key of the dt_issuance account (creators are keyed by their user number)
PROMO, FEE = 1, 2  # slot-3 keys

PURCHASES = """
SELECT s.n, s.id, s.user_n::bigint, s.user_account, s.user_id, s.creator_n::bigint, s.creator_account, s.creator_id,
       s.unlock_price::bigint, s.dt_amount, s.bonus_dt, s.credit_at, s.credit_tx_id, s.spends::bigint,
       CASE s.last_spend_kind WHEN 'subscription' THEN 1 WHEN 'pledge' THEN 2 ELSE 0 END::bigint, s.order_id,
       coalesce(s.clawback_tx_id, '00000000-0000-0000-0000-000000000000'),
       coalesce(s.refund_id, '00000000-0000-0000-0000-000000000000'),
       coalesce(s.refund_done_at, s.credit_at), s.clawback_issued, s.clawback_bonus,
       CASE WHEN s.clawback_tx_id IS NULL THEN 0 WHEN s.refund_kind = 'chargeback' THEN 2 ELSE 1 END::bigint
FROM s_purchases s
WHERE s.credit_tx_id IS NOT NULL
ORDER BY s.n
"""
PURCHASE_FIELDS = (
    ("n", ">i8"),
    ("id", "V16"),
    ("user_n", ">i8"),
    ("user_account", "V16"),
    ("user_id", "V16"),
    ("creator_n", ">i8"),
    ("creator_account", "V16"),
    ("creator_id", "V16"),
    ("price", ">i8"),
    ("dt", ">i8"),
    ("bonus", ">i8"),
    ("credit_at", ">i8"),
    ("credit_tx", "V16"),
    ("spends", ">i8"),
    ("last_kind", ">i8"),
    ("order_id", "S20"),
    ("claw_tx", "V16"),
    ("refund_id", "V16"),
    ("refund_at", ">i8"),
    ("claw_issued", ">i8"),
    ("claw_bonus", ">i8"),
    ("claw_kind", ">i8"),
)

# Creators' posts (every 6 h from a week before the window), the messages spends unlock.
MESSAGE_GRID = f"""
SELECT s_uuid4(c.n * 1000 + j, 95)
FROM s_users c, generate_series(0, ((SELECT days FROM s_params) + 8) * 24 / {profile.MESSAGE_EVERY_HOURS}) j
WHERE c.kind = 'creator'
ORDER BY c.n, j
"""
SYSTEM_ACCOUNTS = "SELECT iss, promo, fee FROM s_params"

S_TX = """
CREATE UNLOGGED TABLE s_tx (
  tx_id uuid, created_at timestamptz, tx_type text, reference_id uuid, u1 uuid, u2 uuid, d1 bigint
)
"""
S_BALANCES = "CREATE UNLOGGED TABLE s_balances (account_id uuid, balance bigint, last_at timestamptz)"
APPLY_BALANCES = """
UPDATE public.wallet_accounts a SET balance_dt = b.balance, updated_at = greatest(a.updated_at, b.last_at)
FROM s_balances b WHERE a.id = b.account_id
"""
LEDGER_COLUMNS = (
    "public.wallet_ledger (id, tx_id, account_id, user_id, amount_dt, balance_after, entry_type, reference_type,"
    " reference_id, created_at)"
)
TX_COLUMNS = (
    "public.wallet_transactions (tx_id, tx_type, idempotency_key, reference_type, reference_id, reverses_tx_id, memo,"
    " created_by, created_at)"
)


@dataclass
class Book:
    """All baseline wallet transactions, sorted by (created_at, tx_id), with their entries."""

    kind: np.ndarray  # int8 tx kind
    t: np.ndarray  # created_at, PostgreSQL microseconds
    tx: np.ndarray  # (n, 16) uint8 tx ids
    p: np.ndarray  # index into the fetched purchases
    ref: np.ndarray  # (n, 16) uint8 reference ids
    k1: np.ndarray  # slot keys and amounts (slot 3 amount 0 = no third entry)
    d1: np.ndarray
    k2: np.ndarray
    d2: np.ndarray
    k3: np.ndarray
    d3: np.ndarray
    lid: np.ndarray  # ledger id of the slot-1 entry
    b1: np.ndarray  # balance_after per slot
    b2: np.ndarray
    b3: np.ndarray


def _raw(values: np.ndarray) -> np.ndarray:
    """V16 values (possibly a strided field of a record array) -> (n, 16) uint8."""
    return np.ascontiguousarray(values).view(np.uint8).reshape(-1, 16)


def _uuid7(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Version-7 ids: Unix milliseconds first, so ids sort in creation order."""
    n = t.size
    ms = ((t + PG_EPOCH_UNIX_US) // 1000).astype(np.uint64)
    out = np.empty(n, dtype=[("hi", ">u8"), ("lo", ">u8")])
    out["hi"] = (ms << np.uint64(16)) | np.uint64(0x7000) | rng.integers(0, 4096, n, dtype=np.uint64)
    out["lo"] = rng.integers(0, 1 << 62, n, dtype=np.uint64) | np.uint64(1 << 63)
    return out.view(np.uint8).reshape(n, 16)


def _uuid4(n: int, rng: np.random.Generator) -> np.ndarray:
    raw = rng.integers(0, 256, (n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return raw


def _spends(pur: np.ndarray, grid: np.ndarray, plan: Plan, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Every spend: the purchase it is paid from, its time, kind and what it references."""
    counts = pur["spends"].astype(np.int64)
    owner = np.repeat(np.arange(pur.size), counts)
    position = np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    last_kind = pur["last_kind"][owner]
    is_last = (position == counts[owner]) & (last_kind != 0)
    draw = rng.random(owner.size)
    credit = pur["credit_at"][owner]
    t = np.where(
        is_last,
        credit + 2 * HOUR + (draw * 2 * DAY).astype(np.int64),  # subscriptions/pledges: hours later
        credit + 60 * SECOND + (draw**2 * 2 * DAY).astype(np.int64),  # unlocks: soon after buying
    )
    kind = np.where(is_last, np.where(last_kind == 1, SUBSCRIPTION, PLEDGE), SPEND).astype(np.int8)
    keep = t <= _pg_us(plan.as_of)
    owner, t, kind = owner[keep], t[keep], kind[keep]
    # The unlocked message: the creator's latest paid post before the spend (every 4th post is free).
    creator = pur["creator_n"][owner]
    window_start = _pg_us(plan.start) - 7 * DAY
    offset = (creator * 37 % 360) * 60 * SECOND
    slot = (t - window_start - offset) // (profile.MESSAGE_EVERY_HOURS * HOUR)
    slot = slot - (slot % 4 == 0)
    per_creator = grid.shape[0] // (plan.creators or 1)
    ref = grid[(creator - 4) * per_creator + slot].copy()
    others = kind != SPEND
    ref[others] = _uuid4(int(others.sum()), rng)
    return {"owner": owner, "t": t, "kind": kind, "ref": ref}


def _pg_us(moment: datetime) -> int:
    return round(moment.timestamp() * SECOND) - PG_EPOCH_UNIX_US


def _running(keys: np.ndarray, amounts: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """balance_after per row (rows already in id order) and the index of each key's last row."""
    balance = np.zeros(keys.size, dtype=np.int64)
    rows = np.nonzero(valid)[0]
    order = rows[np.argsort(keys[rows], kind="stable")]
    sorted_keys = keys[order]
    total = np.cumsum(amounts[order])
    start = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    group = np.cumsum(start) - 1
    opening = (total - amounts[order])[start]
    balance[order] = total - opening[group]
    last = order[np.r_[start[1:], True]]
    return balance, last


def build(pur: np.ndarray, grid: np.ndarray, plan: Plan) -> Book:
    rng = np.random.default_rng(20_261_126 + plan.scale)
    spend = _spends(pur, grid, plan, rng)
    claw = np.nonzero(pur["claw_kind"] > 0)[0]
    n_p, n_c = pur.size, claw.size

    kind = np.concatenate(
        [np.full(n_p, CREDIT, np.int8), np.where(pur["claw_kind"][claw] == 2, CHARGEBACK, REFUND), spend["kind"]]
    ).astype(np.int8)
    t = np.concatenate([pur["credit_at"], pur["refund_at"][claw], spend["t"]]).astype(np.int64)
    tx = np.concatenate([_raw(pur["credit_tx"]), _raw(pur["claw_tx"][claw]), _uuid7(spend["t"], rng)])
    p = np.concatenate([np.arange(n_p), claw, spend["owner"]])
    ref = np.concatenate([_raw(pur["id"]), _raw(pur["refund_id"][claw]), spend["ref"]])
    dt, bonus, price = pur["dt"].astype(np.int64), pur["bonus"].astype(np.int64), pur["price"].astype(np.int64)
    ci, cb = pur["claw_issued"][claw].astype(np.int64), pur["claw_bonus"][claw].astype(np.int64)
    x = price[spend["owner"]]
    fee = x // profile.CREATOR_FEE_DIVISOR
    d1 = np.concatenate([dt + bonus, -(ci + cb), -x])
    k2 = np.concatenate([np.full(n_p + n_c, ISSUANCE), pur["creator_n"][spend["owner"]]]).astype(np.int64)
    d2 = np.concatenate([-dt, ci, x - fee])
    d3 = np.concatenate([-bonus, cb, fee])
    k3 = np.where(d3 == 0, 0, np.where(kind >= SPEND, FEE, PROMO)).astype(np.int64)
    k1 = pur["user_n"][p].astype(np.int64)

    hi = tx[:, :8].copy().view(">u8").reshape(-1).astype(np.uint64)
    lo = tx[:, 8:].copy().view(">u8").reshape(-1).astype(np.uint64)
    order = np.lexsort((lo, hi, t))
    kind, t, tx, p, ref = kind[order], t[order], tx[order], p[order], ref[order]
    k1, d1, k2, d2, k3, d3 = k1[order], d1[order], k2[order], d2[order], k3[order], d3[order]
    entries = 2 + (d3 != 0)
    lid = np.cumsum(entries) - entries + 1
    everyone = np.ones(t.size, dtype=bool)
    b1, _ = _running(k1, d1, everyone)
    b2, _ = _running(k2, d2, everyone)
    b3, _ = _running(k3, d3, d3 != 0)
    return Book(kind, t, tx, p, ref, k1, d1, k2, d2, k3, d3, lid, b1, b2, b3)


def _yyyymm(t: np.ndarray) -> np.ndarray:
    months = (t + PG_EPOCH_UNIX_US).astype("datetime64[us]").astype("datetime64[M]").astype(np.int64)
    year, month = months // 12 + 1970, months % 12 + 1
    digits = np.stack([year // 1000, year // 100 % 10, year // 10 % 10, year % 10, month // 10, month % 10], axis=1)
    return (digits + ord("0")).astype(np.uint8)


class Accounts:
    """uuid lookups for the three entry slots."""

    def __init__(self, pur: np.ndarray, system: tuple[bytes, bytes, bytes]) -> None:
        self.pur = pur
        self.iss, self.promo, self.fee = (np.frombuffer(s, dtype="V16")[0] for s in system)


def _transactions(book: Book, pur: np.ndarray, rows: np.ndarray, kind: int) -> np.ndarray:
    n = rows.size
    tx, ref, p = book.tx[rows], book.ref[rows], book.p[rows]
    order_id = np.ascontiguousarray(pur["order_id"][p]).view(np.uint8).reshape(n, 20)
    idem: np.ndarray
    memo: np.ndarray | bytes
    if kind == CREDIT:
        idem, memo = text(b"dt_purchase:", uuid_text(ref), b":credit", n=n), text(b"DT purchase ", order_id, n=n)
    elif kind in (REFUND, CHARGEBACK):
        prefix = b"refund:" if kind == REFUND else b"chargeback:"
        idem, memo = text(prefix, uuid_text(ref), b":clawback", n=n), text(b"Refund ", order_id, n=n)
    elif kind == SPEND:
        idem, memo = text(b"unlock:", uuid_text(tx), n=n), b"Unlock paid message"
    elif kind == SUBSCRIPTION:
        idem = text(b"subscription:", uuid_text(ref), b":", _yyyymm(book.t[rows]), n=n)
        memo = b"Subscription renewal"
    else:
        idem, memo = text(b"pledge:", uuid_text(ref), b":debit", n=n), b"Funding pledge"
    return encoded_rows(n, [uuids(tx), TX_TYPE[kind], idem, REF_TYPE[kind], uuids(ref), None, memo, None, book.t[rows]])


def _entries(book: Book, acc: Accounts, rows: np.ndarray, kind: int) -> np.ndarray:
    """The 2 or 3 entries of each transaction (rows share the count), consecutive, in id order."""
    pur, n = acc.pur, rows.size
    tx, ref, t, p, lid = uuids(book.tx[rows]), uuids(book.ref[rows]), book.t[rows], book.p[rows], book.lid[rows]
    tail = (TX_TYPE[kind], REF_TYPE[kind], ref, t)
    user = [lid, tx, pur["user_account"][p], pur["user_id"][p], book.d1[rows], book.b1[rows], *tail]
    counter = [pur["creator_account"][p], pur["creator_id"][p]] if kind >= SPEND else [acc.iss, None]
    second = [lid + 1, tx, *counter, book.d2[rows], book.b2[rows], *tail]
    if book.d3[rows[0]] == 0:
        return encoded_rows(n, user, second).reshape(-1)
    third = [lid + 2, tx, acc.fee if kind >= SPEND else acc.promo, None, book.d3[rows], book.b3[rows], *tail]
    return encoded_rows(n, user, second, third).reshape(-1)


def _transaction_blocks(book: Book, pur: np.ndarray) -> Iterator[np.ndarray]:
    """wallet_transactions rows, chunk by chunk in (created_at, tx_id) order, grouped by kind within a
    small chunk, so the primary key is filled nearly in order."""
    for start in range(0, book.t.size, TX_CHUNK):
        part = np.arange(start, min(start + TX_CHUNK, book.t.size))
        for kind in range(6):
            rows = part[book.kind[part] == kind]
            if rows.size:
                yield _transactions(book, pur, rows, kind).reshape(-1)


def _ledger_blocks(book: Book, acc: Accounts) -> Iterator[np.ndarray]:
    """wallet_ledger rows, chunk by chunk in id order, grouped by transaction kind within a chunk."""
    two = book.d3 == 0
    for start in range(0, book.t.size, CHUNK):
        part = np.arange(start, min(start + CHUNK, book.t.size))
        for kind in range(6):
            of_kind = part[book.kind[part] == kind]
            for rows in (of_kind[two[of_kind]], of_kind[~two[of_kind]]):
                if rows.size:
                    yield _entries(book, acc, rows, kind)


def _staged(book: Book, pur: np.ndarray, as_of_us: int) -> list[np.ndarray]:
    """What later SQL needs (deliveries, subscriptions, pledges, drills): recent unlocks and all charges/pledges."""
    keep = ((book.kind == SPEND) & (book.t >= as_of_us - 2 * DAY)) | (book.kind == SUBSCRIPTION) | (book.kind == PLEDGE)
    blocks = []
    for kind in (SPEND, SUBSCRIPTION, PLEDGE):
        rows = np.nonzero(keep & (book.kind == kind))[0]
        if rows.size:
            p = book.p[rows]
            blocks.append(
                encode(
                    rows.size,
                    [
                        uuids(book.tx[rows]),
                        book.t[rows],
                        TX_TYPE[kind],
                        uuids(book.ref[rows]),
                        pur["user_id"][p],
                        pur["creator_id"][p],
                        book.d1[rows],
                    ],
                )
            )
    return blocks


def _balances(book: Book, acc: Accounts) -> list[np.ndarray]:
    pur = acc.pur
    blocks = []
    _, last1 = _running(book.k1, book.d1, np.ones(book.t.size, dtype=bool))
    blocks.append(encode(last1.size, [pur["user_account"][book.p[last1]], book.b1[last1], book.t[last1]]))
    _, last2 = _running(book.k2, book.d2, np.ones(book.t.size, dtype=bool))
    creators = last2[book.k2[last2] != ISSUANCE]
    blocks.append(
        encode(creators.size, [pur["creator_account"][book.p[creators]], book.b2[creators], book.t[creators]])
    )
    for key, account, slot_keys, balances in (
        (ISSUANCE, acc.iss, book.k2, book.b2),
        (PROMO, acc.promo, book.k3, book.b3),
        (FEE, acc.fee, book.k3, book.b3),
    ):
        rows = np.nonzero(slot_keys == key)[0]
        if rows.size:
            i = rows[-1:]
            blocks.append(encode(1, [account, balances[i], book.t[i]]))
    return blocks


class Wallet:
    """The baseline wallet, computed once and written by two tasks (so two connections can share it)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.book: Book | None = None
        self.pur: np.ndarray | None = None

    def write_ledger(self, conn: psycopg.Connection) -> None:
        """Compute every transaction; write the ledger, balances and what later SQL needs (s_tx)."""
        pur = pgbinary.fetch(conn, PURCHASES, PURCHASE_FIELDS)
        grid = _raw(pgbinary.fetch(conn, MESSAGE_GRID, (("id", "V16"),))["id"])
        system = conn.execute(SYSTEM_ACCOUNTS).fetchone()
        assert system is not None
        acc = Accounts(pur, tuple(s.bytes for s in system))  # type: ignore[arg-type]
        book = build(pur, grid, self.plan)
        with conn.transaction():
            # Truncated in this transaction, so COPY may write the rows frozen: no later pass has to
            # set hint bits on (and, with data checksums, WAL-log) every page of the biggest table.
            conn.execute("TRUNCATE public.wallet_ledger")
            pgbinary.load(conn, LEDGER_COLUMNS, _ledger_blocks(book, acc), freeze=True)
        conn.execute(S_TX)
        pgbinary.load(conn, "s_tx", _staged(book, pur, _pg_us(self.plan.as_of)))
        conn.execute(S_BALANCES)
        pgbinary.load(conn, "s_balances", _balances(book, acc))
        conn.execute(APPLY_BALANCES)
        self.book, self.pur = book, pur

    def write_transactions(self, conn: psycopg.Connection) -> None:
        """The wallet_transactions rows (after write_ledger, possibly on another connection)."""
        assert self.book is not None and self.pur is not None, "write_ledger first"
        pgbinary.load(conn, TX_COLUMNS, _transaction_blocks(self.book, self.pur))
        self.book = self.pur = None  # release the memory
