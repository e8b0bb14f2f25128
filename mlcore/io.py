"""Reading radio images: FITS (with WCS), PNG and JPEG, with clear errors for bad files.

Arrays are float32, 2-D, in FITS orientation: row 0 is the bottom of the sky image.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS
from PIL import Image, UnidentifiedImageError

FITS_MAGIC = b"SIMPLE  ="
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


class ImageReadError(ValueError):
    """A file that cannot be used as a cutout; the message says why, for a person to read."""


@dataclass(frozen=True)
class ImageLimits:
    """Upper bounds that protect the workers from oversized or hostile files.

    Dimensions are checked from the file's header before any pixel is decoded, so a small
    compressed file that would decode to gigabytes (a decompression bomb) is refused at once.
    """

    max_bytes: int = 256 * 1024 * 1024
    max_side: int = 8192
    max_pixels: int = 8192 * 8192


def check_dimensions(width: int, height: int, limits: ImageLimits, what: str = "image") -> None:
    """Refuse an image by the size its header declares, before decoding it."""
    if max(width, height) > limits.max_side or width * height > limits.max_pixels:
        raise ImageReadError(
            f"{what} is {width}x{height} pixels according to its header, over the pixel limit "
            f"({limits.max_side} a side, {limits.max_pixels:,} in all); refused before decoding"
        )


@dataclass
class SkyImage:
    """One 2-D image plane and what is known of where it lies on the sky."""

    data: np.ndarray  # (H, W) float32, FITS orientation, may hold NaN
    format: str  # "fits", "png" or "jpeg"
    wcs_header: str = ""  # celestial WCS as FITS header text; empty when there is none
    notes: list[str] = field(default_factory=list)

    @property
    def wcs(self) -> WCS | None:
        if not self.wcs_header:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return WCS(fits.Header.fromstring(self.wcs_header))

    @property
    def shape(self) -> tuple[int, int]:
        return self.data.shape

    def centre_radec(self) -> tuple[float, float] | None:
        """Sky position of the image centre in degrees, or None without a WCS."""
        wcs = self.wcs
        if wcs is None:
            return None
        h, w = self.data.shape
        sky = wcs.pixel_to_world((w - 1) / 2, (h - 1) / 2)
        return float(sky.icrs.ra.deg), float(sky.icrs.dec.deg)

    def pixel_scale_arcsec(self) -> float | None:
        wcs = self.wcs
        if wcs is None:
            return None
        from astropy.wcs.utils import proj_plane_pixel_scales

        return float(np.mean(proj_plane_pixel_scales(wcs)) * 3600.0)


def sniff_format(head: bytes) -> str | None:
    """The image format from a file's first bytes, whatever its name says."""
    if head.startswith(FITS_MAGIC):
        return "fits"
    if head.startswith(PNG_MAGIC):
        return "png"
    if head.startswith(JPEG_MAGIC):
        return "jpeg"
    return None


def read_image(source: str | Path | bytes, *, limits: ImageLimits = ImageLimits()) -> SkyImage:
    """Read a FITS, PNG or JPEG file (a path or its bytes) into a :class:`SkyImage`."""
    raw = _read_bytes(source, limits)
    kind = sniff_format(raw[:16])
    if kind is None:
        raise ImageReadError("not a FITS, PNG or JPEG image (unrecognised file signature)")
    if kind == "fits":
        image = _read_fits(raw, limits)
    else:
        image = _read_raster(raw, kind, limits)
    _check_usable(image, limits)
    return image


def _read_bytes(source: str | Path | bytes, limits: ImageLimits) -> bytes:
    if isinstance(source, bytes):
        raw = source
    else:
        path = Path(source)
        if not path.is_file():
            raise ImageReadError(f"no such file: {path}")
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise ImageReadError(f"file is {size} bytes, larger than the limit of {limits.max_bytes}")
        raw = path.read_bytes()
    if len(raw) == 0:
        raise ImageReadError("file is empty")
    if len(raw) > limits.max_bytes:
        raise ImageReadError(f"file is {len(raw)} bytes, larger than the limit of {limits.max_bytes}")
    return raw


def fits_image_shape(hdu) -> tuple[int, ...]:
    """An image HDU's shape from its header alone (NAXISn; ZNAXISn for a tile-compressed HDU,
    which astropy presents as the image header); reads no data."""
    return tuple(int(n) for n in hdu.shape)


def _first_image_hdu(hdul):
    """(index, HDU) of the first image HDU with at least two non-empty axes, judged by headers."""
    for index, hdu in enumerate(hdul):
        if hdu.is_image and hdu.header.get("NAXIS", 0) >= 2 and all(n > 0 for n in fits_image_shape(hdu)[-2:]):
            return index, hdu
    return None, None


def _read_fits(raw: bytes, limits: ImageLimits) -> SkyImage:
    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with fits.open(io.BytesIO(raw), memmap=False) as hdul:
                index, hdu = _first_image_hdu(hdul)
                if hdu is None:
                    raise ImageReadError("FITS file has no image HDU with at least two axes")
                if len(hdul) > 1:
                    notes.append(f"FITS file has {len(hdul)} HDUs; used HDU {index}")
                shape = fits_image_shape(hdu)
                check_dimensions(shape[-1], shape[-2], limits, "FITS image")
                if len(shape) > 2:
                    if any(n == 0 for n in shape):
                        raise ImageReadError(f"FITS image has an empty axis (shape {shape})")
                    # Only the first plane is decoded, whatever the cube's depth.
                    data = np.asarray(hdu.section[(0,) * (len(shape) - 2)])
                    notes.append(f"{len(shape)}-D cube of shape {shape}: took the first plane")
                else:
                    data = np.asarray(hdu.data)
                header = hdu.header.copy()
    except ImageReadError:
        raise
    except Exception as exc:  # astropy raises many types for truncated or corrupt files
        raise ImageReadError(f"not a readable FITS file: {exc}") from exc

    data = np.asarray(data, dtype=np.float32)
    wcs_header = _celestial_header(header, notes)
    return SkyImage(data=data, format="fits", wcs_header=wcs_header, notes=notes)


def _celestial_header(header: fits.Header, notes: list[str]) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # FITSFixedWarning, VerifyWarning on odd old headers
            wcs = WCS(header).celestial
            celestial_header = wcs.to_header().tostring()
    except Exception as exc:
        notes.append(f"WCS could not be read ({exc}); positions come from the catalogue")
        return ""
    if not wcs.has_celestial or wcs.naxis != 2:
        notes.append("no celestial WCS in the header; positions come from the catalogue")
        return ""
    return celestial_header


def _read_raster(raw: bytes, kind: str, limits: ImageLimits) -> SkyImage:
    try:
        with warnings.catch_warnings():
            # Pillow's own guard (Image.MAX_IMAGE_PIXELS) warns above its limit, which the header
            # check below decides on, and raises above twice its limit, which refuses here.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(raw))
    except Image.DecompressionBombError as exc:
        raise ImageReadError(f"{kind.upper()} image refused before decoding: {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ImageReadError(f"not a readable {kind.upper()} image: {exc}") from exc
    try:
        with img:
            check_dimensions(*img.size, limits, f"{kind.upper()} image")  # from the header; nothing decoded yet
            img.load()
            mode = img.mode
            grey = img.convert("F") if mode in {"I", "I;16", "F"} else img.convert("L")
            data = np.asarray(grey, dtype=np.float32)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageReadError(f"not a readable {kind.upper()} image: {exc}") from exc
    notes = [] if mode in {"L", "I", "I;16", "F"} else [f"{mode} image converted to grey"]
    # Raster rows run top-down; FITS orientation runs bottom-up.
    return SkyImage(data=np.flipud(data).copy(), format=kind, notes=notes)


def _check_usable(image: SkyImage, limits: ImageLimits) -> None:
    h, w = image.data.shape
    if h < 2 or w < 2:
        raise ImageReadError(f"image is only {w}x{h} pixels")
    if max(h, w) > limits.max_side:
        raise ImageReadError(f"image is {w}x{h} pixels, larger than the {limits.max_side}-pixel limit for a cutout")
    finite = np.isfinite(image.data)
    n_finite = int(finite.sum())
    if n_finite == 0:
        raise ImageReadError("image holds no finite pixels (all blank or NaN)")
    if n_finite < finite.size:
        image.notes.append(f"{finite.size - n_finite} NaN or infinite pixels shown as blank")
    values = image.data[finite]
    if float(values.max()) == float(values.min()):
        raise ImageReadError("image is blank: every pixel has the same value")
