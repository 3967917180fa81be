"""The project is wired the way the README promises."""
from django.core.management import call_command


def test_system_checks_pass():
    call_command("check")


def test_no_model_changes_without_migrations(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
