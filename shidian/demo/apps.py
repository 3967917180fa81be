from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "shidian.demo"
    label = "demo"
