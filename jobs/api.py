"""A job's state in the API (jobs are started by the endpoints of the work they do)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.params import int_param
from core.errors import InvalidInput
from core.permissions import IsAdmin, IsAstronomer

from . import selectors
from .dispatch import job_cancel
from .serializers import JobSerializer


class JobRecentListView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        parameters=[OpenApiParameter("limit", int, description="how many, newest first (1-100, default 20)")],
        responses=JobSerializer(many=True),
        summary="The newest jobs, for pages that follow them live",
    )
    def get(self, request):
        limit = int_param(request, "limit")
        limit = 20 if limit is None else limit
        if not 1 <= limit <= 100:
            raise InvalidInput("limit must be between 1 and 100", field="limit")
        return Response(JobSerializer(selectors.job_list_recent(limit=limit), many=True).data)


class JobCancelView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        request=None,
        responses={200: JobSerializer},
        summary="Cancel a job: a queued one at once, a running one at its next progress report (409 when finished)",
    )
    def post(self, request, pk):
        return Response(JobSerializer(job_cancel(job=selectors.job_get(job_id=pk))).data)


class JobDetailView(APIView):
    permission_classes = [IsAstronomer]  # parameters and errors name files and hosts

    @extend_schema(responses=JobSerializer, summary="A job's state and progress")
    def get(self, request, pk):
        return Response(JobSerializer(selectors.job_get(job_id=pk)).data)
