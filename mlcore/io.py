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
    """Upper bounds that protect the workers from oversized or hostile files."""

    max_bytes: int = 256 * 1024 * 1024
    max_side: int = 8192


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
        image = _read_fits(raw)
    else:
        image = _read_raster(raw, kind)
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


def _read_fits(raw: bytes) -> SkyImage:
    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with fits.open(io.BytesIO(raw), memmap=False, lazy_load_hdus=False) as hdul:
                hdus = [(i, h) for i, h in enumerate(hdul) if h.is_image and h.data is not None and h.data.ndim >= 2]
                if not hdus:
                    raise ImageReadError("FITS file has no image HDU with at least two axes")
                index, hdu = hdus[0]
                if len(hdul) > 1:
                    notes.append(f"FITS file has {len(hdul)} HDUs; used HDU {index}")
                data = np.asarray(hdu.data)
                header = hdu.header.copy()
    except ImageReadError:
        raise
    except Exception as exc:  # astropy raises many types for truncated or corrupt files
        raise ImageReadError(f"not a readable FITS file: {exc}") from exc

    if data.ndim > 2:
        extra = data.shape[:-2]
        if any(n == 0 for n in data.shape):
            raise ImageReadError(f"FITS image has an empty axis (shape {data.shape})")
        data = data[(0,) * len(extra)]
        notes.append(f"{len(extra) + 2}-D cube of shape {tuple(hdu.data.shape)}: took the first plane")
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


def _read_raster(raw: bytes, kind: str) -> SkyImage:
    try:
        with Image.open(io.BytesIO(raw)) as img:
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
