"""Writes for points, one module per concern: ledger, claims, objections, redemption, close.

Import the module of the concern (`from points.services import ledger`); nothing is re-exported
here, so each write has one address.
"""
