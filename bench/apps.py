from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The benchmark (issue 8): installed only when LYNX_BENCH=1 (lynxportal/settings.py)."""

    name = "bench"
    verbose_name = "Benchmark"
