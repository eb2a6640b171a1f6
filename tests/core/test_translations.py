"""The zh-hans translation: every string translated, the committed .mo compiled from the
committed .po, and the product actually speaking Chinese (models, API errors, admin, the
resident's points page).

The .po is read by the small parser below, so the tests need neither polib nor gettext tools.
After changing a wrapped string: `manage.py makemessages -l zh_Hans ...`, translate, then
`manage.py compilemessages -l zh_Hans --ignore=.venv`, and commit both files.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from grids.models import GridWorker
from points.models import Claim
from points.models import Entry as LedgerEntry  # Entry here is a .po entry
from residents.models import Household, Resident, Visit
from tests import factories as f

MESSAGES = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES"
PO = MESSAGES / "django.po"
MO = MESSAGES / "django.mo"

# %(name)s, %(count)d, %s … and {name}, {0}: what the code fills in must survive translation.
PERCENT_PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc%]")
BRACE_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # plural index → text (0 if singular)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> str:
        """The key GNUTranslations files it under."""
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


def parse_po(path: Path) -> list[Entry]:
    """The entries of a .po file, header first. Obsolete (#~) entries are left out."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int] | None = None  # the field that continuation lines extend
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        keyword, _, rest = line.partition(" ")
        # A comment or a msgctxt/msgid after a msgstr begins the next entry.
        if (line.startswith("#") or keyword in ("msgctxt", "msgid")) and (
            entry is None or entry.msgstr
        ):
            entry = Entry(line=number)
            entries.append(entry)
            target = None
        assert entry is not None, f"{path}:{number}: text outside an entry"
        if line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            assert target is not None, f"{path}:{number}: a string that continues nothing"
            name, index = target
            text = ast.literal_eval(line)
            if name == "msgstr":
                entry.msgstr[index] += text
            else:
                setattr(entry, name, getattr(entry, name) + text)
        elif keyword in ("msgctxt", "msgid", "msgid_plural"):
            setattr(entry, keyword, ast.literal_eval(rest))
            target = (keyword, 0)
        elif match := re.fullmatch(r"msgstr(?:\[(\d+)\])?", keyword):
            index = int(match.group(1) or 0)
            entry.msgstr[index] = ast.literal_eval(rest)
            target = ("msgstr", index)
        else:
            raise AssertionError(f"{path}:{number}: cannot read {line!r}")
    return entries


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    entries = parse_po(PO)
    assert entries and entries[0].msgid == "", "the .po starts with its header"
    return entries


@pytest.fixture(scope="module")
def messages(po_entries: list[Entry]) -> list[Entry]:
    """The entries without the header."""
    return po_entries[1:]


# ---------------------------------------------------------------------------- the .po


def test_the_header_is_for_simplified_chinese_with_one_plural_form(po_entries):
    header = po_entries[0].msgstr[0]
    assert "Language: zh_Hans\n" in header
    assert "Content-Type: text/plain; charset=UTF-8\n" in header
    assert "Plural-Forms: nplurals=1; plural=0;\n" in header
    assert "fuzzy" not in po_entries[0].flags


def test_the_catalog_is_not_empty(messages):
    # The parser found the entries (a parser that finds nothing would pass every check).
    assert len(messages) > 100
    assert any(m.msgid == "resident" for m in messages)
    assert any(m.msgid_plural for m in messages)


def test_every_entry_is_translated_and_none_is_fuzzy(messages):
    fuzzy = [f"line {m.line}: {m.msgid!r}" for m in messages if "fuzzy" in m.flags]
    untranslated = [
        f"line {m.line}: {m.msgid!r}"
        for m in messages
        if not m.msgstr or not all(text.strip() for text in m.msgstr.values())
    ]
    assert not (fuzzy or untranslated), "\n".join(
        ["fuzzy:", *fuzzy, "untranslated:", *untranslated]
    )


def test_plural_entries_have_exactly_the_one_chinese_form(messages):
    for m in messages:
        expected = {0}
        assert set(m.msgstr) == expected, f"line {m.line}: {m.msgid!r} has forms {set(m.msgstr)}"


def test_every_placeholder_survives_translation(messages):
    for m in messages:
        sources = [m.msgid] + ([m.msgid_plural] if m.msgid_plural else [])
        for pattern in (PERCENT_PLACEHOLDER, BRACE_PLACEHOLDER):
            if pattern is PERCENT_PLACEHOLDER and "python-format" not in m.flags:
                continue
            # The plural may use %(count)d where the singular says "one": either source's set.
            wanted = {frozenset(pattern.findall(s)) for s in sources}
            for text in m.msgstr.values():
                found = frozenset(pattern.findall(text))
                assert found in wanted, f"line {m.line}: {m.msgid!r} → {text!r}"


# ---------------------------------------------------------------------------- the .mo


@pytest.fixture(scope="module")
def compiled() -> gettext.GNUTranslations:
    assert MO.exists(), "compile the .po: manage.py compilemessages -l zh_Hans --ignore=.venv"
    with MO.open("rb") as fp:
        return gettext.GNUTranslations(fp)


def test_the_mo_translates_every_msgid_to_the_po_msgstr(messages, compiled):
    """Fails when the .po was edited and not recompiled (run compilemessages)."""
    stale = []
    for m in messages:
        if m.msgid_plural is None:
            got = compiled.gettext(m.key)
            if got != m.msgstr[0]:
                stale.append(f"{m.msgid!r}: .mo says {got!r}, .po says {m.msgstr[0]!r}")
        else:
            for n in (1, 2, 5):
                got = compiled.ngettext(m.key, m.msgid_plural, n)
                if got != m.msgstr[0]:
                    stale.append(f"{m.msgid!r} (n={n}): .mo says {got!r}, .po {m.msgstr[0]!r}")
    assert not stale, "the .mo is out of date; run compilemessages:\n" + "\n".join(stale)


def test_the_mo_holds_nothing_the_po_does_not(messages, compiled):
    in_po = {m.key for m in messages}
    in_mo = {key[0] if isinstance(key, tuple) else key for key in compiled._catalog}  # type: ignore[attr-defined]
    in_mo.discard("")  # the header
    assert in_mo == in_po, "the .mo is out of date; run compilemessages"


def test_the_mo_plural_rule_is_chinese(compiled):
    assert compiled.plural(1) == compiled.plural(2) == 0  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- in the product


def test_model_names_and_choices_are_chinese_under_zh_hans():
    with translation.override("zh-hans"):
        assert str(Resident._meta.verbose_name) == "居民"
        assert str(Household._meta.verbose_name_plural) == "户"
        assert str(Visit._meta.verbose_name) == "走访记录"
        assert str(GridWorker._meta.verbose_name) == "网格员"
        assert str(Visit.Method.OFF_PEAK.label) == "错时走访"
        assert str(Visit.Method.APPOINTMENT.label) == "预约走访"
        assert str(Resident._meta.get_field("id_number").verbose_name) == "身份证号"


def test_model_names_and_choices_stay_english_under_en():
    with translation.override("en"):
        assert str(Resident._meta.verbose_name) == "resident"
        assert str(Household._meta.verbose_name_plural) == "households"
        assert str(Visit._meta.verbose_name) == "visit"
        assert str(GridWorker._meta.verbose_name) == "grid worker"
        assert str(Visit.Method.OFF_PEAK.label) == "off-peak"
        assert str(Visit.Method.APPOINTMENT.label) == "by appointment"
        assert str(Resident._meta.get_field("id_number").verbose_name) == "ID number"


@pytest.fixture
def superuser(db):
    return f.UserFactory(username="root", is_superuser=True, is_staff=True)


def post_bad_id_number(user, language: str):
    household = f.HouseholdFactory()
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    client.force_authenticate(user=user)
    body = {
        "household": household.id,
        "name": "赵一",
        "id_number": "110105194912310021",  # the check digit should be X
    }
    return client.post("/api/v1/residents/", body, format="json")


def test_an_api_validation_message_is_chinese_for_a_chinese_client(superuser):
    r = post_bad_id_number(superuser, "zh-hans")
    assert r.status_code == 400, r.content
    assert r.json()["id_number"] == ["身份证号校验位错误，请核对号码。"]
    assert r["Content-Language"] == "zh-hans"


def test_an_api_validation_message_is_english_for_an_english_client(superuser):
    r = post_bad_id_number(superuser, "en")
    assert r.status_code == 400, r.content
    assert r.json()["id_number"] == [
        "The check digit of this ID number is wrong; please check the number."
    ]


def test_the_admin_index_shows_chinese_app_and_model_names(superuser):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(superuser)
    r = client.get("/admin/")
    assert r.status_code == 200
    page = r.content.decode()
    for text in ("网格化治理积分制管理平台", "居民管理", "网格管理", "居民", "走访记录",
                 "网格员", "共建单位", "社区（村）两委成员", "街道管理员"):  # fmt: skip
        assert text in page, text
    assert ">Residents<" not in page


def test_the_admin_index_stays_english_for_an_english_browser(superuser):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(superuser)
    page = client.get("/admin/").content.decode()
    assert "Grid governance and points" in page
    assert "Residents" in page
    assert "居民管理" not in page


# ---------------------------------------------------------------------------- points


def test_points_model_names_and_choices_are_chinese_under_zh_hans():
    with translation.override("zh-hans"):
        assert str(Claim._meta.verbose_name) == "积分申报"
        assert str(Claim.Status.SUBMITTED.label) == "待审核"
        assert str(LedgerEntry._meta.verbose_name) == "积分流水"
        assert str(LedgerEntry.Kind.REVERSAL.label) == "冲正"
        assert str(LedgerEntry.Kind.EXPIRY.label) == "过期清零"
    with translation.override("en"):
        assert str(Claim._meta.verbose_name) == "points claim"
        assert str(LedgerEntry.Kind.REVERSAL.label) == "reversal"


def resident_page(world, language: str) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(world.resident_user)
    r = client.get("/me/")
    assert r.status_code == 200
    return r.content.decode()


def test_the_resident_page_is_chinese_for_a_chinese_browser(world):
    page = resident_page(world, "zh-hans")
    assert world.resident1.name in page
    for text in ("我的积分", "积分余额", "积分卡号", "退出登录"):
        assert text in page, text
    assert "My points" not in page


def test_the_resident_page_stays_english_for_an_english_browser(world):
    page = resident_page(world, "en")
    assert "My points" in page
    assert "我的积分" not in page
