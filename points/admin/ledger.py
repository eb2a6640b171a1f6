"""Admin for the ledger: entries and accounts, read only (a mistake is corrected by a
reversal, through an objection)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
)
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ScopedModelAdmin, ScopedRelatedFilter
from points.admin.common import ReadOnlyAdminMixin, signed
from points.models.ledger import Account, Entry

# ---------------------------------------------------------------------------- the ledger


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    list_display = [
        "created_at", "resident", "card_number", "kind", "signed_amount", "balance_after",
        "period", "note", "created_by",
    ]  # fmt: skip
    list_filter = [
        "kind",
        "period",
        ("account__resident__household__grid__community", ScopedRelatedFilter),
        ("account__resident__household__grid", ScopedRelatedFilter),
    ]
    list_select_related = ["account__resident", "period", "created_by"]
    search_fields = ["account__resident__name", "=account__card_number"]
    search_help_text = _("A resident's name, or a whole card number.")
    date_hierarchy = "created_at"
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request: HttpRequest) -> QuerySet[Entry]:
        # The change page names the entry's account (resident and balance) and what it
        # reverses. (The changelist skips list_select_related for a queryset that already has
        # a select_related: this list includes it.)
        related = [*self.list_select_related, "reverses"]
        return super().get_queryset(request).select_related(*related)

    @admin.display(description=_("resident"), ordering="account__resident__name")
    def resident(self, obj: Entry) -> str:
        return obj.account.resident.name

    @admin.display(description=_("card number"), ordering="account__card_number")
    def card_number(self, obj: Entry) -> str:
        return obj.account.card_number

    @admin.display(description=_("amount"), ordering="amount")
    def signed_amount(self, obj: Entry) -> str:
        return signed(obj.amount)


@admin.register(Account)
class AccountAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    list_display = ["resident", "card_number", "grid", "balance", "entries"]
    list_filter = [
        ("resident__household__grid__community", ScopedRelatedFilter),
        ("resident__household__grid", ScopedRelatedFilter),
    ]
    list_select_related = ["resident__household__grid__community"]
    search_fields = ["resident__name", "=card_number"]
    search_help_text = _("A resident's name, or a whole card number.")
    fields = ["resident", "card_number", "grid", "balance", "entries"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request: HttpRequest) -> QuerySet[Account]:
        return super().get_queryset(request).select_related(*self.list_select_related)

    @admin.display(description=_("grid"), ordering="resident__household__grid")
    def grid(self, obj: Account) -> str:
        return str(obj.resident.household.grid)

    @admin.display(description=_("entries"), ordering="last_seq")
    def entries(self, obj: Account) -> str:
        url = reverse("admin:points_entry_changelist") + f"?account__id__exact={obj.pk}"
        label = ngettext("%(count)d entry", "%(count)d entries", obj.last_seq) % {
            "count": obj.last_seq
        }
        return format_html('<a href="{}">{}</a>', url, label)
