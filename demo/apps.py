from django.apps import AppConfig


class DemoConfig(AppConfig):
    """No models: only the seed_demo and seed_scale commands and the data they write."""

    name = "demo"
