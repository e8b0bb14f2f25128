"""Cutting catalogue sources out of a survey mosaic, each keeping a WCS of its own."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.nddata import Cutout2D, NoOverlapError
from astropy.wcs import WCS, FITSFixedWarning

from .io import ImageReadError, SkyImage


@dataclass(frozen=True)
class SourcePosition:
    name: str
    ra_deg: float
    dec_deg: float


@dataclass
class CutoutResult:
    source: SourcePosition
    image: SkyImage | None
    error: str = ""


class PlaneSection:
    """Read-only 2-D view of a FITS image's first plane that reads only the rows asked for.

    Slicing it (``plane[y0:y1, x0:x1]``) returns a numpy array read from the file with seeks,
    so memory stays bounded by the window, not the mosaic (a memory map would keep every page
    it touched resident).
    """

    def __init__(self, hdu):
        self._section = hdu.section
        self._lead = (0,) * (hdu.header["NAXIS"] - 2)
        self.shape = (hdu.header["NAXIS2"], hdu.header["NAXIS1"])
        self.ndim = 2

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        return np.asarray(self._section[self._lead + key])


@dataclass(frozen=True)
class MosaicLimits:
    """Pixel limits of a mosaic's first plane, checked from its header before any pixel is read.

    A plain FITS mosaic is memory-mapped and read in windows, so it may be large; a tile-compressed
    (``ZNAXISn``), gzip'd or scaled (BSCALE/BZERO) one is decoded whole when cut out, so it is
    bounded like an image held in memory.
    """

    max_pixels: int = 65536 * 65536
    max_decoded_pixels: int = 8192 * 8192


COMPRESSED_FILE_MAGIC = (b"\x1f\x8b", b"BZh", b"PK\x03\x04")


def _decoded_whole(path: str | Path, hdu) -> str:
    """Why astropy would decode this mosaic whole instead of memory-mapping it ("" when it would not)."""
    if isinstance(hdu, fits.CompImageHDU):
        return "tile-compressed"
    with open(path, "rb") as handle:
        if handle.read(4).startswith(COMPRESSED_FILE_MAGIC):
            return "compressed file"
    if hdu.header.get("BSCALE", 1) != 1 or hdu.header.get("BZERO", 0) != 0:
        return "scaled (BSCALE/BZERO)"
    return ""


def check_mosaic_size(path: str | Path, hdu, limits: MosaicLimits) -> None:
    height, width = (int(n) for n in hdu.shape[-2:])  # NAXISn (ZNAXISn when tile-compressed): no data read
    reason = _decoded_whole(path, hdu)
    limit = limits.max_decoded_pixels if reason else limits.max_pixels
    if width * height > limit:
        kind = f"a {reason} mosaic, decoded whole" if reason else "a mosaic"
        raise ImageReadError(
            f"{path}: {width}x{height} pixels according to its header, over the limit of {limit:,} pixels for "
            f"{kind}; refused before decoding"
        )


def open_mosaic(
    path: str | Path, *, sections: bool = False, limits: MosaicLimits = MosaicLimits()
) -> tuple[np.ndarray, WCS, list[str]]:
    """Open a FITS mosaic lazily: its first image plane and celestial WCS (never read whole).

    ``sections=False`` gives a memory map (what astropy's Cutout2D needs); ``sections=True`` a
    :class:`PlaneSection` whose windows are read on demand, for scans of very large mosaics.
    Its size is checked against ``limits`` from the header first.
    """
    notes: list[str] = []
    try:
        hdul = fits.open(path, memmap=not sections)
        hdu = next((h for h in hdul if h.is_image and h.header.get("NAXIS", 0) >= 2), None)
    except FileNotFoundError as exc:
        raise ImageReadError(f"no such file: {path}") from exc
    except Exception as exc:
        raise ImageReadError(f"{path}: not a readable FITS file: {exc}") from exc
    if hdu is None:
        raise ImageReadError(f"{path}: no image HDU with at least two axes")
    check_mosaic_size(path, hdu, limits)
    naxis = hdu.header["NAXIS"]
    if naxis > 2:
        notes.append(f"{naxis}-D cube: took the first plane")
    if sections:
        data = PlaneSection(hdu)
    else:
        data = hdu.data
        data = data[(0,) * (data.ndim - 2)] if data.ndim > 2 else data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        wcs = WCS(hdu.header).celestial
    if not wcs.has_celestial:
        raise ImageReadError(f"{path}: the mosaic has no celestial WCS, so sources cannot be placed")
    return data, wcs, notes


def cut_sources(
    data: np.ndarray, wcs: WCS, sources: list[SourcePosition], size_arcsec: float
) -> Iterator[CutoutResult]:
    """Yield one square cutout of ``size_arcsec`` per source; errors are reported, not raised."""
    if size_arcsec <= 0:
        raise ValueError("cutout size must be positive")
    size = u.Quantity(size_arcsec, u.arcsec)
    for source in sources:
        position = SkyCoord(source.ra_deg, source.dec_deg, unit="deg", frame="icrs")
        x, y = wcs.world_to_pixel(position)
        if not (np.isfinite(x) and np.isfinite(y)):
            yield CutoutResult(source, None, "position lies outside the mosaic (off its projection)")
            continue
        try:
            cut = Cutout2D(data, position, size, wcs=wcs, mode="partial", fill_value=np.nan, copy=True)
        except NoOverlapError:
            yield CutoutResult(source, None, "position lies outside the mosaic")
            continue
        except ValueError as exc:
            yield CutoutResult(source, None, str(exc))
            continue
        plane = np.asarray(cut.data, dtype=np.float32)
        if not np.isfinite(plane).any():
            yield CutoutResult(source, None, "cutout holds only blank (NaN) pixels")
            continue
        header = cut.wcs.to_header().tostring()
        yield CutoutResult(source, SkyImage(data=plane, format="fits", wcs_header=header))


def to_fits_bytes(image: SkyImage) -> bytes:
    """A SkyImage as a FITS file with its WCS (what the platform stores for each cutout)."""
    header = fits.Header.fromstring(image.wcs_header) if image.wcs_header else fits.Header()
    buffer = io.BytesIO()
    fits.PrimaryHDU(data=image.data, header=header).writeto(buffer)
    return buffer.getvalue()
