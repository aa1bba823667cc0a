"""Use cases. Each balance-changing function is one database transaction and owns its rules."""
