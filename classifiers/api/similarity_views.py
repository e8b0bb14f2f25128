"""'More like this' over learned features, and sending a cutout to the front of a queue (API)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import selectors as annotation_selectors
from annotations.acquisition import subject_send_to_front
from classifiers.similarity import SPACES, similar_cutouts
from core.api.params import int_param
from core.permissions import IsAstronomer

from .similarity_serializers import SendToQueueSerializer, SentToQueueSerializer, SimilarCutoutsSerializer


class SimilarCutoutsView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        parameters=[
            OpenApiParameter("k", int, description="how many neighbours (default 10, at most RGZ_SIMILAR_MAX_K)"),
            OpenApiParameter(
                "space",
                str,
                enum=list(SPACES),
                description="the feature space: the active classifier's penultimate layer, or the survey's "
                "active self-supervised encoder (default: the classifier's when the cutout has a vector there, "
                "else the encoder's)",
            ),
        ],
        responses=SimilarCutoutsSerializer,
        summary="The cutouts nearest to this one in learned feature space, across every survey",
        description="404 for an unknown cutout; 409 when it has no feature vector in the space yet (vectors "
        "are computed after a classifier version is promoted, or a survey encoder is trained); 400 for k out "
        "of bounds or an unknown space.",
    )
    def get(self, request, pk):
        cutout = annotation_selectors.cutout_get(cutout_id=pk)
        k = int_param(request, "k")
        space = request.query_params.get("space")
        result = similar_cutouts(cutout=cutout, k=10 if k is None else k, space=space)
        return Response(SimilarCutoutsSerializer(result, context={"request": request}).data)


class SendToQueueFrontView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        request=SendToQueueSerializer,
        responses=SentToQueueSerializer,
        summary="Put a cutout at the front of the workflow's queue (from the novelty gallery)",
        description="Adds the cutout to the workflow when it is not in it; 409 when it has retired there.",
    )
    def post(self, request, pk):
        workflow = annotation_selectors.workflow_get(workflow_id=pk)
        payload = SendToQueueSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        cutout = annotation_selectors.cutout_get(cutout_id=payload.validated_data["subject"])
        status = subject_send_to_front(workflow=workflow, cutout=cutout)
        return Response(SentToQueueSerializer(status).data)
