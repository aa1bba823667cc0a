"""`flask loyalty verify-ledger`: prove that every card's balances and lifetime totals are the
sums of its ledger, on a live database.

- One consistent snapshot: on PostgreSQL the whole check runs in one REPEATABLE READ, READ ONLY
  transaction, so stamps committed while it runs are either wholly seen or not at all (a card
  and its rows never disagree merely because a stamp landed between two reads). On SQLite one
  transaction is already one snapshot.
- Flat memory: cards and their rows come in one query ordered by card, through a server-side
  cursor (`yield_per`); only the current card's voidable rows are held.
- Every problem is reported, not the first: each broken link of a balance chain (the row's
  recorded balance-after against the previous one plus its delta, stamps and points both), each
  card value that differs from its ledger, each void whose original is missing (or on another
  card), and each void that does not mirror its original.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..models import LoyaltyCard, LoyaltyTransaction, TransactionType
from .lifetime_totals import COLUMNS as TOTAL_COLUMNS
from .lifetime_totals import reversed_totals, totals_moved

BALANCE_COLUMNS = ("stamp_count", "points_balance", *TOTAL_COLUMNS)


@dataclass(frozen=True)
class LedgerProblem:
    card_id: int
    kind: str  # balance_chain, card_value, void_without_original, void_mismatch
    column: str
    recorded: int | None  # what the row or the card holds
    expected: int | None  # what the ledger says
    transaction_id: int | None = None

    def describe(self) -> str:
        where = f"card {self.card_id}"
        if self.transaction_id is not None:
            where += f", transaction {self.transaction_id}"
        if self.kind == "void_without_original":
            return f"{where}: void of transaction {self.expected}, which is not on this card"
        if self.kind == "void_mismatch":
            return (
                f"{where}: void moves {self.column} by {self.recorded}, its original by "
                f"{-self.expected}"
            )
        if self.kind == "balance_chain":
            return (
                f"{where}: {self.column} after is {self.recorded}, previous balance plus delta "
                f"says {self.expected}"
            )
        return f"{where}: {self.column} is {self.recorded}, ledger says {self.expected}"


@dataclass(frozen=True)
class _Row:
    """What the audit keeps of a row it may meet again as the original of a void."""

    transaction_type: str
    stamps_delta: int
    points_delta: int


def _snapshot() -> None:
    """Start the audit's transaction: one snapshot, read only."""
    db.session.rollback()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )


def _card_rows(batch_size: int):
    """Every card with its ledger rows, card by card, oldest row first; a card without rows
    comes once with NULL row columns."""
    card, tx = LoyaltyCard, LoyaltyTransaction
    statement = (
        select(
            card.id,
            *[getattr(card, column) for column in BALANCE_COLUMNS],
            tx.id,
            tx.transaction_type,
            tx.stamps_delta,
            tx.points_delta,
            tx.stamps_balance_after,
            tx.points_balance_after,
            tx.voids_transaction_id,
        )
        .outerjoin(tx, tx.card_id == card.id)
        .order_by(card.id, tx.id)
        .execution_options(yield_per=batch_size)
    )
    return db.session.execute(statement)


def _audit_card(card_id: int, card_values: tuple, rows: list) -> Iterator[LedgerProblem]:
    sums = dict.fromkeys(BALANCE_COLUMNS, 0)
    originals: dict[int, _Row] = {}
    for tx_id, tx_type, stamps_delta, points_delta, stamps_after, points_after, voids in rows:
        for column, delta, recorded in (
            ("stamp_count", stamps_delta, stamps_after),
            ("points_balance", points_delta, points_after),
        ):
            if recorded != sums[column] + delta:
                yield LedgerProblem(
                    card_id, "balance_chain", column, recorded, sums[column] + delta, tx_id
                )
            # The chain goes on from what the row recorded, so one bad row is reported once.
            sums[column] = recorded
        if TransactionType(tx_type) == TransactionType.VOID:
            original = originals.pop(voids, None)
            if original is None:
                yield LedgerProblem(card_id, "void_without_original", "voids_transaction_id",
                                    voids, voids, tx_id)
                moved = {}
            else:
                moved = reversed_totals(original)
                for column, own, theirs in (
                    ("stamps_delta", stamps_delta, original.stamps_delta),
                    ("points_delta", points_delta, original.points_delta),
                ):
                    if own != -theirs:
                        yield LedgerProblem(card_id, "void_mismatch", column, own, theirs, tx_id)
        else:
            moved = totals_moved(tx_type, stamps_delta, points_delta)
            originals[tx_id] = _Row(tx_type, stamps_delta, points_delta)
        for column, delta in moved.items():
            sums[column] += delta
    # The card's balances against the sum of its deltas (not the last recorded balance).
    sums["stamp_count"] = sum(row[2] for row in rows)
    sums["points_balance"] = sum(row[3] for row in rows)
    for column, value in zip(BALANCE_COLUMNS, card_values, strict=True):
        if value != sums[column]:
            yield LedgerProblem(card_id, "card_value", column, value, sums[column])


def verify_ledger(batch_size: int = 2000) -> list[LedgerProblem]:
    """Every problem found between the cards and their ledger, in card order; [] when all agree.
    Reads one snapshot and holds one card's rows at a time."""
    problems: list[LedgerProblem] = []
    _snapshot()
    try:
        current_id, card_values, rows = None, (), []
        for record in _card_rows(batch_size):
            card_id = record[0]
            if card_id != current_id:
                if current_id is not None:
                    problems.extend(_audit_card(current_id, card_values, rows))
                current_id, card_values, rows = card_id, tuple(record[1:8]), []
            if record[8] is not None:
                rows.append(tuple(record[8:]))
        if current_id is not None:
            problems.extend(_audit_card(current_id, card_values, rows))
    finally:
        db.session.rollback()
    return problems
