"""Which lifetime totals of a card each kind of ledger row moves, in one place.

The card keeps lifetime counters (stamps earned and redeemed, points earned and redeemed, rewards
redeemed) beside its balances. The services move them when they write a row, a void moves back
those of the row it cancels, verify-ledger recomputes them, and the statistics sum the same
rule over the ledger per day: all of them read this table.
"""

from sqlalchemy import case, func
from sqlalchemy.sql.elements import ColumnElement

from ..models import LoyaltyTransaction, TransactionType

T = TransactionType
STAMPS, POINTS, ONE = "stamps_delta", "points_delta", None

# transaction type -> {card column: (the row's delta it counts, or ONE for "one per row"; sign)}
MOVES: dict[TransactionType, dict[str, tuple[str | None, int]]] = {
    T.STAMP_EARNED: {"total_stamps_earned": (STAMPS, 1)},
    T.STAMP_REWARD_REDEEMED: {"total_stamps_redeemed": (STAMPS, -1),
                              "total_rewards_redeemed": (ONE, 1)},
    T.POINTS_EARNED: {"total_points_earned": (POINTS, 1)},
    T.POINTS_REWARD_REDEEMED: {"total_points_redeemed": (POINTS, -1),
                               "total_rewards_redeemed": (ONE, 1)},
    T.ADJUSTMENT: {},  # corrects a balance, not what was earned or redeemed
    T.VOID: {},  # moves back the totals of the row it cancels (see reversed_totals)
}
COLUMNS = (
    "total_stamps_earned",
    "total_stamps_redeemed",
    "total_points_earned",
    "total_points_redeemed",
    "total_rewards_redeemed",
)


def totals_moved(transaction_type, stamps_delta: int = 0, points_delta: int = 0) -> dict[str, int]:
    """The lifetime-total deltas of a row of this type with these balance deltas."""
    deltas = {STAMPS: stamps_delta, POINTS: points_delta, ONE: 1}
    return {
        column: sign * deltas[source]
        for column, (source, sign) in MOVES[TransactionType(transaction_type)].items()
    }


def totals_moved_by(row) -> dict[str, int]:
    """The lifetime-total deltas of a ledger row (anything with the row's type and deltas)."""
    return totals_moved(row.transaction_type, row.stamps_delta, row.points_delta)


def reversed_totals(original) -> dict[str, int]:
    """What a void of `original` moves: the original's totals, backwards."""
    return {column: -delta for column, delta in totals_moved_by(original).items()}


def ledger_sum(column: str, tx=LoyaltyTransaction) -> ColumnElement:
    """SQL: the sum of what the selected ledger rows added to a card's lifetime `column`
    (voids and adjustments count nothing: the statistics show what happened at the counter)."""
    whens = []
    for transaction_type, moves in MOVES.items():
        if column in moves:
            source, sign = moves[column]
            amount = 1 if source is ONE else getattr(tx, source)
            whens.append((tx.transaction_type == transaction_type, sign * amount))
    return func.coalesce(func.sum(case(*whens, else_=0)), 0)
