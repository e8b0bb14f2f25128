from django.contrib import admin

from .models import AnomalyEntry, Scan, ScanTile


class ScanTileInline(admin.TabularInline):
    """A scan's tiles and whether each is done (written by the scan job only)."""

    model = ScanTile
    extra = 0
    can_delete = False
    readonly_fields = ["index", "done", "frames", "result_path"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Scan)
class ScanAdmin(admin.ModelAdmin):
    inlines = [ScanTileInline]
    list_display = ["id", "mosaic_path", "status", "aperture_arcsec", "stride_arcsec", "frames", "created_at"]
    list_filter = ["status"]
    readonly_fields = ["aperture_px", "stride_px", "height", "width", "tile_frames", "tile_count", "frames", "job"]


@admin.register(AnomalyEntry)
class AnomalyEntryAdmin(admin.ModelAdmin):
    list_display = ["scan", "rank", "ra_deg", "dec_deg", "score", "top_percent", "cutout"]
    list_filter = ["top_percent"]
    raw_id_fields = ["cutout"]
