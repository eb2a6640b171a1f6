"""`manage.py seed_demo`: the demo street from the source articles, and the demo logins.

Idempotent: run it any number of times; the demo users' passwords are reset to DEMO_PASSWORD.
The last lines printed are the demo logins (`make run` shows them before the server starts).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from demo.seed import seed_demo


class Command(BaseCommand):
    help = "Create or refresh the demo data (沙北街道: 泰山社区 and 新庄赵村) and the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        report = seed_demo()
        if report.created_anything:
            created = ", ".join(f"{label} {n}" for label, n in sorted(report.created.items()) if n)
            self.stdout.write(self.style.SUCCESS(f"Demo data created: {created}."))
        else:
            self.stdout.write(self.style.SUCCESS("Demo data already present: nothing new created."))
        self.stdout.write("")
        self.stdout.write("Demo logins (admin site: /admin/, API token: POST /api/v1/auth/token/):")
        width = max(len(login.username) for login in report.logins)
        role_width = max(len(login.role) for login in report.logins)
        self.stdout.write(f"  {'username':<{width}}  {'role':<{role_width}}  password")
        for login in report.logins:
            self.stdout.write(
                f"  {login.username:<{width}}  {login.role:<{role_width}}  {login.password}"
                f"    # {login.sees}"
            )
