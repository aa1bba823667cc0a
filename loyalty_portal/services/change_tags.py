"""Each card's change tag: the value Apple's "passes updated since" compares, and why it is safe.

Apple's pass web service asks "which of this device's passes changed since tag T?" and stores the
`lastUpdated` tag we answer with. If a change could *commit* with a tag at or below a tag we have
already handed out, that device would never fetch it. The app clock (`updated_at`) fails this: a
slow transaction stamps its time, a faster one commits a later time, a device reads in between
and is told "up to date at the later time"; then the slow one commits an older time. A plain
sequence has the same flaw (nextval is taken when the statement runs, not at commit).

Giving tags strictly in commit order would serialise every commit on the platform. Instead every
writer takes a tag no smaller than its own transaction id, and a reader hands out a *watermark*
below every transaction still in flight rather than the largest tag it saw:

- PostgreSQL: a change sets `change_tag = GREATEST(change_tag + 1, <its transaction id>)` in the
  same UPDATE that changes the card (under the card's row lock, so one card's tags grow in its
  commit order too). The watermark is `xmin - 1` of the reader's snapshot: every transaction
  with an id below xmin has finished, so every change that commits later has a transaction id,
  and so a tag, above the watermark. Changes that committed above the watermark are simply
  reported again next time (a device fetches one pass twice; it never misses one).
- SQLite (the embedded default) runs one write transaction at a time (BEGIN IMMEDIATE), so commit
  order is statement order: a change takes `MAX(change_tag) + 1` and the watermark is the largest
  committed tag.

`tests/core/test_change_tags.py` commits two transactions out of their start order and checks
that the later commit is still reported after a read taken between the two commits.
"""

from dataclasses import dataclass

from sqlalchemy import bindparam, text

from ..extensions import db

_NEXT_TAG = {
    "postgresql": "GREATEST(change_tag + 1, pg_current_xact_id()::text::bigint)",
    "sqlite": "(SELECT COALESCE(MAX(change_tag), 0) + 1 FROM loyalty_cards)",
}
_WATERMARK = {
    "postgresql": "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1",
    "sqlite": "SELECT COALESCE(MAX(change_tag), 0) FROM loyalty_cards",
}


def next_tag_sql(dialect: str) -> str:
    """SQL for a card's new tag, inside `UPDATE loyalty_cards SET change_tag = ...`."""
    return _NEXT_TAG[dialect]


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def bump_cards(where: str, params: dict) -> None:
    """Give the cards matching `where` (SQL over loyalty_cards) a new tag, in the caller's
    transaction."""
    db.session.execute(
        text(f"UPDATE loyalty_cards SET change_tag = {next_tag_sql(_dialect())} WHERE {where}"),
        params,
    )


def bump_card(card_id: int) -> None:
    bump_cards("id = :card_id", {"card_id": card_id})


def bump_program(program_id: int) -> None:
    """Every card of the program: its look, texts or rewards are on every pass."""
    bump_cards("program_id = :program_id", {"program_id": program_id})


def watermark() -> int:
    """A tag that no change committing from now on can reach or fall below."""
    return db.session.scalar(text(_WATERMARK[_dialect()]))


@dataclass(frozen=True)
class ChangedCards:
    card_ids: list[int]
    tag: int  # what to hand out as `lastUpdated`, to be sent back as the next `since`


def cards_changed_since(card_ids: list[int], since: int | None) -> ChangedCards:
    """Which of `card_ids` changed after tag `since` (None: all of them), and the tag to answer
    with. The watermark is read before the cards, so nothing can slip between the two."""
    tag = watermark()
    if not card_ids:
        return ChangedCards([], max(tag, since or 0))
    rows = db.session.execute(
        text(
            "SELECT id FROM loyalty_cards WHERE id IN :ids AND change_tag > :since ORDER BY id"
        ).bindparams(bindparam("ids", expanding=True)),
        {"ids": list(card_ids), "since": since if since is not None else -1},
    )
    return ChangedCards([row.id for row in rows], max(tag, since or 0))
