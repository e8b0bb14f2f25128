"""Consensus on marks and the catalogue of consensus radio sources: what astronomers read."""

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import selectors
from annotations.mark_consensus import mark_consensus
from annotations.source_catalogue import catalogue_csv, catalogue_votable, consensus_sources
from core.api.params import int_param
from core.errors import NotFound
from core.permissions import IsAstronomer


class ConsensusPointSerializer(serializers.Serializer):
    x = serializers.FloatField(help_text="radio-frame pixels, from the image's left edge")
    y = serializers.FloatField(help_text="radio-frame pixels, from the image's top edge")
    count = serializers.IntegerField(help_text="marks in the cluster")
    volunteers = serializers.IntegerField()
    share = serializers.FloatField(help_text="volunteers in the cluster / volunteers who answered")
    spread_px = serializers.FloatField(allow_null=True)
    spread_arcsec = serializers.FloatField(allow_null=True)
    ra_deg = serializers.FloatField(allow_null=True)
    dec_deg = serializers.FloatField(allow_null=True)


class ConsensusShapeSerializer(serializers.Serializer):
    shape = serializers.ChoiceField(choices=["circle", "ellipse", "rectangle", "line"])
    params = serializers.DictField(
        child=serializers.FloatField(),
        help_text="the cluster's average shape with Zooniverse's field names (circle x, y, r; ellipse x, y, rx, "
        "ry, angle in degrees; rectangle x, y, width, height; line x1, y1, x2, y2), radio-frame pixels",
    )
    count = serializers.IntegerField(help_text="marks in the cluster")
    volunteers = serializers.IntegerField()
    share = serializers.FloatField(help_text="volunteers in the cluster / volunteers who answered")
    ra_deg = serializers.FloatField(allow_null=True, help_text="the shape's centre")
    dec_deg = serializers.FloatField(allow_null=True)


class ConsensusSourceSerializer(serializers.Serializer):
    components = serializers.ListField(child=serializers.IntegerField())
    votes = serializers.IntegerField()
    share = serializers.FloatField()
    host = ConsensusPointSerializer(allow_null=True)
    host_votes = serializers.IntegerField()


class MarkConsensusSerializer(serializers.Serializer):
    subject = serializers.IntegerField()
    task = serializers.CharField()
    kind = serializers.ChoiceField(choices=["drawing", "radio_components"])
    num_votes = serializers.IntegerField(help_text="volunteers who answered the task")
    agreement = serializers.FloatField(
        help_text="radio components: share giving the consensus grouping; drawing: largest cluster's share"
    )
    sources = ConsensusSourceSerializer(many=True, required=False)
    clusters = serializers.DictField(
        child=ConsensusPointSerializer(many=True), required=False, help_text="point tools: tool index -> clusters"
    )
    shapes = serializers.DictField(
        child=ConsensusShapeSerializer(many=True),
        required=False,
        help_text="circle, ellipse, rectangle and line tools: tool index -> clusters (panoptes_aggregation's "
        "shape_reducer_dbscan: DBSCAN on the shape parameters, eps 5, min_samples 3)",
    )


class WorkflowMarkConsensusView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        parameters=[OpenApiParameter("subject", int, description="only this subject")],
        responses=MarkConsensusSerializer(many=True),
        summary="Consensus on marks: point and shape clusters (DBSCAN, panoptes_aggregation's parameters) and radio "
        "sources",
    )
    def get(self, request, pk):
        workflow = selectors.workflow_get(workflow_id=pk)
        subject = int_param(request, "subject")
        results = mark_consensus(workflow=workflow, subject_ids=[subject] if subject is not None else None)
        rows = [value.as_dict() for _, value in sorted(results.items())]
        return Response(MarkConsensusSerializer(rows, many=True).data)


class WorkflowSourceCatalogueView(APIView):
    permission_classes = [IsAstronomer]
    FORMATS = ("csv", "vot")

    @extend_schema(
        parameters=[OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=FORMATS)],
        responses={(200, "text/csv"): OpenApiTypes.STR, (200, "application/x-votable+xml"): OpenApiTypes.STR},
        summary="Consensus radio sources (components, host RA/Dec, spread, agreement) as CSV or VOTable",
    )
    def get(self, request, pk, fmt):
        if fmt not in self.FORMATS:
            raise NotFound(f"no catalogue format {fmt[:20]!r}: csv or vot")
        workflow = selectors.workflow_get(workflow_id=pk)
        rows = consensus_sources(workflow=workflow)
        if fmt == "csv":
            response = HttpResponse(catalogue_csv(rows), content_type="text/csv")
        else:
            description = f"Consensus radio sources of workflow {workflow.pk} ({workflow.display_name})"
            response = HttpResponse(
                catalogue_votable(rows, description=description), content_type="application/x-votable+xml"
            )
        response["Content-Disposition"] = content_disposition_header(True, f"sources-workflow-{workflow.pk}.{fmt}")
        return response
