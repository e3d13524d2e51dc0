from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Installed only so Django finds `seed_demo`; imports none of the demo code."""

    name = "demo"
    verbose_name = "Demo data"
