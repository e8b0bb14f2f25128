"""A job's state in the API (jobs are started by the endpoints of the work they do)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import IsAstronomer

from . import selectors
from .serializers import JobSerializer


class JobDetailView(APIView):
    permission_classes = [IsAstronomer]  # parameters and errors name files and hosts

    @extend_schema(responses=JobSerializer, summary="A job's state and progress")
    def get(self, request, pk):
        return Response(JobSerializer(selectors.job_get(job_id=pk)).data)
