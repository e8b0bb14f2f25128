"""A job's state in the API (jobs are started by the endpoints of the work they do)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.params import int_param
from core.errors import InvalidInput
from core.permissions import IsAstronomer

from . import selectors
from .dispatch import job_cancel_by
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
        jobs = selectors.job_list_recent(limit=limit)
        return Response(JobSerializer(jobs, many=True, context={"request": request}).data)


class JobCancelView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        request=None,
        responses={200: JobSerializer},
        summary=(
            "Cancel a job: a queued one at once, a running one at its next progress report. Astronomers "
            "may cancel the jobs they started, admins any (403 otherwise); 409 when it has finished"
        ),
    )
    def post(self, request, pk):
        job = job_cancel_by(job=selectors.job_get(job_id=pk), user=request.user)
        return Response(JobSerializer(job, context={"request": request}).data)


class JobDetailView(APIView):
    permission_classes = [IsAstronomer]  # parameters and errors name files and hosts

    @extend_schema(responses=JobSerializer, summary="A job's state and progress")
    def get(self, request, pk):
        return Response(JobSerializer(selectors.job_get(job_id=pk), context={"request": request}).data)
