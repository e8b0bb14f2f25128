from rest_framework import serializers

from anomalies.models import AnomalyEntry, Scan


class ScanSerializer(serializers.ModelSerializer):
    tiles_done = serializers.SerializerMethodField()
    histogram_url = serializers.SerializerMethodField()
    mosaic_map_url = serializers.SerializerMethodField(help_text="the whole mosaic, north up, every few pixels")

    class Meta:
        model = Scan
        fields = [
            "id",
            "mosaic_path",
            "mosaic_name",
            "out_path",
            "aperture_arcsec",
            "stride_arcsec",
            "aperture_px",
            "stride_px",
            "height",
            "width",
            "tile_count",
            "tiles_done",
            "top_percents",
            "status",
            "message",
            "frames",
            "thresholds",
            "histogram_url",
            "mosaic_map_url",
            "created_at",
            "finished_at",
        ]

    def get_tiles_done(self, scan) -> int:
        return scan.tiles.filter(done=True).count()

    def get_histogram_url(self, scan) -> str | None:
        return scan.histogram.url if scan.histogram else None

    def get_mosaic_map_url(self, scan) -> str | None:
        return scan.mosaic_map.url if scan.mosaic_map else None


class ScanCreateSerializer(serializers.Serializer):
    mosaic = serializers.CharField(
        required=False, help_text="path of a FITS mosaic under one of the import roots (RGZ_IMPORT_ROOTS)"
    )
    mosaic_file = serializers.FileField(
        required=False, help_text="or upload the FITS mosaic (multipart; at most RGZ_MAX_MOSAIC_UPLOAD_BYTES)"
    )
    aperture_arcsec = serializers.FloatField()
    stride_arcsec = serializers.FloatField()
    top_percents = serializers.ListField(child=serializers.FloatField(), required=False, default=[5.0, 1.0, 0.5])
    tile_frames = serializers.IntegerField(required=False, default=32, min_value=1, max_value=256)

    def validate(self, data):
        if bool(data.get("mosaic")) == bool(data.get("mosaic_file")):
            raise serializers.ValidationError("give either mosaic (a server path) or mosaic_file (an upload)")
        return data


class AnomalyEntrySerializer(serializers.ModelSerializer):
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = AnomalyEntry
        fields = [
            "id",
            "rank",
            "ra_deg",
            "dec_deg",
            "x",
            "y",
            "score",
            "percentile",
            "top_percent",
            "thumbnail_url",
            "cutout",
        ]

    def get_thumbnail_url(self, entry) -> str | None:
        return entry.thumbnail.url if entry.thumbnail else None


class ToQueueSerializer(serializers.Serializer):
    workflow = serializers.IntegerField()
