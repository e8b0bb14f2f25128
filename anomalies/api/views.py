"""Scans and anomaly catalogues for astronomers (API)."""

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.serializers import CutoutAstronomerSerializer
from annotations.paths import import_path
from anomalies import selectors, services
from anomalies.dispatch import scan_start
from core.api.params import float_param
from core.errors import InvalidInput, NotFound
from core.permissions import IsAstronomer

from .serializers import AnomalyEntrySerializer, ScanCreateSerializer, ScanSerializer, ToQueueSerializer

TOP = OpenApiParameter("top", float, description="only entries in this catalogue level (for example 1 for the top 1 %)")


def top_param(request) -> float | None:
    return float_param(request, "top", what="a number of percent")


class ScanListCreateView(generics.ListAPIView):
    permission_classes = [IsAstronomer]
    serializer_class = ScanSerializer

    def get_queryset(self):
        return selectors.scan_list()

    @extend_schema(
        request=ScanCreateSerializer,
        responses={202: ScanSerializer},
        summary=(
            "Start a blind complexity scan of a mosaic (tiles run on the workers): a path under the import "
            "roots (JSON), or the FITS file itself (multipart, mosaic_file)"
        ),
    )
    def post(self, request):
        payload = ScanCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if "out" in request.data:
            raise InvalidInput(
                "out: the API does not write where a request says; the catalogue is kept by the server "
                "and downloaded from /api/scans/ID/catalogue.csv (or .vot)",
                field="out",
            )
        options = {
            "aperture_arcsec": data["aperture_arcsec"],
            "stride_arcsec": data["stride_arcsec"],
            "top_percents": data["top_percents"],
            "tile_frames": data["tile_frames"],
        }
        if data.get("mosaic_file"):
            scan = services.scan_create_from_upload(upload=data["mosaic_file"], **options)
        else:
            scan = services.scan_create(mosaic=import_path(data["mosaic"], field="mosaic"), **options)
        scan_start(scan, user=request.user)
        return Response(ScanSerializer(scan).data, status=202)


class ScanDetailView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(responses=ScanSerializer, summary="A scan's progress and thresholds")
    def get(self, request, pk):
        return Response(ScanSerializer(selectors.scan_get(scan_id=pk)).data)


class ScanEntriesView(generics.ListAPIView):
    permission_classes = [IsAstronomer]
    serializer_class = AnomalyEntrySerializer

    @extend_schema(parameters=[TOP])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return services.catalogue_entries(selectors.scan_get(scan_id=self.kwargs["pk"]), top_param(self.request))


class ScanCatalogueView(APIView):
    permission_classes = [IsAstronomer]

    FORMATS = ("csv", "vot")

    @extend_schema(
        parameters=[TOP, OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=FORMATS)],
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/x-votable+xml"): OpenApiTypes.STR,
        },
        summary="The anomaly catalogue as CSV (.csv) or VOTable (.vot)",
    )
    def get(self, request, pk, fmt):
        if fmt not in self.FORMATS:  # any other suffix was served as VOTable, its name in a header
            raise NotFound(f"no catalogue format {fmt[:20]!r}: csv or vot")
        scan = selectors.scan_get(scan_id=pk)
        top = top_param(request)
        if fmt == "csv":
            response = HttpResponse(services.catalogue_csv(scan=scan, top=top), content_type="text/csv")
        else:
            response = HttpResponse(
                services.catalogue_votable(scan=scan, top=top), content_type="application/x-votable+xml"
            )
        suffix = f"-top{top:g}" if top else ""
        response["Content-Disposition"] = content_disposition_header(True, f"anomalies-{scan.pk}{suffix}.{fmt}")
        return response


class EntryToQueueView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        request=ToQueueSerializer,
        responses={201: CutoutAstronomerSerializer},
        summary="Send an anomaly into a workflow's labelling queue as a new subject",
    )
    def post(self, request, pk):
        payload = ToQueueSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        cutout = services.entry_to_queue(entry_id=pk, workflow_id=payload.validated_data["workflow"])
        return Response(CutoutAstronomerSerializer(cutout, context={"request": request}).data, status=201)
