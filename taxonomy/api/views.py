"""Taxonomy API: candidates and curation (astronomers), suggestions (everyone), search by tag."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.params import int_param
from core.permissions import IsAstronomer
from jobs.dispatch import job_start
from jobs.serializers import JobSerializer
from taxonomy import curation, selectors, services
from taxonomy.models import Tag

from .serializers import (
    DeriveSerializer,
    EventSerializer,
    MergeSerializer,
    PublishedVersionSerializer,
    PublishSerializer,
    RenameSerializer,
    RevisionSerializer,
    SearchRowSerializer,
    SplitSerializer,
    SuggestionSerializer,
    SynonymSerializer,
    TagCreateSerializer,
    TagSerializer,
    VersionSerializer,
)

STATUS = OpenApiParameter("status", str, enum=Tag.Status.values, description="only tags with this status")
QUERY = OpenApiParameter("q", str, description="name or synonym contains this")
SORT = OpenApiParameter("sort", str, enum=list(selectors.SORTS), description="support (default), name or recent")


def _valid(serializer_class, data):
    payload = serializer_class(data=data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


def _tag_response(tag, status=200):
    """The tag as it is stored now (with its synonyms), after an action changed it."""
    return Response(TagSerializer(selectors.tag_get(tag_id=tag.pk)).data, status=status)


class TagListCreateView(generics.ListAPIView):
    permission_classes = [IsAstronomer]
    serializer_class = TagSerializer

    @extend_schema(parameters=[STATUS, QUERY, SORT], summary="Tags: candidates, approved and retired")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        p = self.request.query_params
        return selectors.tag_list(status=p.get("status") or None, q=p.get("q", ""), sort=p.get("sort", "support"))

    @extend_schema(request=TagCreateSerializer, responses={201: TagSerializer}, summary="Add a tag by hand")
    def post(self, request):
        data = _valid(TagCreateSerializer, request.data)
        return _tag_response(curation.tag_create(**data, user=request.user), status=201)


class TagDetailView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(responses=TagSerializer, summary="A tag with its example phrases and cutouts")
    def get(self, request, pk):
        return Response(TagSerializer(selectors.tag_get(tag_id=pk)).data)


class TagActionView(APIView):
    """One curation action on a tag; every action is audited and can be undone."""

    permission_classes = [IsAstronomer]


class TagApproveView(TagActionView):
    @extend_schema(request=RevisionSerializer, responses=TagSerializer, summary="Approve a tag")
    def post(self, request, pk):
        data = _valid(RevisionSerializer, request.data)
        tag = curation.tag_set_status(
            tag_id=pk, status=Tag.Status.APPROVED, revision=data.get("revision"), user=request.user
        )
        return _tag_response(tag)


class TagRetireView(TagActionView):
    @extend_schema(request=RevisionSerializer, responses=TagSerializer, summary="Retire a tag")
    def post(self, request, pk):
        data = _valid(RevisionSerializer, request.data)
        tag = curation.tag_set_status(
            tag_id=pk, status=Tag.Status.RETIRED, revision=data.get("revision"), user=request.user
        )
        return _tag_response(tag)


class TagRenameView(TagActionView):
    @extend_schema(request=RenameSerializer, responses=TagSerializer, summary="Rename a tag (and edit its description)")
    def post(self, request, pk):
        data = _valid(RenameSerializer, request.data)
        tag = curation.tag_rename(
            tag_id=pk,
            name=data["name"],
            description=data.get("description"),
            revision=data.get("revision"),
            user=request.user,
        )
        return _tag_response(tag)


class TagMergeView(TagActionView):
    as_synonym = False

    @extend_schema(request=MergeSerializer, responses=TagSerializer, summary="Merge this tag into another")
    def post(self, request, pk):
        data = _valid(MergeSerializer, request.data)
        tag = curation.tag_merge(
            tag_id=pk,
            into_id=data["into"],
            revision=data.get("revision"),
            into_revision=data.get("into_revision"),
            user=request.user,
            as_synonym=self.as_synonym,
        )
        return _tag_response(tag)


class TagSynonymOfView(TagMergeView):
    as_synonym = True

    @extend_schema(request=MergeSerializer, responses=TagSerializer, summary="Mark this tag as a synonym of another")
    def post(self, request, pk):
        return super().post(request, pk)


class TagSplitView(TagActionView):
    @extend_schema(request=SplitSerializer, responses={201: TagSerializer}, summary="Split wordings into a new tag")
    def post(self, request, pk):
        data = _valid(SplitSerializer, request.data)
        tag = curation.tag_split(
            tag_id=pk, name=data["name"], keys=data["keys"], revision=data.get("revision"), user=request.user
        )
        return _tag_response(tag, status=201)


class TagAddSynonymView(TagActionView):
    @extend_schema(request=SynonymSerializer, responses=TagSerializer, summary="Add a synonym (another wording)")
    def post(self, request, pk):
        data = _valid(SynonymSerializer, request.data)
        tag = curation.tag_add_synonym(
            tag_id=pk, phrase=data["phrase"], revision=data.get("revision"), user=request.user
        )
        return _tag_response(tag)


class EventListView(generics.ListAPIView):
    permission_classes = [IsAstronomer]
    serializer_class = EventSerializer

    @extend_schema(parameters=[OpenApiParameter("tag", int)], summary="The audit log: who changed what, when")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.event_list(tag_id=int_param(self.request, "tag"), limit=1000)


class EventUndoView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(request=None, responses=EventSerializer, summary="Undo a change (409 if a tag changed since)")
    def post(self, request, pk):
        return Response(EventSerializer(curation.event_undo(event_id=pk, user=request.user)).data)


class DeriveView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(request=DeriveSerializer, responses={202: JobSerializer}, summary="Re-derive candidates (a job)")
    def post(self, request):
        data = _valid(DeriveSerializer, request.data)
        parameters = {"threshold": data["threshold"]} if "threshold" in data else {}
        job = job_start(kind="derive_taxonomy", parameters=parameters, user=request.user)
        return Response(JobSerializer(job).data, status=202)


class VersionListCreateView(generics.ListAPIView):
    permission_classes = [IsAstronomer]
    serializer_class = VersionSerializer

    def get_queryset(self):
        return selectors.version_list()

    @extend_schema(
        request=PublishSerializer,
        responses={201: PublishedVersionSerializer},
        summary="Publish the approved tags as a new version; descriptions are then auto-tagged (a job)",
    )
    def post(self, request):
        data = _valid(PublishSerializer, request.data)
        version = services.taxonomy_publish(note=data["note"], user=request.user)
        job = job_start(kind="autotag_descriptions", parameters={"version": version.number}, user=request.user)
        version.autotag_job = job.pk
        return Response(PublishedVersionSerializer(version).data, status=201)


class VersionDetailView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(responses=VersionSerializer, summary="A published taxonomy version")
    def get(self, request, number):
        return Response(VersionSerializer(selectors.version_get(number=number)).data)


class SuggestView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("q", str, required=True, description="what the volunteer is typing")],
        responses=SuggestionSerializer(many=True),
        summary="Approved tags that match a volunteer's typing",
    )
    def get(self, request):
        return Response(
            SuggestionSerializer(selectors.tag_suggest(q=request.query_params.get("q", "")), many=True).data
        )


SEARCH_PARAMS = [
    OpenApiParameter("require", str, required=True, description="comma-separated tags that must all be there"),
    OpenApiParameter("exclude", str, description="comma-separated tags that must not be there"),
    OpenApiParameter("min_fraction", float, description="vote fraction a tag needs (0..1, default 0)"),
    OpenApiParameter("export", str, enum=["json", "csv", "vot", "fits"], description="json (default) or a download"),
]


class SearchView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        parameters=SEARCH_PARAMS,
        responses={200: SearchRowSerializer(many=True), (200, "text/csv"): OpenApiTypes.BINARY},
        summary="Sources with all required tags and none of the excluded ones",
    )
    def get(self, request):
        p = request.query_params
        rows = selectors.cutouts_by_tags(
            require=p.get("require"), exclude=p.get("exclude"), min_fraction=p.get("min_fraction") or 0
        )
        fmt = p.get("export", "json")
        if fmt == "json":
            return Response(SearchRowSerializer(rows, many=True, context={"request": request}).data)
        payload, content_type = selectors.search_export(rows, fmt)
        response = HttpResponse(payload, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="tag-search.{fmt}"'
        return response
