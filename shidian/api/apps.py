from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "shidian.api"
    label = "shidian_api"
