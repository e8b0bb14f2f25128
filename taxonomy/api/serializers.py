"""Input and output shapes of the taxonomy API."""

from rest_framework import serializers

from taxonomy.models import CurationEvent, Tag, TaxonomyVersion


class TagSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="candidate, approved or retired")
    synonyms = serializers.SerializerMethodField()
    merged_into = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Tag
        fields = [
            "id",
            "name",
            "description",
            "status",
            "support",
            "sources",
            "example_phrases",
            "example_cutouts",
            "derived_keys",
            "synonyms",
            "merged_into",
            "revision",
            "updated_at",
        ]

    def get_synonyms(self, tag) -> list[str]:
        return sorted(s.phrase for s in tag.synonyms.all())


class TagCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    status = serializers.CharField(default=Tag.Status.CANDIDATE, help_text="candidate (default), approved or retired")


class RevisionSerializer(serializers.Serializer):
    revision = serializers.IntegerField(required=False, help_text="the revision you read; a newer one gives 409")


class RenameSerializer(RevisionSerializer):
    name = serializers.CharField(max_length=200, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class MergeSerializer(RevisionSerializer):
    into = serializers.IntegerField(help_text="id of the tag that absorbs this one")
    into_revision = serializers.IntegerField(required=False)


class SplitSerializer(RevisionSerializer):
    name = serializers.CharField(max_length=200, allow_blank=True)
    keys = serializers.ListField(child=serializers.CharField(max_length=200), allow_empty=True, max_length=500)


class SynonymSerializer(RevisionSerializer):
    phrase = serializers.CharField(max_length=200, allow_blank=True)


class EventSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", default=None, allow_null=True)
    undone_by = serializers.CharField(source="undone_by.username", default=None, allow_null=True)

    class Meta:
        model = CurationEvent
        fields = ["id", "action", "summary", "user", "tag", "created_at", "undone_at", "undone_by"]


class VersionSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)

    class Meta:
        model = TaxonomyVersion
        fields = ["number", "note", "tags", "created_by", "created_at"]


class PublishedVersionSerializer(VersionSerializer):
    autotag_job = serializers.CharField(help_text="the job that tags the stored descriptions (/jobs/ID/)")

    class Meta(VersionSerializer.Meta):
        fields = [*VersionSerializer.Meta.fields, "autotag_job"]


class PublishSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class DeriveSerializer(serializers.Serializer):
    threshold = serializers.FloatField(required=False, min_value=0.01, max_value=1.0)


class SuggestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    matched = serializers.CharField()


class SearchRowSerializer(serializers.Serializer):
    cutout_id = serializers.IntegerField(source="cutout.pk")
    name = serializers.CharField(source="cutout.name")
    survey = serializers.CharField(source="cutout.survey.name")
    ra = serializers.FloatField(source="cutout.ra_deg", allow_null=True)
    dec = serializers.FloatField(source="cutout.dec_deg", allow_null=True)
    image_url = serializers.SerializerMethodField()
    voters = serializers.IntegerField()
    fractions = serializers.DictField(child=serializers.FloatField())

    def get_image_url(self, row) -> str:
        request = self.context.get("request")
        url = row.cutout.image.url if row.cutout.image else ""
        return request.build_absolute_uri(url) if request and url else url
