from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "tongban.catalog"
    verbose_name = "事项管理"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from tongban.catalog.models import Synonym
        from tongban.catalog.search import clear_synonym_cache

        post_save.connect(clear_synonym_cache, sender=Synonym, dispatch_uid="catalog-synonyms-save")
        post_delete.connect(clear_synonym_cache, sender=Synonym, dispatch_uid="catalog-synonyms-delete")

        from tongban.catalog.models import BasicItem, ItemImplementation
        from tongban.catalog.search import reindex_basic_item

        # Name, aliases and keywords live on the basic item: its implementations' index follows it.
        post_save.connect(reindex_basic_item, sender=BasicItem, dispatch_uid="catalog-basic-item-reindex")

        from tongban.catalog.models import (
            Fee,
            FieldSet,
            HandlingItem,
            ItemVersion,
            Material,
            ProcessStep,
            SituationOption,
            SituationQuestion,
        )
        from tongban.catalog.queries import PAGES
        from tongban.core.models import Organisation, Region

        shown_on_pages = [ItemImplementation, ItemVersion, BasicItem, Synonym, Material, ProcessStep, Fee]
        shown_on_pages += [HandlingItem, SituationQuestion, SituationOption, Organisation, Region]
        shown_on_pages += [FieldSet]  # the forms of published versions are cached under PAGES too
        for model in shown_on_pages:
            label = model.__name__
            post_save.connect(PAGES.bump, sender=model, dispatch_uid=f"catalog-pages-save-{label}")
            post_delete.connect(PAGES.bump, sender=model, dispatch_uid=f"catalog-pages-delete-{label}")
