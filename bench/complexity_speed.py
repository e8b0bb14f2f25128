"""Speed of coarse-grained complexity, and of the blind scan on mosaics of growing size.

1. Throughput of the full measure in megapixels/s, side by side in one run with the
   compressor alone (zlib, same level) on the same input bytes: the limit of this design.
2. Wall time and peak memory of ``mlcore.scan.scan_mosaic`` on mosaics built by placing the
   real MiraBest and ATCA FITS cutouts of ../shared/data on a Gaussian noise field with a valid
   WCS (there is no real survey mosaic on these machines), at three or more sizes; each scan
   runs in its own process so its peak memory is its own.
The last line printed is one JSON object.

    python bench/complexity_speed.py [--quick] [--sizes 5000 10000 20000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import _data
import numpy as np

from mlcore.complexity import ComplexityConfig, complexity

PIXEL_SCALE = 1.8  # arcsec, FIRST
APERTURE_ARCSEC = 115.2  # 64 px, the calibrated aperture
STRIDE_ARCSEC = 57.6


def throughput(frames: np.ndarray, repeats: int) -> dict:
    """Mpix/s of the measure and of zlib alone on the same frames' bytes (their own dtype)."""
    config = ComplexityConfig()  # whole frame, all scales
    raw = [f.tobytes() for f in frames]
    pixels = frames.shape[0] * frames.shape[1] * frames.shape[2] * repeats
    complexity(frames[:8], config)  # warm caches
    t0 = time.perf_counter()
    for _ in range(repeats):
        complexity(frames, config)
    measure_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(repeats):
        for payload in raw:
            zlib.compress(payload, config.compression_level)
    compressor_s = time.perf_counter() - t0
    measure, compressor = pixels / measure_s / 1e6, pixels / compressor_s / 1e6
    return {
        "measure_mpix_per_s": round(measure, 2),
        "compressor_mpix_per_s": round(compressor, 2),
        "ratio_vs_compressor": round(measure / compressor, 3),
    }


def build_mosaic(path: Path, size: int, seed: int = 0) -> int:
    """Write a size x size float32 FITS mosaic chunk by chunk (never whole in memory); returns sources placed."""
    from astropy.io import fits
    from astropy.wcs import WCS

    stamps = [
        np.nan_to_num(fits.getdata(p).squeeze().astype(np.float32))
        for p in sorted((_data.SHARED / "mirabest" / "FITS_sample").glob("*.fits"))
    ]
    atlas = [
        np.nan_to_num(fits.getdata(_data.SHARED / "rgz_atlas_examples" / n).squeeze().astype(np.float32))
        for n in ("S311.fits", "S999.fits")
    ]
    stamps += [a * (1e-3 / max(float(np.nanmax(a)), 1e-9)) for a in atlas]  # ATCA mJy scale to FIRST-like
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---SIN", "DEC--SIN"]
    wcs.wcs.crval = [150.0, 2.0]
    wcs.wcs.crpix = [size / 2 + 0.5, size / 2 + 0.5]
    wcs.wcs.cdelt = [-PIXEL_SCALE / 3600, PIXEL_SCALE / 3600]
    # A header alone, then the data unit grown on disk (the documented way to make a FITS file
    # larger than memory), then written strip by strip through a memory map.
    header = fits.Header()
    header["SIMPLE"], header["BITPIX"], header["NAXIS"] = True, -32, 2
    header["NAXIS1"], header["NAXIS2"] = size, size
    header.update(wcs.to_header())
    header.tofile(path, overwrite=True)
    data_bytes = size * size * 4
    with open(path, "rb+") as handle:
        handle.seek(len(header.tostring()) + data_bytes + (-data_bytes % 2880) - 1)
        handle.write(b"\0")
    hdul = fits.open(path, mode="update", memmap=True)
    data = hdul[0].data
    rng = np.random.default_rng(seed)
    for y0 in range(0, size, 1024):
        strip = rng.normal(0, 1.5e-4, (min(1024, size - y0), size)).astype(np.float32)
        data[y0 : y0 + strip.shape[0]] = strip
    n_sources = max(4, size * size // 400_000)  # about one source per 0.4 Mpix
    for _ in range(n_sources):
        stamp = stamps[rng.integers(len(stamps))]
        y, x = rng.integers(0, size - stamp.shape[0], 2)
        data[y : y + stamp.shape[0], x : x + stamp.shape[1]] += stamp
    data[: size // 20, : size // 20] = np.nan  # a blank corner, as at survey edges
    hdul.close()
    return n_sources


# Peak memory from /proc/self/status VmHWM: ru_maxrss would carry over the parent's peak across exec.
SCAN_CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
from mlcore.scan import scan_mosaic
t0 = time.perf_counter()
rows, wcs, grid = scan_mosaic({path!r}, {aperture}, {stride})
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({{"seconds": time.perf_counter() - t0, "frames": int(len(rows)), "tiles": grid.tile_count,
    "peak_rss_mb": int(hwm.split()[1]) / 1024}}))
"""


def scan_once(path: Path, size: int) -> dict:
    code = SCAN_CHILD.format(root=str(_data.ROOT), path=str(path), aperture=APERTURE_ARCSEC, stride=STRIDE_ARCSEC)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures.update(size=size, mpix=round(size * size / 1e6, 1), file_mb=round(path.stat().st_size / 2**20))
    figures["seconds"] = round(figures["seconds"], 1)
    figures["peak_rss_mb"] = round(figures["peak_rss_mb"])
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer frames and mosaics of 1,000-2,500 px")
    parser.add_argument("--sizes", type=int, nargs="+", help="mosaic sides in pixels")
    args = parser.parse_args()
    sizes = args.sizes or ([1000, 1700, 2500] if args.quick else [5000, 10000, 20000])

    # Radio data as the scan reads them: MiraBest's FIRST images in Jy/beam, float32.
    mirabest, _ = _data.mirabest_arrays()
    mirabest = mirabest[: 300 if args.quick else 1255]
    figures = throughput(mirabest, repeats=1 if args.quick else 3)
    print(f"throughput on {len(mirabest)} MiraBest float32 frames (150 x 150): {figures}")
    # The same on 8-bit images (firstgalaxydata PNGs): far fewer bytes for the compressor alone.
    images, _, _ = _data.firstgalaxydata_arrays(limit=200 if args.quick else 1000)
    eight_bit = throughput(images.astype(np.uint8), repeats=1 if args.quick else 3)
    print(f"throughput on {len(images)} firstgalaxydata 8-bit frames (300 x 300): {eight_bit}")

    scans = []
    with tempfile.TemporaryDirectory(prefix="rgz-mosaic-", dir="/tmp") as folder:
        for size in sizes:
            path = Path(folder) / f"mosaic-{size}.fits"
            t0 = time.perf_counter()
            placed = build_mosaic(path, size)
            built = time.perf_counter() - t0
            scan = scan_once(path, size)
            scan.update(sources_placed=placed, build_seconds=round(built, 1))
            scans.append(scan)
            print(f"scan {size} x {size}: {scan}")
            path.unlink()
    result = {
        **figures,
        **{f"{k}_8bit": v for k, v in eight_bit.items()},
        "scans": scans,
        "aperture_arcsec": APERTURE_ARCSEC,
        "stride_arcsec": STRIDE_ARCSEC,
        "frames_measured": int(len(mirabest)),
        "frames_measured_8bit": int(len(images)),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
