"""The points API (under /api/v1/, routed in config.api), one module per concern: claims
(rules, claims, objections, rankings), ledger (accounts, entries), quarters (notice, close,
lists), redemption (catalog, windows, orders) and me."""
