"""Cutouts over the API: list and read them (blind for volunteers where generated subjects are
served, ``annotations.blinding``), their contours and pixels, and uploads by astronomers."""

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import ingestion, selectors
from annotations.blinding import withheld_ids
from annotations.roles import volunteer_from_request
from core.api.params import bool_param, int_param
from core.errors import TooLarge
from core.permissions import IsAstronomer
from core.roles import is_astronomer

from .serializers import (
    ContoursSerializer,
    CutoutAstronomerSerializer,
    CutoutForRoleSerializer,
    CutoutSerializer,
    CutoutUploadSerializer,
)


class CutoutListView(generics.ListAPIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("survey", str, description="survey name or id"),
            OpenApiParameter("workflow", int),
            OpenApiParameter("retired", bool, description="retired (in the workflow, or in any)"),
            OpenApiParameter("synthetic", bool, description="astronomers only (volunteers answer blind)"),
        ],
        responses=CutoutForRoleSerializer(many=True),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_serializer_class(self):
        return CutoutAstronomerSerializer if is_astronomer(self.request.user) else CutoutSerializer

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        context = self.get_serializer_context()
        if not is_astronomer(request.user):  # blind where generated subjects are served
            context["withheld"] = withheld_ids(rows, volunteer_key=lambda: volunteer_from_request(request).key)
        data = self.get_serializer_class()(rows, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def get_queryset(self):
        request = self.request
        return selectors.cutout_list(
            survey=request.query_params.get("survey"),
            workflow=int_param(request, "workflow"),
            retired=bool_param(request, "retired"),
            synthetic=bool_param(request, "synthetic") if is_astronomer(request.user) else None,
            servable_only=not is_astronomer(request.user),
        )


class CutoutDetailView(APIView):
    @extend_schema(responses=CutoutForRoleSerializer)
    def get(self, request, pk):
        astronomer = is_astronomer(request.user)
        cutout = selectors.cutout_get(cutout_id=pk, servable_only=not astronomer)
        if astronomer:
            return Response(CutoutAstronomerSerializer(cutout, context={"request": request}).data)
        withheld = withheld_ids([cutout], volunteer_key=lambda: volunteer_from_request(request).key)
        return Response(CutoutSerializer(cutout, context={"request": request, "withheld": withheld}).data)


class CutoutContoursView(APIView):
    @extend_schema(responses=ContoursSerializer, summary="Radio contour polylines in raster pixel coordinates")
    def get(self, request, pk):
        cutout = selectors.cutout_get(cutout_id=pk, servable_only=not is_astronomer(request.user))
        response = Response(ContoursSerializer(cutout).data)
        response["Cache-Control"] = "public, max-age=86400"
        return response


class CutoutPixelsView(APIView):
    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        summary="Normalised pixels, little-endian uint16, raster order (X-Width, X-Height headers)",
    )
    def get(self, request, pk):
        cutout = selectors.cutout_get(cutout_id=pk, servable_only=not is_astronomer(request.user))
        with cutout.pixels.open("rb") as handle:
            response = HttpResponse(handle.read(), content_type="application/octet-stream")
        response["X-Width"], response["X-Height"] = str(cutout.width), str(cutout.height)
        response["Cache-Control"] = "public, max-age=86400"
        return response


class CutoutUploadView(APIView):
    permission_classes = [IsAstronomer]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request=CutoutUploadSerializer,
        responses={201: CutoutAstronomerSerializer},
        summary="Upload one FITS, PNG or JPEG cutout (astronomers)",
    )
    def post(self, request):
        payload = CutoutUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        upload = data["file"]
        limit = settings.RGZ_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise TooLarge(f"{upload.name}: {upload.size} bytes is over the {limit}-byte limit")
        cutout = ingestion.cutout_upload(
            survey_name=data["survey"],
            filename=upload.name,
            raw=upload.read(),
            name=data.get("name"),
            ra_deg=data.get("ra_deg"),
            dec_deg=data.get("dec_deg"),
            label=data.get("label"),
            workflow_id=data.get("workflow"),
        )
        return Response(CutoutAstronomerSerializer(cutout, context={"request": request}).data, status=201)
