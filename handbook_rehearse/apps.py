from django.apps import AppConfig


class RehearseConfig(AppConfig):
    name = "handbook_rehearse"
    verbose_name = "Migration rehearsal"
