"""Admin for points: the rule books, the committee's approval queue, the read-only ledger and
balances, quarters (with their printable notices and card sheets), policies and objections.

Scoping comes from core.admin like every admin of the product. Writes go through
points.services, never through a ModelForm's save():

- a claim is added on a form of its own that calls `submit_claim` (the same checks as the
  API: rule of the resident's community, points fitting the rule, the cap per quarter), and is
  never edited afterwards: it is approved or rejected (`approve_claim`, `reject_claim`, or the
  set-based bulk actions), and kept, so the change page is read-only;
- the ledger (Entry) and the balances (Account) have no add, change or delete permission at
  all: a mistake is corrected by a reversal, through an objection;
- an objection is upheld or dismissed from its (read-only) page;
- a rule book version (rulebooks) is made, changed while a draft, adopted and compared
  through points.services.rulebooks; an adopted version's rules are never changed.

One module per concern (claims, ledger, objections, redemption, close); importing them here
registers their admins.
"""

from points.admin import claims, close, ledger, objections, redemption, rulebooks

__all__ = ["claims", "close", "ledger", "objections", "redemption", "rulebooks"]
