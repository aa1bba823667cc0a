from loyalty_portal.models import LoyaltyTransaction, User, Vendor


def test_demo_is_idempotent_and_its_ledger_verifies(runner, db):
    first = runner.invoke(args=["loyalty", "demo"])
    assert first.exit_code == 0, first.output
    assert "counter@cafe-lumiere.test" in first.output and "Anna 4827" in first.output
    counts = (
        db.session.query(Vendor).count(),
        db.session.query(User).count(),
        db.session.query(LoyaltyTransaction).count(),
    )
    assert counts[0] == 2 and counts[2] > 50
    second = runner.invoke(args=["loyalty", "demo"])
    assert second.exit_code == 0, second.output
    assert (
        db.session.query(Vendor).count(),
        db.session.query(User).count(),
        db.session.query(LoyaltyTransaction).count(),
    ) == counts
    assert runner.invoke(args=["loyalty", "demo", "--if-empty"]).output.startswith(
        "Database already"
    )
    assert runner.invoke(args=["loyalty", "verify-ledger"]).exit_code == 0
