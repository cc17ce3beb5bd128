"""Read-only view of the ledger (rows are written only by services.py)."""

from django.contrib import admin

from tongban.ledger.models import ChainLink, MerkleCommit


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MerkleCommit)
class MerkleCommitAdmin(_ReadOnly):
    list_display = ["number", "created_at", "leaf_count", "root"]


@admin.register(ChainLink)
class ChainLinkAdmin(_ReadOnly):
    list_display = ["application_id", "seq", "event_id", "hash", "created_at", "committed_in"]
    search_fields = ["hash"]
