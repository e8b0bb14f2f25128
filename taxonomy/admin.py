from django.contrib import admin

from .models import CurationEvent, DerivationRun, Description, Tag, TagLink, TagSynonym, TaxonomyVersion


class TagSynonymInline(admin.TabularInline):
    model = TagSynonym
    extra = 0


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "support", "sources", "merged_into", "updated_at"]
    list_filter = ["status"]
    search_fields = ["name", "synonyms__phrase"]
    inlines = [TagSynonymInline]
    # Edits from the curation page bump the revision (no lost update); the admin leaves it to them.
    readonly_fields = ["revision", "support", "sources", "derived_keys", "created_at", "updated_at"]


@admin.register(TagLink)
class TagLinkAdmin(admin.ModelAdmin):
    list_display = ["tag", "cutout", "origin", "evidence", "created_at"]
    list_filter = ["origin"]
    search_fields = ["tag__name", "cutout__name", "evidence"]
    raw_id_fields = ["cutout", "description", "classification", "user", "version"]


@admin.register(TaxonomyVersion)
class TaxonomyVersionAdmin(admin.ModelAdmin):
    list_display = ["number", "note", "created_by", "created_at"]
    readonly_fields = ["number", "tags", "created_by", "created_at"]


@admin.register(CurationEvent)
class CurationEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "tag", "user"]
    list_filter = ["action"]

    def has_change_permission(self, request, obj=None):  # the audit trail is not edited
        return False


@admin.register(Description)
class DescriptionAdmin(admin.ModelAdmin):
    """Volunteers' descriptions as the text pipeline read them (their words are not edited here)."""

    list_display = ["id", "cutout", "task", "text", "tagged_version", "created_at"]
    search_fields = ["text", "cutout__name"]
    raw_id_fields = ["classification", "cutout"]
    readonly_fields = ["classification", "task", "cutout", "volunteer_key", "text", "phrases", "created_at"]


@admin.register(DerivationRun)
class DerivationRunAdmin(admin.ModelAdmin):
    list_display = ["created_at", "threshold", "descriptions", "phrases", "terms", "seconds"]

    def has_change_permission(self, request, obj=None):  # a record of what a derivation read
        return False
