import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from core.roles import astronomer_group


class Command(BaseCommand):
    help = "Create the admin account (also an astronomer) if it does not exist, and print its credentials."

    def add_arguments(self, parser):
        parser.add_argument("--username", default=os.environ.get("RGZ_ADMIN_USER", "admin"))
        parser.add_argument("--password-file", default="var/admin-password.txt")

    def handle(self, *args, username, password_file, **options):
        from pathlib import Path

        user_model = get_user_model()
        path = Path(password_file)
        user = user_model.objects.filter(username=username).first()
        if user is None:
            password = os.environ.get("RGZ_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
            user = user_model.objects.create_superuser(username=username, email="", password=password)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(password + "\n")
            path.chmod(0o600)
        elif path.is_file():
            password = path.read_text().strip()
        else:
            password = "(unchanged; set it with: python manage.py changepassword " + username + ")"
        user.groups.add(astronomer_group())
        self.stdout.write(f"admin account: {username} / {password}")
