"""Input and output shapes of the API (kept apart from the table layout)."""

from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from annotations import ml
from annotations.blinding import withheld_sky
from annotations.models import SubjectWorkflowStatus, Survey
from annotations.paths import import_path
from core.api.fields import NumberField, PolylinesField, StoredJSONField


class SurveySerializer(serializers.ModelSerializer):
    class Meta:
        model = Survey
        fields = ["id", "name", "telescope", "frequency_mhz", "beam_arcsec", "pixel_scale_arcsec", "description"]


# Metadata keys that name where a cutout came from: a catalogue name or file name can give the
# answer away (the demo's names carry the label index, a catalogue can be a list of one class).
PROVENANCE_METADATA = {"label", "split", "catalogue", "file", "filename", "mosaic", "name", "source", "image"}


def volunteer_metadata(metadata: dict) -> dict:
    """What volunteers may see of a cutout's metadata: no label, no provenance, no hidden keys."""
    return {
        key: value
        for key, value in (metadata or {}).items()
        if key.lower() not in PROVENANCE_METADATA and not key.startswith(("#", "!"))
    }


def neutral_name(cutout) -> str:
    return f"Subject {cutout.pk}"


class CutoutLayerSerializer(serializers.Serializer):
    """Another band of the cutout's field, on the radio image's pixel grid (its width and height)."""

    band = serializers.CharField()
    survey = serializers.CharField(source="survey_name", help_text="where the layer image comes from")
    source_format = serializers.CharField()
    pixel_scale_arcsec = serializers.FloatField(allow_null=True, help_text="the layer's own resolution")
    matched_by = serializers.ChoiceField(choices=["sky_position", "catalogue", "source_name"])
    reprojected = serializers.BooleanField(help_text="reprojected through both WCS; false: same pixel grid")
    coverage = serializers.FloatField(help_text="share of the radio frame the layer covers, 0..1")
    image_url = serializers.SerializerMethodField()
    pixels_url = serializers.SerializerMethodField(help_text="uint16 little-endian, raster order, radio frame")

    def _absolute(self, url: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def get_image_url(self, layer) -> str:
        return self._absolute(layer.image.url)

    def get_pixels_url(self, layer) -> str:
        return self._absolute(layer.pixels.url)


class CutoutLayerAstronomerSerializer(CutoutLayerSerializer):
    source_url = serializers.SerializerMethodField()
    wcs_header = serializers.CharField(
        help_text="the layer's own celestial WCS, before reprojection; a PNG/JPEG without one on the radio pixel "
        "grid takes the radio cutout's"
    )
    notes = serializers.JSONField()

    def get_source_url(self, layer) -> str:
        return self._absolute(layer.source_file.url)


class CutoutSerializer(serializers.Serializer):
    """A cutout as volunteers may see it: a neutral identifier and the sky position, nothing that
    hints at the answer (catalogue names, labels, ranking metadata are for astronomers).

    The context's ``withheld`` (cutout ids, ``annotations.blinding``) are served blind: where
    generated subjects are served, a subject not yet answered shows no position, format or
    visible metadata, as a generated one has none."""

    id = serializers.IntegerField()
    survey = serializers.CharField(source="survey.name")
    name = serializers.SerializerMethodField(help_text="a neutral identifier (catalogue names are for astronomers)")
    ra_deg = serializers.FloatField(allow_null=True, help_text="null when unknown or withheld")
    dec_deg = serializers.FloatField(allow_null=True, help_text="null when unknown or withheld")
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    source_format = serializers.CharField(allow_null=True, help_text="null while withheld")
    metadata = serializers.SerializerMethodField()
    image_url = serializers.SerializerMethodField()
    pixels_url = serializers.SerializerMethodField()
    contours_url = serializers.SerializerMethodField()
    sky = serializers.SerializerMethodField(
        help_text="raster pixels to sky: crpix (0-based, row 0 at the top), crval (deg), cd (deg per pixel), "
        "projection (TAN or SIN), pixel_scale_arcsec, approximate; null when the position is unknown; only "
        "pixel_scale_arcsec (the survey's) and approximate while the position is withheld"
    )
    position_withheld = serializers.SerializerMethodField(
        help_text="true while the sky position, source format and metadata are withheld: the survey or workflow "
        "serves generated subjects, and they are shown once this volunteer has answered the subject"
    )
    layers = CutoutLayerSerializer(many=True, read_only=True, help_text="other bands on the radio frame")

    def to_representation(self, cutout):
        data = super().to_representation(cutout)
        if data["position_withheld"]:
            data.update(ra_deg=None, dec_deg=None, source_format=None, metadata={}, sky=withheld_sky(cutout))
        return data

    def get_position_withheld(self, cutout) -> bool:
        return cutout.pk in self.context.get("withheld", ())

    def get_name(self, cutout) -> str:
        return neutral_name(cutout)

    def get_sky(self, cutout) -> dict | None:
        return None if self.get_position_withheld(cutout) else ml.cutout_sky(cutout)

    def get_metadata(self, cutout) -> dict:
        return volunteer_metadata(cutout.metadata)

    def _absolute(self, url: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def get_image_url(self, cutout) -> str:
        return self._absolute(cutout.image.url)

    def get_pixels_url(self, cutout) -> str:
        return self._absolute(cutout.pixels.url)

    def get_contours_url(self, cutout) -> str:
        return self._absolute(reverse("api-cutout-contours", args=[cutout.pk]))


class CutoutAstronomerSerializer(CutoutSerializer):
    """What astronomers see: everything, catalogue name and hidden ranking metadata included."""

    name = serializers.CharField()
    synthetic = serializers.BooleanField(
        help_text="made by a generator, not observed (volunteers are told after answering, not before)"
    )
    layers = CutoutLayerAstronomerSerializer(many=True, read_only=True, help_text="other bands on the radio frame")
    source_url = serializers.SerializerMethodField()
    wcs_header = serializers.CharField()
    full_metadata = serializers.JSONField(source="metadata")
    ingest_notes = serializers.JSONField()
    complexity = serializers.FloatField(allow_null=True)
    complexity_percentile = serializers.FloatField(allow_null=True)
    model_scores = serializers.JSONField()
    priority = serializers.FloatField(allow_null=True)

    def get_source_url(self, cutout) -> str:
        return self._absolute(cutout.source_file.url)


class CutoutForRoleSerializer(CutoutSerializer):
    """The schema of a cutout read by anyone: the astronomers' fields are there for astronomers only."""

    source_url = serializers.URLField(required=False)
    synthetic = serializers.BooleanField(required=False)
    wcs_header = serializers.CharField(required=False)
    full_metadata = serializers.JSONField(required=False)
    ingest_notes = serializers.JSONField(required=False)
    complexity = serializers.FloatField(allow_null=True, required=False)
    complexity_percentile = serializers.FloatField(allow_null=True, required=False)
    model_scores = serializers.JSONField(required=False)
    priority = serializers.FloatField(allow_null=True, required=False)


class ContourLevelSerializer(serializers.Serializer):
    level = NumberField(help_text="in the image's normalised units")
    paths = PolylinesField(help_text="polylines of [x, y] raster pixel coordinates")


class ContoursSerializer(serializers.Serializer):
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    levels = ContourLevelSerializer(many=True, source="contours")


class CutoutUploadSerializer(serializers.Serializer):
    survey = serializers.CharField(max_length=100)
    file = serializers.FileField()
    name = serializers.CharField(max_length=255, required=False)
    ra_deg = serializers.FloatField(required=False, min_value=0, max_value=360)
    dec_deg = serializers.FloatField(required=False, min_value=-90, max_value=90)
    label = serializers.CharField(max_length=100, required=False)
    workflow = serializers.IntegerField(required=False)


class WorkflowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    description = serializers.CharField()
    active = serializers.BooleanField()
    prioritized = serializers.BooleanField()
    version = serializers.CharField(source="version_label")
    retirement = serializers.JSONField()
    synthetic_share = serializers.FloatField(help_text="the most of a volunteer's subjects that may be generated")
    first_task = serializers.SerializerMethodField()
    tasks = serializers.SerializerMethodField()
    strings = serializers.SerializerMethodField()

    def _current(self, workflow):
        return workflow.versions.get(major=workflow.version_major, minor=workflow.version_minor)

    def get_first_task(self, workflow) -> str:
        return self._current(workflow).first_task

    def get_tasks(self, workflow) -> dict:
        return self._current(workflow).tasks

    def get_strings(self, workflow) -> dict:
        return self._current(workflow).strings


class WorkflowCreateSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    tasks = StoredJSONField(must_be=dict)
    strings = StoredJSONField(must_be=dict)
    retirement_count = serializers.IntegerField(
        min_value=1,
        default=lambda: settings.RGZ_DEFAULT_RETIREMENT_COUNT,  # read per request, not at import
        help_text="classifications after which a subject retires (default: the server's RGZ_DEFAULT_RETIREMENT_COUNT)",
    )
    subject_sets = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)


class SubjectStatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = SubjectWorkflowStatus
        fields = ["workflow", "subject", "classification_count", "retired_at", "retirement_reason"]


class RetireSerializer(serializers.Serializer):
    subject = serializers.IntegerField()
    reason = serializers.CharField(default="human")


class IngestImagesParameters(serializers.Serializer):
    survey_name = serializers.CharField(max_length=100)
    paths = serializers.ListField(child=serializers.CharField(), min_length=1, max_length=1000)
    catalogue = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None)
    subject_set_name = serializers.CharField(required=False, allow_null=True, max_length=200, default=None)
    workflow_id = serializers.IntegerField(required=False, allow_null=True, default=None)

    def validate(self, data):
        data["paths"] = [import_path(p, field="paths") for p in data["paths"]]
        data["catalogue"] = import_path(data["catalogue"], field="catalogue") if data["catalogue"] else None
        data["import_roots_only"] = True  # the worker checks each file found in a folder again
        return data


class IngestFitsParameters(serializers.Serializer):
    survey_name = serializers.CharField(max_length=100)
    mosaic = serializers.CharField()
    catalogue = serializers.CharField()
    size_arcsec = serializers.FloatField()
    subject_set_name = serializers.CharField(required=False, allow_null=True, max_length=200, default=None)
    workflow_id = serializers.IntegerField(required=False, allow_null=True, default=None)

    def validate(self, data):
        data["mosaic"] = import_path(data["mosaic"], field="mosaic")
        data["catalogue"] = import_path(data["catalogue"], field="catalogue")
        return data


class IngestLayersParameters(serializers.Serializer):
    survey_name = serializers.CharField(max_length=100)
    band = serializers.CharField(max_length=50)
    paths = serializers.ListField(child=serializers.CharField(), min_length=1, max_length=1000)
    layer_survey = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=100, default=None
    )
    catalogue = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None)

    def validate(self, data):
        data["paths"] = [import_path(p, field="paths") for p in data["paths"]]
        data["catalogue"] = import_path(data["catalogue"], field="catalogue") if data["catalogue"] else None
        data["import_roots_only"] = True
        return data


class IngestDemoParameters(serializers.Serializer):
    limit = serializers.IntegerField(required=False, allow_null=True, min_value=1, default=None)


class ScoreComplexityParameters(serializers.Serializer):
    survey_name = serializers.CharField(max_length=100)
    set_priority = serializers.BooleanField(required=False, default=False)


JOB_PARAMETERS = {
    "ingest_images": IngestImagesParameters,
    "ingest_fits": IngestFitsParameters,
    "ingest_demo": IngestDemoParameters,
    "ingest_layers": IngestLayersParameters,
    "score_complexity": ScoreComplexityParameters,
}


class JobCreateSerializer(serializers.Serializer):
    """A job from the API: its parameters are checked per kind, server paths against the import roots."""

    kind = serializers.ChoiceField(choices=list(JOB_PARAMETERS))
    parameters = StoredJSONField(must_be=dict, default=dict)

    def validate(self, data):
        shape = JOB_PARAMETERS[data["kind"]](data=data["parameters"])
        if not shape.is_valid():
            raise serializers.ValidationError({"parameters": shape.errors})
        unknown = sorted(set(data["parameters"]) - set(shape.fields))
        if unknown:
            raise serializers.ValidationError({"parameters": f"unknown parameters for {data['kind']}: {unknown}"})
        data["parameters"] = dict(shape.validated_data)
        return data
