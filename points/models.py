# The points ledger (rules, claims, accounts, entries, periods) arrives with the points issue.
