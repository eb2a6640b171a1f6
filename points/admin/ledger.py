"""Admin for the ledger: entries and accounts, read only (a mistake is corrected by a
reversal, through an objection)."""

from __future__ import annotations

from typing import Any

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


class UnitFilter(admin.SimpleListFilter):
    """Residents' own accounts, or households' shared accounts (以户为单位)."""

    title = _("account unit")
    parameter_name = "unit"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("resident", _("resident")), ("household", _("household"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        prefix = "account__" if queryset.model is Entry else ""
        if self.value() in ("resident", "household"):
            return queryset.filter(
                **{f"{prefix}shared_household__isnull": self.value() == "resident"}
            )
        return queryset


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    list_display = [
        "created_at", "holder", "card_number", "kind", "signed_amount", "balance_after",
        "signed_honour", "period", "note", "created_by",
    ]  # fmt: skip
    list_filter = [
        "kind",
        "period",
        UnitFilter,
        ("account__household__grid__community", ScopedRelatedFilter),
        ("account__household__grid", ScopedRelatedFilter),
    ]
    # holder_name reads the household's head for a household's account.
    list_select_related = [
        "account__resident", "account__household__head", "period", "created_by",
    ]  # fmt: skip
    search_fields = [
        "account__resident__name", "account__household__head__name", "=account__card_number",
    ]  # fmt: skip
    search_help_text = _("A resident's name (or a head of household's), or a whole card number.")
    date_hierarchy = "created_at"
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request: HttpRequest) -> QuerySet[Entry]:
        # The change page names the entry's account (resident and balance) and what it
        # reverses. (The changelist skips list_select_related for a queryset that already has
        # a select_related: this list includes it.)
        related = [*self.list_select_related, "reverses"]
        return super().get_queryset(request).select_related(*related)

    @admin.display(description=_("account holder"))
    def holder(self, obj: Entry) -> str:
        return obj.account.holder_name

    @admin.display(description=_("card number"), ordering="account__card_number")
    def card_number(self, obj: Entry) -> str:
        return obj.account.card_number

    @admin.display(description=_("amount"), ordering="amount")
    def signed_amount(self, obj: Entry) -> str:
        return signed(obj.amount)

    @admin.display(description=Entry._meta.get_field("honour").verbose_name, ordering="honour")
    def signed_honour(self, obj: Entry) -> str:
        return signed(obj.honour) if obj.honour else ""


@admin.register(Account)
class AccountAdmin(ReadOnlyAdminMixin, ScopedModelAdmin):
    """Accounts of residents and, where a community counts per household (以户为单位), of
    households: the holder, the unit, the exchange points (balance) and honour points."""

    list_display = [
        "holder", "unit", "household_address", "card_number", "grid", "balance", "honour",
        "entries",
    ]  # fmt: skip
    list_filter = [
        UnitFilter,
        ("household__grid__community", ScopedRelatedFilter),
        ("household__grid", ScopedRelatedFilter),
    ]
    list_select_related = ["resident", "household__head", "household__grid__community"]
    search_fields = [
        "resident__name",
        "household__head__name",
        "=card_number",
        "household__complex",
        "household__building",
        "household__room",
        "household__village_group",
        "household__house_number",
    ]
    search_help_text = _(
        "A resident's or head of household's name, a whole card number, or words of the "
        "household's address (a housing complex, a village group, a house number)."
    )
    fields = [
        "holder", "unit", "household_address", "card_number", "grid", "balance", "honour",
        "entries",
    ]  # fmt: skip
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request: HttpRequest) -> QuerySet[Account]:
        return super().get_queryset(request).select_related(*self.list_select_related)

    @admin.display(description=_("account holder"), ordering="resident__name")
    def holder(self, obj: Account) -> str:
        return obj.holder_name

    @admin.display(description=_("account unit"), ordering="shared_household")
    def unit(self, obj: Account) -> str:
        return str(_("household") if obj.is_household else _("resident"))

    @admin.display(description=_("household"), ordering="household")
    def household_address(self, obj: Account) -> str:
        return obj.household.address

    @admin.display(description=_("grid"), ordering="household__grid")
    def grid(self, obj: Account) -> str:
        return str(obj.household.grid)

    @admin.display(description=_("entries"), ordering="last_seq")
    def entries(self, obj: Account) -> str:
        url = reverse("admin:points_entry_changelist") + f"?account__id__exact={obj.pk}"
        label = ngettext("%(count)d entry", "%(count)d entries", obj.last_seq) % {
            "count": obj.last_seq
        }
        return format_html('<a href="{}">{}</a>', url, label)
