from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "shidian.web"
    label = "web"
