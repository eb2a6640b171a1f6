"""Writes for residents, one module per concern: people (households, residents, tags), visits,
needs (the loop from record to escalation), ratings (ratings and rectifications) and bulk (the
admin's bulk steps and the daily jobs).

Import the module of the concern (`from residents.services import needs`); nothing is
re-exported here, so each write has one address.
"""
