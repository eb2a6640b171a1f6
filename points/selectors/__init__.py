"""Reads for points, one module per concern: ledger, claims (with the notice and the ranking),
redemption. Scoped, with the joins each list needs, sums done in the database."""
