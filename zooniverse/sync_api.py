"""Sync links in the API: list and create links, start a push or a pull (a job with progress)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.selectors import workflow_get
from core.errors import InvalidInput
from core.permissions import IsAstronomer
from jobs.serializers import JobSerializer

from . import selectors, sync
from .models import ZooniverseLink

SYNC_KINDS = {"push": sync.PUSH_JOB, "pull": sync.PULL_JOB}


class LinkSerializer(serializers.ModelSerializer):
    workflow_name = serializers.CharField(source="workflow.display_name", read_only=True)
    pushed_subjects = serializers.IntegerField(read_only=True, help_text="subjects uploaded to Zooniverse so far")

    class Meta:
        model = ZooniverseLink
        fields = [
            "id",
            "workflow",
            "workflow_name",
            "endpoint",
            "project_id",
            "zooniverse_workflow_id",
            "subject_set_id",
            "subject_set_linked",
            "pull_every_minutes",
            "last_push_at",
            "last_pull_at",
            "pushed_subjects",
        ]


class LinkCreateSerializer(serializers.Serializer):
    workflow = serializers.IntegerField(help_text="the platform workflow")
    project_id = serializers.IntegerField(min_value=1)
    zooniverse_workflow_id = serializers.IntegerField(min_value=1)
    endpoint = serializers.URLField(required=False, help_text="Panoptes endpoint; PANOPTES_ENDPOINT by default")
    pull_every_minutes = serializers.IntegerField(min_value=0, default=60, help_text="0: pull on demand only")


class LinkListCreateView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(responses=LinkSerializer(many=True), summary="Workflows synced with Zooniverse projects")
    def get(self, request):
        return Response(LinkSerializer(selectors.link_list(), many=True).data)

    @extend_schema(request=LinkCreateSerializer, responses={201: LinkSerializer}, summary="Link a workflow")
    def post(self, request):
        payload = LinkCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        link = sync.link_create(
            workflow=workflow_get(workflow_id=data["workflow"]),
            project_id=data["project_id"],
            zooniverse_workflow_id=data["zooniverse_workflow_id"],
            endpoint=data.get("endpoint"),
            pull_every_minutes=data["pull_every_minutes"],
        )
        return Response(LinkSerializer(selectors.link_get(link_id=link.pk)).data, status=201)


class LinkDetailView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(responses=LinkSerializer, summary="One sync link")
    def get(self, request, pk):
        return Response(LinkSerializer(selectors.link_get(link_id=pk)).data)


class LinkSyncView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        operation_id="zooniverse_link_sync",
        request=None,
        responses={202: JobSerializer},
        summary="Start a push (subjects, priorities, retirements) or a pull (classification export) as a job",
    )
    def post(self, request, pk, action):
        if action not in SYNC_KINDS:
            raise InvalidInput(f"choose push or pull, not {action!r}", field="action")
        link = selectors.link_get(link_id=pk)
        job = sync.link_sync_start(link=link, kind=SYNC_KINDS[action], user=request.user)
        return Response(JobSerializer(job).data, status=202)
