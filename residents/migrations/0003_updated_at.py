# Change tracking for the field app's bundle (issue 11): `updated_at` on the rows the phone
# keeps. Existing rows get the time of the migration, and so do rows written by raw SQL (the
# column's database default).

import django.db.models.functions.datetime
from django.db import migrations, models


def _updated_at():
    return models.DateTimeField(
        auto_now=True,
        db_default=django.db.models.functions.datetime.Now(),
        db_index=True,
        verbose_name="updated at",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("residents", "0002_needs"),
    ]

    operations = [
        migrations.AddField(model_name="household", name="updated_at", field=_updated_at()),
        migrations.AddField(model_name="resident", name="updated_at", field=_updated_at()),
        migrations.AddField(model_name="visit", name="updated_at", field=_updated_at()),
        migrations.AddField(model_name="need", name="updated_at", field=_updated_at()),
    ]
