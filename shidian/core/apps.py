from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "shidian.core"
    label = "core"
