"""Admin for residents: households, residents and key-population tags (people), visits, and
the needs board with rectifications (needs), and absences (外出登记, issue 15).

One module per concern; importing them here registers their admins.
"""

from residents.admin import absences, needs, people, visits

__all__ = ["absences", "needs", "people", "visits"]
