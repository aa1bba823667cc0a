-- The stamp transaction at its barest: lock the card, insert a ledger row, update the balance.
\set card random(1, :cards)
BEGIN;
SELECT stamp_count FROM loyalty_cards WHERE id = :card FOR UPDATE;
INSERT INTO loyalty_transactions (program_id, card_id, transaction_type, stamps_delta, points_delta,
    stamps_balance_after, points_balance_after, created_at)
    VALUES (1, :card, 'stamp_earned', 1, 0, 1, 0, now());
UPDATE loyalty_cards SET stamp_count = stamp_count + 1 WHERE id = :card;
END;
