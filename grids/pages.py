"""The printable council minutes (议事会会议记录), A4: read through grids.selectors, rendered
by templates/grids/council_minutes.html on print_base.html."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from grids import selectors
from grids.models import Council


@login_required
def council_minutes(request: HttpRequest, council_id: int) -> HttpResponse:
    """The minutes of one council: the five sections, the attendance, the agenda with its
    decisions and linked needs and projects, and the past items evaluated with their scores,
    struck off (销号) or carried over (挂账) with the reason. Scoped like the API: a council
    outside the reader's area is not found."""
    council: Council | None = selectors.councils_for(request.user).filter(pk=council_id).first()
    if council is None:
        raise Http404
    sections = [
        (_("Policy talk"), council.policy_talk),  # 政策宣讲
        (_("Affairs and finances disclosed"), council.affairs_disclosed),  # 村务财务公开
        (_("Needs raised"), council.needs_raised),  # 群众提需求
        (_("Solutions discussed"), council.solutions_discussed),  # 商议解决办法
    ]
    return render(
        request,
        "grids/council_minutes.html",
        {
            "council": council,
            "community": council.community,
            "sections": sections,
            "attendees": [n.strip() for n in council.attendees.splitlines() if n.strip()],
            "items": list(council.items.all()),
            "evaluations": list(council.evaluations.all()),
            "printed_on": timezone.localdate(),
        },
    )
