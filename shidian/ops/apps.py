from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running Shidian: the production profile, the job queue, read replicas, backups."""

    name = "shidian.ops"
    label = "ops"

    def ready(self) -> None:
        from . import checks, jobs  # noqa: F401  (register the deploy checks and the jobs)
