"""The points models, one module per concern; Django loads them all from here.

- ledger: Period, Account, Entry (append-only) — knows nothing of the others;
- claims: Policy, Rule, Claim, Objection;
- redemption: CatalogItem, RedemptionWindow, Order, OrderLine;
- governance: RuleBook, UnitSwitch, ExchangeReset (issue 15);
- close: Closing, ClosedCommunity, PurchaseLine, DistributionLine, NoticeLine.

`from points.models import X` keeps working for every model.
"""

from points.models.claims import Claim, Objection, Policy, Rule
from points.models.close import (
    ClosedCommunity,
    Closing,
    DistributionLine,
    NoticeLine,
    PurchaseLine,
)
from points.models.governance import ExchangeReset, RuleBook, UnitSwitch
from points.models.ledger import Account, Entry, EntryQuerySet, LedgerIsAppendOnly, Period
from points.models.redemption import CatalogItem, Order, OrderLine, RedemptionWindow

__all__ = [
    "Account",
    "CatalogItem",
    "Claim",
    "ClosedCommunity",
    "Closing",
    "DistributionLine",
    "Entry",
    "EntryQuerySet",
    "LedgerIsAppendOnly",
    "NoticeLine",
    "Objection",
    "Order",
    "OrderLine",
    "Period",
    "Policy",
    "PurchaseLine",
    "RedemptionWindow",
    "Rule",
    "RuleBook",
    "UnitSwitch",
    "ExchangeReset",
]
