"""Layers: other bands added to existing cutouts, matched by name, catalogue or sky position."""

import csv
import io
import shutil
import warnings
from urllib.parse import urlparse

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from PIL import Image
from rest_framework.test import APIClient

from annotations.media_sweep import media_orphans_sweep
from annotations.models import Cutout, CutoutLayer
from tests.factories import astronomer

pytestmark = pytest.mark.django_db


def ingest_layers(*paths, **options):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("ingest_layers", *map(str, paths), inline=True, stdout=out, stderr=err, **options)
    except CommandError as exc:
        exc.stderr = err.getvalue()
        raise
    return out.getvalue(), err.getvalue()


def layer_pixels(layer: CutoutLayer) -> np.ndarray:
    """(H, W) uint16 in raster order (row 0 at the top), as the browser reads them."""
    with layer.pixels.open("rb") as handle:
        raw = handle.read()
    return np.frombuffer(raw, dtype="<u2").reshape(layer.cutout.height, layer.cutout.width)


@pytest.fixture
def tutorial(shared_data, tmp_path):
    """The three compact tutorial subjects: radio PNGs as cutouts, infrared heat-maps beside them."""
    compact = shared_data / "rgz_atlas_examples" / "examples" / "compact"
    radio, infrared = tmp_path / "radio", tmp_path / "infrared"
    radio.mkdir()
    infrared.mkdir()
    for png in compact.glob("*_radio.png"):
        shutil.copy(png, radio / png.name)
    for png in compact.glob("*_heatmap_contours.png"):
        shutil.copy(png, infrared / png.name)
    call_command("ingest_images", str(radio), survey="RGZ tutorial", inline=True, stdout=io.StringIO())
    return radio, infrared


@pytest.fixture
def atlas(shared_data):
    call_command(
        "ingest_images",
        str(shared_data / "rgz_atlas_examples" / "S311.fits"),
        survey="ATLAS",
        inline=True,
        stdout=io.StringIO(),
    )
    return Cutout.objects.get(survey__name="ATLAS", name="S311")


def test_tutorial_heatmaps_match_by_source_name_on_the_same_pixel_grid(tutorial):
    _, infrared = tutorial
    out, _ = ingest_layers(infrared, survey="RGZ tutorial", band="infrared", layer_survey="SWIRE")
    layers = list(CutoutLayer.objects.select_related("cutout").order_by("cutout__name"))
    assert [(layer.cutout.name, layer.band) for layer in layers] == [
        ("S1138_radio", "infrared"),
        ("S1224_radio", "infrared"),
        ("S150_radio", "infrared"),
    ]
    assert all(layer.matched_by == "source_name" and not layer.reprojected for layer in layers)
    assert layers[0].survey_name == "SWIRE" and layers[0].source_format == "png"
    assert layer_pixels(layers[0]).shape == (360, 360)
    assert "no WCS: accepted because its pixel grid matches the radio image's (360x360)" in out
    assert "the radio cutout has no WCS either: marks on it have pixel positions only, no RA/Dec" in out
    assert all(layer.wcs_header == "" for layer in layers)
    assert "3 created" in out


def test_png_layer_on_the_radio_grid_takes_the_cutouts_wcs(atlas, shared_data, tmp_path, client):
    """A tutorial heat-map brought to the ATCA cutout's pixel grid: it has no WCS of its own, so it
    takes the radio cutout's, says so, and a mark on it has the same sky position as on the radio."""
    from annotations import drawing

    heatmap = shared_data / "rgz_atlas_examples" / "examples" / "extended" / "S311_heatmap_contours.png"
    layer_file = tmp_path / "S311_heatmap.png"
    Image.open(heatmap).resize((atlas.width, atlas.height)).save(layer_file)
    out, _ = ingest_layers(layer_file, survey="ATLAS", band="infrared")
    layer = CutoutLayer.objects.get(cutout=atlas, band="infrared")
    assert layer.matched_by == "source_name" and not layer.reprojected
    assert layer.wcs_header == atlas.wcs_header and layer.pixel_scale_arcsec == pytest.approx(0.6, rel=1e-3)
    assert "S311_heatmap.png -> S311 (source name shared by the file names): takes the radio cutout's WCS" in out

    tasks = {"T0": {"type": "drawing", "tools": [{"type": "point"}]}}
    marks = [{"task": "T0", "value": [{"tool": 0, "x": 150.5, "y": 150.5}]}]
    [item] = drawing.annotations_with_sky(marks, tasks, atlas)
    mark = item["value"][0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        centre = WCS(fits.Header.fromstring(layer.wcs_header)).pixel_to_world(150, 150)
    assert mark["ra_deg"] == pytest.approx(centre.icrs.ra.deg, abs=1e-9)
    assert mark["dec_deg"] == pytest.approx(centre.icrs.dec.deg, abs=1e-9)


def test_fits_layer_is_reprojected_onto_the_radio_frame(atlas, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the ATCA header's observatory keywords are fixed up
        radio_wcs = WCS(fits.Header.fromstring(atlas.wcs_header))
    # An "infrared" image at twice the radio pixel size, off-centre, with one bright source at a
    # known sky position: after reprojection it must sit on the same radio pixel.
    peak_x, peak_y = 180.0, 120.0  # radio frame, FITS orientation
    peak = radio_wcs.pixel_to_world(peak_x, peak_y)
    layer_wcs = WCS(naxis=2)
    layer_wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    layer_wcs.wcs.crval = [peak.ra.deg, peak.dec.deg]
    layer_wcs.wcs.crpix = [40.5, 50.5]  # 1-based: the source at pixel (39.5, 49.5)
    layer_wcs.wcs.cdelt = [-2 * 1.66667e-4, 2 * 1.66667e-4]
    yy, xx = np.mgrid[0:100, 0:80]
    data = np.exp(-((xx - 39.5) ** 2 + (yy - 49.5) ** 2) / 8.0) + 0.01 * np.random.default_rng(0).random((100, 80))
    path = tmp_path / "ir_tile.fits"
    fits.PrimaryHDU(data.astype(np.float32), header=layer_wcs.to_header()).writeto(path)

    out, _ = ingest_layers(path, survey="ATLAS", band="infrared")
    layer = CutoutLayer.objects.get()
    assert layer.cutout == atlas and layer.matched_by == "sky_position" and layer.reprojected
    assert layer.pixel_scale_arcsec == pytest.approx(1.2, rel=1e-3)
    assert 0.2 < layer.coverage < 0.6  # 96"x120" of a 180" square
    raster = layer_pixels(layer)
    row, col = np.unravel_index(np.argmax(raster), raster.shape)
    assert abs(col - peak_x) <= 1 and abs((atlas.height - 1 - row) - peak_y) <= 1
    assert "reprojected onto the radio frame (301x301)" in out and "of the radio frame; the rest is blank" in out


def test_layer_with_no_overlap_is_refused_naming_the_file(atlas, shared_data, tmp_path):
    far = shared_data / "rgz_atlas_examples" / "S999.fits"  # the same mosaic, 6,700 pixels away
    with pytest.raises(CommandError, match="0 created") as caught:
        ingest_layers(far, survey="ATLAS", band="infrared")
    assert "S999.fits: does not overlap any cutout of ATLAS on the sky" in caught.value.stderr
    # Paired by a catalogue, the cutout is named and the sky still says no.
    catalogue = tmp_path / "pairs.csv"
    catalogue.write_text("name,file\nS311,S999.fits\n")
    with pytest.raises(CommandError) as caught:
        ingest_layers(far, survey="ATLAS", band="infrared", catalogue=str(catalogue))
    assert "S999.fits: cutout S311: it does not overlap the radio cutout on the sky" in caught.value.stderr
    assert not CutoutLayer.objects.exists()


def test_layer_whose_wcs_cannot_be_read_is_refused(atlas, shared_data, tmp_path):
    with fits.open(shared_data / "rgz_atlas_examples" / "S311.fits") as hdul:
        header, data = hdul[0].header.copy(), hdul[0].data.copy()
    header["CTYPE1"], header["CTYPE2"] = "RA---XYZ", "DEC--XYZ"
    path = tmp_path / "S311_bad.fits"
    fits.PrimaryHDU(data, header=header).writeto(path)
    with pytest.raises(CommandError) as caught:
        ingest_layers(path, survey="ATLAS", band="optical")
    assert "S311_bad.fits: its WCS cannot be read" in caught.value.stderr


def test_png_of_another_size_is_refused_and_stored_layers_stay(tutorial, tmp_path):
    _, infrared = tutorial
    ingest_layers(infrared, survey="RGZ tutorial", band="infrared")
    before = {layer.pk: layer.pixels.name for layer in CutoutLayer.objects.all()}
    small = tmp_path / "S1138_heatmap_small.png"
    Image.fromarray((np.random.default_rng(1).random((100, 120)) * 255).astype(np.uint8)).save(small)
    with pytest.raises(CommandError) as caught:
        ingest_layers(small, survey="RGZ tutorial", band="optical")
    assert "S1138_heatmap_small.png: cutout S1138_radio: PNG layer without WCS is 120x100 pixels" in (
        caught.value.stderr
    )
    # Ingesting the band again keeps the stored layers as they are.
    out, _ = ingest_layers(infrared, survey="RGZ tutorial", band="infrared")
    assert "3 already there" in out
    assert {layer.pk: layer.pixels.name for layer in CutoutLayer.objects.all()} == before


@pytest.mark.parametrize(
    "options, fragment",
    [
        ({"survey": "nowhere", "band": "infrared"}, "no survey named 'nowhere'"),
        ({"survey": "RGZ tutorial", "band": "radio"}, "band 'radio' is the cutout's own image"),
        ({"survey": "RGZ tutorial", "band": "Infra red!"}, "use lower-case letters"),
    ],
)
def test_bad_options_are_clear_errors(tutorial, options, fragment):
    _, infrared = tutorial
    with pytest.raises(CommandError, match=fragment):
        ingest_layers(infrared, **options)


def test_catalogue_pairs_files_with_cutouts_and_names_bad_rows(tutorial, tmp_path):
    _, infrared = tutorial
    renamed = tmp_path / "ir_a.png"
    shutil.copy(infrared / "S150_heatmap_contours.png", renamed)
    catalogue = tmp_path / "pairs.csv"
    with catalogue.open("w", newline="") as handle:
        csv.writer(handle).writerows([("name", "file"), ("S150_radio", "ir_a.png")])
    ingest_layers(renamed, survey="RGZ tutorial", band="infrared", catalogue=str(catalogue))
    layer = CutoutLayer.objects.get()
    assert layer.cutout.name == "S150_radio" and layer.matched_by == "catalogue"
    catalogue.write_text("name,file\nS999_radio,ir_a.png\n")
    with pytest.raises(CommandError) as caught:
        ingest_layers(renamed, survey="RGZ tutorial", band="optical", catalogue=str(catalogue))
    assert "pairs.csv row 2: no cutout named 'S999_radio' in RGZ tutorial" in caught.value.stderr


def test_layers_listed_in_the_api(client, tutorial):
    _, infrared = tutorial
    ingest_layers(infrared, survey="RGZ tutorial", band="infrared")
    cutout = Cutout.objects.get(name="S150_radio")
    volunteer_view = client.get(f"/api/cutouts/{cutout.pk}/").json()
    [layer] = volunteer_view["layers"]
    assert layer["band"] == "infrared" and layer["matched_by"] == "source_name" and not layer["reprojected"]
    assert "wcs_header" not in layer and "source_url" not in layer
    # the URL names a stored file (read through storage: the media view's root is fixed when the
    # URLs are first imported, which in a whole test run is another test's media folder)
    assert default_storage.exists(urlparse(layer["pixels_url"]).path.split("/media/", 1)[1])
    client.force_login(astronomer())
    listed = client.get("/api/cutouts/", {"survey": "RGZ tutorial"}).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert all(row["layers"][0]["band"] == "infrared" for row in rows)
    assert "notes" in rows[0]["layers"][0]


def test_media_sweep_keeps_layer_files_and_removes_orphans(tutorial):
    _, infrared = tutorial
    ingest_layers(infrared, survey="RGZ tutorial", band="infrared")
    orphan = default_storage.save("layers/png/1/orphan.png", ContentFile(b"left by a killed worker"))
    deleted = media_orphans_sweep(older_than_seconds=0)
    assert deleted == [orphan]
    for layer in CutoutLayer.objects.all():
        assert all(default_storage.exists(f.name) for f in (layer.source_file, layer.image, layer.pixels))


def test_jobs_api_adds_layers_from_the_import_roots_only(tutorial, settings, django_capture_on_commit_callbacks):
    radio, infrared = tutorial
    settings.RGZ_IMPORT_ROOTS = [str(infrared)]
    api = APIClient()
    api.force_login(astronomer())
    body = {"survey_name": "RGZ tutorial", "band": "infrared", "paths": [str(radio)]}
    refused = api.post("/api/jobs/", {"kind": "ingest_layers", "parameters": body}, format="json")
    assert refused.status_code == 400 and "import roots" in str(refused.json())
    body["paths"] = [str(infrared)]
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post("/api/jobs/", {"kind": "ingest_layers", "parameters": body}, format="json")
    assert started.status_code in (201, 202), started.json()
    assert CutoutLayer.objects.filter(band="infrared").count() == 3
