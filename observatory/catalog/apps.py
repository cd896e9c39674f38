from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "observatory.catalog"
    label = "catalog"
    verbose_name = "Catalogue of the open-model ecosystem"
