"""A workflow's synthetic share: the most of each volunteer's subjects that may be generated."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.selectors import workflow_get
from annotations.synthetic import synthetic_open_count, synthetic_share_set
from core.permissions import IsAstronomer


class SyntheticShareRequestSerializer(serializers.Serializer):
    synthetic_share = serializers.FloatField(help_text="from 0 (never) to 1 (no cap)")


class SyntheticShareSerializer(serializers.Serializer):
    workflow = serializers.IntegerField()
    synthetic_share = serializers.FloatField(
        help_text="the most of each volunteer's subjects that may be generated (synthetic) ones, from 0 to 1"
    )
    synthetic_subjects = serializers.IntegerField(help_text="open generated subjects in the workflow")


def _report(workflow) -> dict:
    return {
        "workflow": workflow.pk,
        "synthetic_share": workflow.synthetic_share,
        "synthetic_subjects": synthetic_open_count(workflow=workflow),
    }


class WorkflowSyntheticShareView(APIView):
    def get_permissions(self):
        return [IsAstronomer()] if self.request.method == "PUT" else [AllowAny()]

    @extend_schema(responses=SyntheticShareSerializer, summary="The workflow's cap on generated subjects")
    def get(self, request, pk):
        return Response(SyntheticShareSerializer(_report(workflow_get(workflow_id=pk))).data)

    @extend_schema(
        request=SyntheticShareRequestSerializer,
        responses=SyntheticShareSerializer,
        summary="Set the most of each volunteer's subjects that may be generated",
        description="The queue serves a volunteer a generated subject only while generated subjects stay within "
        "this share of the subjects served to them in the workflow. 400 outside 0..1 (nothing changes).",
    )
    def put(self, request, pk):
        workflow = workflow_get(workflow_id=pk)
        payload = SyntheticShareRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        workflow = synthetic_share_set(workflow=workflow, share=payload.validated_data["synthetic_share"])
        return Response(SyntheticShareSerializer(_report(workflow)).data)
