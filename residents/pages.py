"""A resident's needs on their phone (/me/needs/): report one with a photo, follow it on its
timeline, rate it once resolved (好差评).

Server-rendered forms (POST with CSRF, no script) over the same services as the API:
residents.services.needs.record_need and add_need_photo (with the API's photo checks and
NEED_PHOTO_MAX_BYTES), residents.services.ratings.rate_need. A need the resident may not see
answers 404, as in the API; a refusal from a service comes back on the form, in Chinese, with
what was typed kept.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from rest_framework.exceptions import PermissionDenied, ValidationError

from core.idempotency import remember_answer, reserve_key
from core.scope import scope_for
from core.types import acting_user
from residents import selectors
from residents.models import Need, Rating, Resident
from residents.serializers import NOTE_MAX, NeedPhotoUploadSerializer
from residents.services import needs as needs_services
from residents.services import ratings as ratings_services

# What a resident may report: every category of the needs list (a micro-wish 微心愿 too).
REPORT_CATEGORIES = Need.Category.choices


class NeedReportForm(forms.Form):
    category = forms.ChoiceField(label=gettext_lazy("What is it about"), choices=())
    title = forms.CharField(
        label=gettext_lazy("In a few words"),
        max_length=Need._meta.get_field("title").max_length,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    text = forms.CharField(
        label=gettext_lazy("Details (where, since when)"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    image = forms.FileField(
        label=gettext_lazy("Photo (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, str]] = [("", _("Choose…"))]
        choices += [(str(value), str(label)) for value, label in REPORT_CATEGORIES]
        category = self.fields["category"]
        assert isinstance(category, forms.ChoiceField)
        category.choices = choices

    def clean_image(self) -> Any:
        """The API's photo checks (NeedPhotoUploadSerializer: a real image); the size limit is
        add_need_photo's, applied when it is saved."""
        image = self.cleaned_data.get("image")
        if not image:
            return None
        serializer = NeedPhotoUploadSerializer(data={"image": image})
        if not serializer.is_valid():
            raise forms.ValidationError([str(m) for m in serializer.errors.get("image", [])])
        return serializer.validated_data["image"]


class RatingForm(forms.Form):
    level = forms.TypedChoiceField(
        label=gettext_lazy("How satisfied are you?"),
        choices=Rating.Level.choices,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment (optional)"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def add_service_errors(form: forms.Form, error: Exception) -> None:
    """Put a service's refusal (DRF's or Django's ValidationError / PermissionDenied) on the
    form: a message naming a field of the form under that field, the rest above the form."""
    detail: Any
    if isinstance(error, ValidationError | PermissionDenied):
        detail = error.detail
    elif isinstance(error, DjangoValidationError) and hasattr(error, "error_dict"):
        detail = {name: [str(m) for m in errs] for name, errs in error.message_dict.items()}
    elif isinstance(error, DjangoValidationError):
        detail = [str(m) for m in error.messages]
    else:
        detail = [str(error)]
    if not isinstance(detail, dict):
        detail = {None: detail if isinstance(detail, list) else [detail]}
    for name, found in detail.items():
        field = name if name in form.fields else None
        for message in found if isinstance(found, list) else [found]:
            form.add_error(field, str(message))


def _own_resident(request: HttpRequest) -> Resident:
    resident_id = scope_for(request.user).resident_id
    if resident_id is None:
        raise Http404
    return Resident.objects.select_related("household__grid__community").get(pk=resident_id)


def _own_need(request: HttpRequest, need_id: int) -> Need:
    """One of the needs the user may see (the API's scope); any other answers 404."""
    return get_object_or_404(selectors.needs_for(request.user), pk=need_id)


def _max_photo_mb() -> int:
    return int(settings.NEED_PHOTO_MAX_BYTES // (1024 * 1024))


def _photo_url(need: Need, photo_id: int) -> str:
    # The API's photo route: it checks the reader's scope (the media folder is not public).
    return reverse("need-photo", kwargs={"pk": need.pk, "photo_id": photo_id})


@login_required
def my_needs(request: HttpRequest) -> HttpResponse:
    """The resident's needs, newest first, with their status; those waiting for a rating
    first."""
    resident = _own_resident(request)
    needs = list(selectors.needs_for(request.user))
    waiting = [n for n in needs if n.status == Need.Status.RESOLVED and not _rated(n)]
    others = [n for n in needs if n not in waiting]
    return render(
        request,
        "residents/me_needs.html",
        {"resident": resident, "waiting": waiting, "others": others},
    )


def _rated(need: Need) -> bool:
    try:
        return need.rating is not None
    except Rating.DoesNotExist:
        return False


@login_required
def report_need(request: HttpRequest) -> HttpResponse:
    """Report a need (反映诉求) with an optional photo: the need and its photo are saved
    together or not at all; a one-time token makes a double tap report once."""
    resident = _own_resident(request)
    if request.method != "POST":
        form = NeedReportForm(initial={"token": uuid.uuid4().hex})
        return render(
            request,
            "residents/me_need_new.html",
            {"form": form, "resident": resident, "max_photo_mb": _max_photo_mb()},
        )
    form = NeedReportForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        user = acting_user(request)
        body = json.dumps(
            {k: data[k] for k in ("category", "title", "text")}, sort_keys=True, ensure_ascii=False
        )
        try:
            with transaction.atomic():
                record = reserve_key(
                    user=user,
                    key=f"me-need:{data['token']}",
                    method="POST",
                    path=request.path,
                    fingerprint=hashlib.sha256(body.encode()).hexdigest(),
                )
                if record is None:
                    messages.info(request, _("This need was already sent; nothing more was sent."))
                    return HttpResponseRedirect(reverse("residents:my_needs"))
                need = needs_services.record_need(
                    user=user, title=data["title"], category=data["category"], text=data["text"]
                )
                if data["image"] is not None:
                    needs_services.add_need_photo(user=user, need=need, image=data["image"])
                remember_answer(record, 303, {"need": need.pk})
        except (ValidationError, PermissionDenied, DjangoValidationError) as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Your need was sent: the grid worker will take it on; follow it here."),
            )
            return HttpResponseRedirect(reverse("residents:my_need", args=[need.pk]))
    photo_lost = bool(request.FILES.get("image"))
    return render(
        request,
        "residents/me_need_new.html",
        {
            "form": form,
            "resident": resident,
            "photo_lost": photo_lost,
            "max_photo_mb": _max_photo_mb(),
        },
        status=400,
    )


def _who(actor: Any, me: Any) -> str:
    """A person on a resident's timeline by name, never by login: 我, the worker's name, …"""
    if actor is None:
        return _("the system")
    if actor.pk == me.pk:
        return _("me")
    for post in ("grid_worker", "resident"):
        person = getattr(actor, post, None)
        if person is not None:
            return str(person.name)
    return actor.get_full_name() or _("community staff")


def _need_context(request: HttpRequest, need: Need, form: RatingForm | None) -> dict[str, Any]:
    rating = need.rating if _rated(need) else None
    may_rate = rating is None and need.status == Need.Status.RESOLVED
    events = selectors.need_timeline(need=need).select_related(
        "actor__grid_worker", "actor__resident"
    )
    return {
        "need": need,
        "rating": rating,
        "events": [(event, _who(event.actor, request.user)) for event in events],
        "photos": [_photo_url(need, p.pk) for p in need.photos.all()],
        "form": (form or RatingForm()) if may_rate else None,
    }


@login_required
def my_need(request: HttpRequest, need_id: int) -> HttpResponse:
    """One need: what was reported, its status, its timeline, and the rating form once it is
    resolved and not yet rated."""
    _own_resident(request)
    need = _own_need(request, need_id)
    return render(request, "residents/me_need.html", _need_context(request, need, None))


@login_required
@require_POST
def rate_need(request: HttpRequest, need_id: int) -> HttpResponse:
    """Rate a resolved need (ratings.rate_need: the resident it is about, once, only when
    resolved)."""
    _own_resident(request)
    need = _own_need(request, need_id)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            ratings_services.rate_need(
                user=acting_user(request),
                need=need,
                level=form.cleaned_data["level"],
                comment=form.cleaned_data["comment"].strip(),
            )
        except (ValidationError, PermissionDenied, DjangoPermissionDenied) as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Thank you: your rating was recorded."))
            return HttpResponseRedirect(reverse("residents:my_need", args=[need.pk]))
    need = _own_need(request, need_id)
    context = _need_context(request, need, form)
    if context["form"] is None:  # rated or moved on meanwhile: show why, above the need
        context["errors"] = form.non_field_errors() + form.errors.get("level", [])
    return render(request, "residents/me_need.html", context, status=400)
