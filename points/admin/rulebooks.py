"""Admin for versioned rule books (积分细则 versions, issue 15).

The list shows every version of the books in the user's area (a street admin also the street's
default book) with its status, the days it is in force and its approval record. A version's
page shows its rules — editable while it is a draft, read-only once adopted — and links to
the comparison with the version before (side by side, what was added, removed and changed,
highlighted). "New version from this" copies a version's rules into the next draft; "Adopt"
records the meeting that adopted a draft and the day it takes effect. Writes go through
points.services.rulebooks.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.admin import ScopedModelAdmin, ScopedRelatedFilter
from core.types import AnyUser, acting_user
from grids.models import Community, Council, Street
from points import access
from points.admin.common import REFUSALS, refusal_text
from points.models import Rule, RuleBook
from points.selectors import rulebooks as selectors
from points.services import claims as claims_services
from points.services import rulebooks as rulebooks_services

RULE_COLUMNS = ("code", "name", "category", "points", "up_to", "cap_per_quarter", "active")


def owner_name(book: RuleBook) -> str:
    if book.community is not None:
        return book.community.name
    assert book.street is not None  # a book belongs to a community or to a street
    return gettext("%(street)s (default book)") % {"street": book.street.name}


def in_force_on(book: RuleBook, day: Any) -> bool:
    return (
        book.status == RuleBook.Status.ADOPTED
        and book.effective_from <= day
        and (book.effective_to is None or book.effective_to >= day)
    )


# ---------------------------------------------------------------------------- the rules inline


class DraftRuleFormSet(BaseInlineFormSet):
    """A draft's rules belong to the draft's community (or street), like the draft."""

    def _construct_form(self, i: int, **kwargs: Any) -> Any:
        form = super()._construct_form(i, **kwargs)  # type: ignore[misc]
        form.instance.community_id = self.instance.community_id
        form.instance.street_id = self.instance.street_id
        return form


class RuleInline(admin.TabularInline):
    """The version's rules: a draft's may be added, changed and removed; an adopted version's
    are shown, never changed."""

    model = Rule
    fk_name = "book"
    formset = DraftRuleFormSet
    fields = RULE_COLUMNS
    extra = 0
    verbose_name = _("rule")
    verbose_name_plural = _("rules of this version")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Rule]:
        # The parent version is already scoped; a street's rules have no community to scope by.
        return Rule.objects.order_by("category", "code")

    @staticmethod
    def _draft(obj: RuleBook | None) -> bool:
        return obj is not None and obj.status == RuleBook.Status.DRAFT

    def _may_edit(self, request: HttpRequest, obj: RuleBook | None) -> bool:
        return (
            self._draft(obj)
            and request.user.has_perm("points.change_rulebook")
            and obj is not None
            and access.may_write_rule_book(request.user, obj)
        )

    def has_add_permission(self, request: HttpRequest, obj: RuleBook | None = None) -> bool:
        return self._may_edit(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: RuleBook | None = None) -> bool:
        return self._may_edit(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: RuleBook | None = None) -> bool:
        return self._may_edit(request, obj)

    def has_view_permission(self, request: HttpRequest, obj: RuleBook | None = None) -> bool:
        return request.user.has_perm("points.view_rulebook")


# ---------------------------------------------------------------------------- forms


class RuleBookForm(forms.ModelForm):
    """A version's page: a draft's title, note and planned first day; an adopted version's
    approval record (the fields the admin leaves editable)."""

    class Meta:
        model = RuleBook
        fields = ["title", "effective_from", "adopted_on", "adopted_by", "council", "attachment",
                  "note"]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        book = self.instance
        council = cleaned.get("council")
        if council is not None and council.community_id != book.community_id:
            self.add_error("council", _("Choose a council meeting of the book's community."))
        if book.status == RuleBook.Status.ADOPTED and "adopted_on" in self.fields:
            adopted_on = cleaned.get("adopted_on")
            if adopted_on is None or adopted_on > book.effective_from:
                self.add_error(
                    "adopted_on",
                    _("The meeting date is needed, on or before the version took effect."),
                )
        return cleaned


class StartBookForm(forms.Form):
    """The first version of a book: a draft with copies of the owner's unversioned rules."""

    community = forms.ModelChoiceField(
        queryset=Community.objects.none(), label=_("community"), required=False
    )
    street = forms.ModelChoiceField(
        queryset=Street.objects.none(), label=_("street (default book)"), required=False
    )
    title = forms.CharField(
        label=pgettext_lazy("rule book", "title"),
        max_length=200,
        required=False,
        help_text=_("Empty: the community's name and 积分细则."),
    )
    note = forms.CharField(label=_("what changed"), widget=forms.Textarea(attrs={"rows": 3}),
                           required=False)  # fmt: skip

    def __init__(self, *args: Any, user: AnyUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        community = self.fields["community"]
        assert isinstance(community, forms.ModelChoiceField)
        community.queryset = Community.objects.for_user(user).exclude(
            pk__in=RuleBook.objects.filter(community__isnull=False).values("community_id")
        )
        street = self.fields["street"]
        assert isinstance(street, forms.ModelChoiceField)
        ids = access.default_book_streets_for(user)
        streets = Street.objects.exclude(
            pk__in=RuleBook.objects.filter(street__isnull=False).values("street_id")
        )
        street.queryset = streets if ids is None else streets.filter(pk__in=ids)
        if not street.queryset.exists():
            del self.fields["street"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if bool(cleaned.get("community")) == bool(cleaned.get("street")):
            raise ValidationError(
                _("A rule book belongs to one community, or to one street: choose exactly one.")
            )
        return cleaned


class AdoptForm(forms.Form):
    """The approval record of a draft, and the day it takes effect."""

    adopted_on = forms.DateField(
        label=_("meeting date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Empty: the council meeting's date."),
    )
    adopted_by = forms.CharField(
        label=_("adopted by"),
        max_length=200,
        required=False,
        help_text=_("The meeting that adopted it, e.g. 村民代表大会 or 村民议事会."),
    )
    council = forms.ModelChoiceField(
        queryset=Council.objects.none(), label=_("council meeting"), required=False
    )
    attachment = forms.FileField(
        label=_("attachment"),
        required=False,
        help_text=_("The resolution or minutes of the meeting (PDF or photo)."),
    )
    effective_from = forms.DateField(
        label=_("in force from"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(
        label=_("what changed"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args: Any, book: RuleBook, user: AnyUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        council = self.fields["council"]
        assert isinstance(council, forms.ModelChoiceField)
        if book.community_id is None:
            del self.fields["council"]
        else:
            council.queryset = (
                Council.objects.for_user(user)
                .filter(community_id=book.community_id)
                .order_by("-held_on")
            )


class CompareForm(forms.Form):
    other = forms.ModelChoiceField(queryset=RuleBook.objects.none(), label=_("compare with"))

    def __init__(self, *args: Any, versions: QuerySet[RuleBook], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        other = self.fields["other"]
        assert isinstance(other, forms.ModelChoiceField)
        other.queryset = versions
        other.label_from_instance = lambda b: f"v{b.version} · {b.get_status_display()}"  # type: ignore[method-assign,assignment]


# ---------------------------------------------------------------------------- list filters


class InForceFilter(admin.SimpleListFilter):
    title = _("in force")
    parameter_name = "in_force"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [
            ("today", _("in force today")),
            ("later", _("adopted, in force later")),
            ("ended", _("ended")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[RuleBook]) -> QuerySet[RuleBook]:
        today = timezone.localdate()
        adopted = queryset.filter(status=RuleBook.Status.ADOPTED)
        if self.value() == "today":
            return queryset.filter(pk__in=selectors.covering(today).values("pk"))
        if self.value() == "later":
            return adopted.filter(effective_from__gt=today)
        if self.value() == "ended":
            return adopted.filter(effective_to__lt=today)
        return queryset


# ---------------------------------------------------------------------------- the admin


@admin.register(RuleBook)
class RuleBookAdmin(ScopedModelAdmin):
    form = RuleBookForm
    inlines = [RuleInline]
    list_display = [
        "title", "owner", "version_label", "status", "effective_from", "effective_to",
        "adopted_on", "meeting", "rule_count", "in_force_today",
    ]  # fmt: skip
    list_filter = [("community", ScopedRelatedFilter), "status", InForceFilter]
    list_select_related = ["community", "street", "council"]
    search_fields = ["title", "community__name", "street__name", "adopted_by", "note"]
    ordering = ["community_id", "street_id", "-version"]
    change_form_template = "admin/points/rulebook/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[RuleBook]:
        return selectors.rule_books_for(request.user).annotate(rule_total=Count("rules"))

    # -- the list

    @admin.display(description=_("community or street"), ordering="community__name")
    def owner(self, obj: RuleBook) -> str:
        return owner_name(obj)

    @admin.display(description=_("version"), ordering="version")
    def version_label(self, obj: RuleBook) -> str:
        return f"v{obj.version}"

    @admin.display(description=_("adopted by"))
    def meeting(self, obj: RuleBook) -> str:
        if obj.adopted_by:
            return obj.adopted_by
        return str(obj.council) if obj.council_id else "—"

    @admin.display(description=_("rules"))
    def rule_count(self, obj: RuleBook) -> int:
        return int(getattr(obj, "rule_total", 0))

    @admin.display(description=_("in force today"), boolean=True)
    def in_force_today(self, obj: RuleBook) -> bool:
        return in_force_on(obj, timezone.localdate())

    # -- the page: what may change

    def get_fields(self, request: HttpRequest, obj: RuleBook | None = None) -> list[Any]:
        head = ["owner", "version_label", "status"]
        if obj is None or obj.status == RuleBook.Status.DRAFT:
            return [*head, "title", "effective_from", "note", "created_by", "created_at"]
        return [
            *head, "title", "effective_from", "effective_to", "adopted_on", "adopted_by",
            "council", "attachment", "note", "created_by", "created_at",
        ]  # fmt: skip

    def get_readonly_fields(self, request: HttpRequest, obj: RuleBook | None = None) -> list[str]:
        fixed = ["owner", "version_label", "status", "created_by", "created_at", "effective_to"]
        if obj is not None and obj.status == RuleBook.Status.ADOPTED:
            fixed.append("effective_from")
        return fixed

    def has_change_permission(self, request: HttpRequest, obj: RuleBook | None = None) -> bool:
        # Seen by the whole area; kept by the community's committee and its street's admins.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or access.may_write_rule_book(request.user, obj))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "council":
            # The councils of the version's own community (scoped like every choice list).
            object_id = (
                request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            )
            book = self.get_object(request, unquote(object_id)) if object_id else None
            councils = Council.objects.for_user(request.user).order_by("-held_on")
            kwargs["queryset"] = (
                councils.filter(community_id=book.community_id) if book else councils.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: RuleBook | None = None) -> bool:
        # A draft may be deleted; an adopted version is kept for good.
        if obj is not None and (
            obj.status != RuleBook.Status.DRAFT or not access.may_write_rule_book(request.user, obj)
        ):
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # A draft goes with its rules (the service deletes both; Rule.book protects otherwise).
        books = list(objs)
        if any(b.status != RuleBook.Status.DRAFT for b in books):
            return super().get_deleted_objects(objs, request)
        listed = [f"{b}: {', '.join(b.rules.values_list('code', flat=True))}" for b in books]
        count = {RuleBook._meta.verbose_name_plural: len(books)}
        return listed, count, set(), []

    # -- writes through the services

    def save_model(self, request: HttpRequest, obj: RuleBook, form: Any, change: bool) -> None:
        rulebooks_services.save_record(book=obj, by=acting_user(request), changed=form.changed_data)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Rule:
            return super().save_formset(request, form, formset, change)
        user = acting_user(request)
        rules = formset.save(commit=False)
        for rule in formset.deleted_objects:
            claims_services.delete_rule(user=user, rule=rule)
        for rule in rules:
            rulebooks_services.save_rule(user=user, rule=rule)
        return None

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        back = HttpResponseRedirect(reverse("admin:points_rulebook_change", args=[object_id]))
        book = self.get_object(request, unquote(object_id))
        if book is not None and book.status == RuleBook.Status.ADOPTED:
            self.message_user(
                request,
                gettext("Version %(version)d is adopted: it is kept for good.")
                % {"version": book.version},
                messages.ERROR,
            )
            return back
        try:
            return super().delete_view(request, object_id, extra_context)
        except REFUSALS as exc:  # raised by the service, the deletion rolled back
            self.message_user(request, refusal_text(exc), messages.ERROR)
            return back

    def delete_model(self, request: HttpRequest, obj: RuleBook) -> None:
        rulebooks_services.delete_draft(book=obj, by=acting_user(request))

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[RuleBook]) -> None:
        for book in queryset:
            rulebooks_services.delete_draft(book=book, by=acting_user(request))

    # -- the first version of a book

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = StartBookForm(request.POST or None, user=acting_user(request))
        if request.method == "POST" and form.is_valid():
            try:
                book = rulebooks_services.start_book(
                    user=acting_user(request),
                    community=form.cleaned_data.get("community"),
                    street=form.cleaned_data.get("street"),
                    title=form.cleaned_data["title"],
                    note=form.cleaned_data["note"],
                )
            except REFUSALS as exc:
                form.add_error(None, refusal_text(exc))
            else:
                self.log_addition(request, book, [{"added": {}}])
                self.message_user(
                    request,
                    gettext("Draft “%(book)s” started: change its rules, then adopt it.")
                    % {"book": book},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:points_rulebook_change", args=[book.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Start a rule book"),
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/points/rulebook/start.html", context)

    # -- the change page: summary and buttons

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        book = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if book is not None:
            previous, comparison = selectors.changes_since_previous(book)
            may_write = self.has_change_permission(request, book)
            extra.update(
                {
                    "previous": previous,
                    "comparison": comparison,
                    "is_draft": book.status == RuleBook.Status.DRAFT,
                    "may_write": may_write,
                    "compare_url": reverse("admin:points_rulebook_compare", args=[book.pk]),
                    "new_version_url": reverse("admin:points_rulebook_new_version", args=[book.pk]),
                    "adopt_url": reverse("admin:points_rulebook_adopt", args=[book.pk]),
                    "attachment_url": (
                        reverse("admin:points_rulebook_attachment", args=[book.pk])
                        if book.attachment
                        else ""
                    ),
                }
            )
        return super().change_view(request, object_id, form_url, extra)

    def get_urls(self) -> list[Any]:
        def view(fn: Any) -> Any:
            return self.admin_site.admin_view(fn)

        return [
            path("<path:object_id>/compare/", view(self.compare_view),
                 name="points_rulebook_compare"),
            path("<path:object_id>/new-version/", view(self.new_version_view),
                 name="points_rulebook_new_version"),
            path("<path:object_id>/adopt/", view(self.adopt_view), name="points_rulebook_adopt"),
            path("<path:object_id>/attachment/", view(self.attachment_view),
                 name="points_rulebook_attachment"),
            *super().get_urls(),
        ]  # fmt: skip

    def _book(self, request: HttpRequest, object_id: str) -> RuleBook:
        if not self.has_view_permission(request):
            raise PermissionDenied
        book: RuleBook | None = self.get_object(request, unquote(object_id))
        if book is None:
            raise Http404
        return book

    def _change_url(self, book: RuleBook) -> str:
        return reverse("admin:points_rulebook_change", args=[book.pk])

    # -- new version from this

    def new_version_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        book = self._book(request, object_id)
        if not self.has_change_permission(request, book):
            raise PermissionDenied
        try:
            draft = rulebooks_services.new_version(book=book, by=acting_user(request))
        except REFUSALS as exc:
            self.message_user(request, refusal_text(exc), messages.ERROR)
            return HttpResponseRedirect(self._change_url(book))
        self.log_addition(request, draft, [{"added": {}}])
        self.message_user(
            request,
            gettext(
                "Version %(version)d made from version %(source)d, as a draft: change its "
                "rules, then adopt it."
            )
            % {"version": draft.version, "source": book.version},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(self._change_url(draft))

    # -- adopt a draft

    def adopt_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        book = self._book(request, object_id)
        if not self.has_change_permission(request, book):
            raise PermissionDenied
        if book.status != RuleBook.Status.DRAFT:
            self.message_user(
                request,
                gettext("Version %(version)d is adopted already.") % {"version": book.version},
                messages.ERROR,
            )
            return HttpResponseRedirect(self._change_url(book))
        user = acting_user(request)
        initial = {"effective_from": book.effective_from, "note": book.note}
        form = AdoptForm(
            request.POST or None, request.FILES or None, initial=initial, book=book, user=user
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                rulebooks_services.adopt(
                    draft=book,
                    adopted_on=data["adopted_on"],
                    adopted_by=data["adopted_by"],
                    council=data.get("council"),
                    attachment=data.get("attachment"),
                    effective_from=data["effective_from"],
                    note=data["note"],
                    by=user,
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.error_dict.items():
                        target = field if field in form.fields else None
                        for error in errors:
                            form.add_error(target, error)
                else:
                    form.add_error(None, exc)
            except REFUSALS as exc:
                form.add_error(None, refusal_text(exc))
            else:
                self.log_change(request, book, [{"changed": {"fields": ["status"]}}])
                self.message_user(
                    request,
                    gettext("Version %(version)d adopted, in force from %(day)s.")
                    % {"version": book.version, "day": data["effective_from"].isoformat()},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._change_url(book))
        previous, comparison = selectors.changes_since_previous(book)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Adopt %(book)s") % {"book": book},
            "opts": self.model._meta,
            "original": book,
            "book": book,
            "owner": owner_name(book),
            "previous": previous,
            "comparison": comparison,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/points/rulebook/adopt.html", context)

    # -- compare two versions side by side

    def compare_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        book = self._book(request, object_id)
        versions = selectors.versions_of(book).exclude(pk=book.pk).order_by("-version")
        versions = versions.filter(pk__in=self.get_queryset(request).values("pk"))
        form = CompareForm(request.GET or None, versions=versions)
        other: RuleBook | None
        if form.is_bound and form.is_valid():
            other = form.cleaned_data["other"]
        else:
            other = selectors.previous_version(book)
            form = CompareForm(initial={"other": other}, versions=versions)
        comparison = None
        if other is not None:
            old, new = (other, book) if other.version < book.version else (book, other)
            comparison = selectors.compare(old, new)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Compare versions of %(owner)s") % {"owner": owner_name(book)},
            "opts": self.model._meta,
            "original": book,
            "book": book,
            "other": other,
            "comparison": comparison,
            "form": form,
            "fields": selectors.COMPARED_FIELDS,
        }
        return TemplateResponse(request, "admin/points/rulebook/compare.html", context)

    # -- the attachment (the media folder is not public)

    def attachment_view(self, request: HttpRequest, object_id: str) -> HttpResponseBase:
        book = self._book(request, object_id)
        if not book.attachment:
            raise Http404
        try:
            return FileResponse(book.attachment.open("rb"), filename=book.attachment.name or "")
        except OSError:
            raise Http404 from None
