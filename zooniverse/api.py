"""Zooniverse-format downloads for astronomers (browser and scripts)."""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from annotations.selectors import workflow_get
from core.errors import NotFound
from core.permissions import IsAstronomer

from .export_writer import EXPORTS, export_lines


class WorkflowExportView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        responses={(200, "text/csv"): OpenApiTypes.STR},
        summary="A workflow's classification, subject or workflow export in Zooniverse's CSV format",
    )
    def get(self, request, pk, kind):
        if kind not in EXPORTS:
            raise NotFound(f"no {kind!r} export; choose one of {', '.join(EXPORTS)}")
        workflow = workflow_get(workflow_id=pk)
        response = StreamingHttpResponse(export_lines(kind, workflow), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="workflow-{workflow.pk}-{kind}.csv"'
        return response
