"""Admin for residents: households, residents and key-population tags (people), visits, and
the needs board with rectifications (needs).

One module per concern; importing them here registers their admins.
"""

from residents.admin import needs, people, visits

__all__ = ["needs", "people", "visits"]
