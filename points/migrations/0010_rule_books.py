"""Versioned rule books (issue 15): the rules in use become version 1 of their book.

Every community that has rules (and every street with a default book) gets RuleBook v1,
adopted, holding those rules (Rule.book). Nobody recorded when or by which meeting the rules in
use were adopted, so v1 is dated 2000-01-01 — both its meeting date and the day it takes
effect — the earliest date a claim may carry (points.serializers.EARLIEST_CLAIM_DATE): every
claim already made, and any claim back-dated later, falls under a version, and the next
version can take effect on any day after. The approval record says so (adopted_by, note); the
committee fills in the real meeting date and minutes on the book's page (the approval record
of an adopted version may be completed; its rules and dates never change).

Set-based: one INSERT … SELECT per kind of owner for the books, one UPDATE per kind for the
rules, whatever the number of communities.

Then a code is unique per book (the same code is in every version), and on PostgreSQL the
database itself refuses to add, change or delete a rule of an adopted version, and to reopen,
renumber, move or re-date an adopted version (or delete it). SQLite, the embedded set-up,
relies on the model and services (points.models.governance.refuse_change_of_adopted): its
table rebuilds on later schema changes would drop triggers silently.
"""

from django.db import migrations, models

V1_DATE = "2000-01-01"
V1_ADOPTED_BY = "版本化前已在使用的细则（系统迁移）"
V1_NOTE = (
    "系统引入版本化细则时，将当时在用的细则整理为第1版。"
    "通过会议的日期与会议记录未登记，请据实补录。"
)


def create_first_versions(apps, schema_editor):
    """v1 (adopted) of every community's and street's rules that belong to no book yet.

    Books are inserted as drafts, the rules attached, then the books marked adopted: the same
    steps pass where the PostgreSQL triggers below already exist (a test calling this again).
    An owner that already has a book is left alone.
    """
    RuleBook = apps.get_model("points", "RuleBook")
    Rule = apps.get_model("points", "Rule")
    Community = apps.get_model("grids", "Community")
    Street = apps.get_model("grids", "Street")
    from django.db.models import OuterRef, Subquery

    book_t, rule_t = RuleBook._meta.db_table, Rule._meta.db_table
    owners = (
        ("community_id", Community._meta.db_table, "积分细则"),
        ("street_id", Street._meta.db_table, "积分细则（默认本）"),
    )
    marker = "migrating-0010"  # tells this run's new books from any other draft
    with schema_editor.connection.cursor() as cur:
        for column, owner_t, suffix in owners:
            cur.execute(
                f"""
                INSERT INTO {book_t} ({column}, version, title, status, adopted_on, adopted_by,
                                      attachment, effective_from, effective_to, note, created_at)
                SELECT o.id, 1, o.name || %s, 'draft', %s, %s, '', %s, NULL, %s, CURRENT_TIMESTAMP
                FROM {owner_t} o
                WHERE EXISTS (SELECT 1 FROM {rule_t} r
                              WHERE r.{column} = o.id AND r.book_id IS NULL)
                  AND NOT EXISTS (SELECT 1 FROM {book_t} b WHERE b.{column} = o.id)
                """,
                [suffix, V1_DATE, V1_ADOPTED_BY, V1_DATE, marker],
            )
    new_books = RuleBook.objects.filter(note=marker, status="draft", version=1)
    for column in ("community_id", "street_id"):
        Rule.objects.filter(book__isnull=True, **{f"{column}__isnull": False}).update(
            book_id=Subquery(
                new_books.filter(**{column: OuterRef(column)}).values("pk")[:1],
                output_field=models.BigIntegerField(),
            )
        )
    new_books.update(status="adopted", note=V1_NOTE)


TRIGGERS = """
CREATE OR REPLACE FUNCTION points_rule_adopted_is_final() RETURNS trigger AS $$
BEGIN
    IF (TG_OP <> 'INSERT' AND EXISTS (SELECT 1 FROM points_rulebook b
                                      WHERE b.id = OLD.book_id AND b.status = 'adopted'))
       OR (TG_OP <> 'DELETE' AND EXISTS (SELECT 1 FROM points_rulebook b
                                         WHERE b.id = NEW.book_id AND b.status = 'adopted'))
    THEN
        RAISE EXCEPTION 'points_rule: % refused: the rule book version is adopted and never '
                        'changed; make a new version', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER points_rule_adopted_is_final
    BEFORE INSERT OR UPDATE OR DELETE ON points_rule
    FOR EACH ROW EXECUTE FUNCTION points_rule_adopted_is_final();

CREATE OR REPLACE FUNCTION points_rulebook_adopted_is_final() RETURNS trigger AS $$
BEGIN
    -- An adopted version stays adopted, numbered, owned and dated as it is; its end is set
    -- once, when the next version is adopted. Its approval record may be completed.
    IF OLD.status = 'adopted' AND (
        TG_OP = 'DELETE'
        OR NEW.status <> 'adopted'
        OR NEW.version <> OLD.version
        OR NEW.effective_from <> OLD.effective_from
        OR NEW.community_id IS DISTINCT FROM OLD.community_id
        OR NEW.street_id IS DISTINCT FROM OLD.street_id
        OR (OLD.effective_to IS NOT NULL AND NEW.effective_to IS DISTINCT FROM OLD.effective_to)
    ) THEN
        RAISE EXCEPTION 'points_rulebook: % refused: an adopted version is never reopened, '
                        'renumbered, moved or re-dated', TG_OP
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER points_rulebook_adopted_is_final
    BEFORE UPDATE OR DELETE ON points_rulebook
    FOR EACH ROW EXECUTE FUNCTION points_rulebook_adopted_is_final();
"""

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS points_rule_adopted_is_final ON points_rule;
DROP FUNCTION IF EXISTS points_rule_adopted_is_final();
DROP TRIGGER IF EXISTS points_rulebook_adopted_is_final ON points_rulebook;
DROP FUNCTION IF EXISTS points_rulebook_adopted_is_final();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGERS, params=None)  # no params: % is PL/pgSQL's


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGERS, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("grids", "0005_map_boundaries_public_page"),
        ("points", "0009_household_accounts_honour_rulebooks"),
    ]

    operations = [
        # Going back leaves the books (and each rule's book) in place: they are records.
        migrations.RunPython(create_first_versions, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="rule", name="rule_code_unique_in_community"),
        migrations.RemoveConstraint(model_name="rule", name="rule_code_unique_in_street"),
        migrations.AddConstraint(
            model_name="rule",
            constraint=models.UniqueConstraint(
                fields=("book", "code"), name="rule_code_unique_in_book"
            ),
        ),
        migrations.AddConstraint(
            model_name="rule",
            constraint=models.UniqueConstraint(
                condition=models.Q(("book__isnull", True)),
                fields=("community", "code"),
                name="rule_code_unique_unversioned_community",
            ),
        ),
        migrations.AddConstraint(
            model_name="rule",
            constraint=models.UniqueConstraint(
                condition=models.Q(("book__isnull", True)),
                fields=("street", "code"),
                name="rule_code_unique_unversioned_street",
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
