"""A survey's self-supervised encoders: list them, start training a new one (API)."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import selectors as annotation_selectors
from classifiers import encoders
from core.permissions import IsAdmin, IsAstronomer

from .encoder_serializers import EncoderTrainSerializer, FeatureEncoderSerializer


class SurveyEncoderView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        responses={200: FeatureEncoderSerializer(many=True)},
        summary="The survey's self-supervised encoders, newest first (the active one spans its encoder space)",
        description="404 for an unknown survey.",
    )
    def get(self, request, pk):
        survey = annotation_selectors.survey_get(survey_id=pk)
        rows = encoders.encoder_list(survey=survey)
        return Response(FeatureEncoderSerializer(rows, many=True, context={"request": request}).data)

    @extend_schema(
        request=EncoderTrainSerializer,
        responses={202: FeatureEncoderSerializer},
        summary="Train a new encoder of the survey on the training queue (admins)",
        description="It reads every cutout of the survey, trains without labels, stores one vector per cutout "
        "and becomes the survey's active encoder when all succeeded. 404 for an unknown survey, 400 for bad "
        "steps or too few cutouts, 409 while another encoder of the survey is training.",
    )
    def post(self, request, pk):
        if not IsAdmin().has_permission(request, self):
            self.permission_denied(request, message=IsAdmin.message)
        survey = annotation_selectors.survey_get(survey_id=pk)
        payload = EncoderTrainSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        encoder = encoders.encoder_training_start(
            survey=survey, steps=payload.validated_data.get("steps"), user=request.user
        )
        encoder = encoders.encoder_get(encoder_id=encoder.pk)
        body = FeatureEncoderSerializer(encoder, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)
