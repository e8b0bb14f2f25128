// Sky coordinates for the classify page: raster pixel -> RA/Dec through the cutout's WCS summary
// (TAN or SIN, the same sums as mlcore.sky.pixel_to_sky), and a scale bar of a round length.
window.rgzSky = (function () {
  "use strict";
  const RAD = Math.PI / 180;

  function pixelToSky(sky, x, y) {
    const [[a, b], [c, d]] = sky.cd;
    const dx = x - sky.crpix[0];
    const dy = y - sky.crpix[1];
    const xi = (a * dx + b * dy) * RAD;
    const eta = (c * dx + d * dy) * RAD;
    const ra0 = sky.crval[0] * RAD;
    const dec0 = sky.crval[1] * RAD;
    let ra;
    let dec;
    if (sky.projection === "SIN") {
      const cosC = Math.sqrt(Math.max(0, 1 - xi * xi - eta * eta));
      dec = Math.asin(cosC * Math.sin(dec0) + eta * Math.cos(dec0));
      ra = ra0 + Math.atan2(xi, cosC * Math.cos(dec0) - eta * Math.sin(dec0));
    } else {
      const denom = Math.cos(dec0) - eta * Math.sin(dec0);
      ra = ra0 + Math.atan2(xi, denom);
      dec = Math.atan2(Math.sin(dec0) + eta * Math.cos(dec0), Math.hypot(xi, denom));
    }
    return [((ra / RAD) % 360 + 360) % 360, dec / RAD];
  }

  function pad(n, width, decimals = 0) {
    const text = n.toFixed(decimals);
    return text.padStart(width + (decimals ? decimals + 1 : 0), "0");
  }

  function formatRA(deg) {
    let seconds = (deg / 15) * 3600;
    seconds = Math.round(seconds * 10) / 10;
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds - h * 3600) / 60);
    const s = seconds - h * 3600 - m * 60;
    return `${pad(h % 24, 2)}h${pad(m, 2)}m${pad(s, 2, 1)}s`;
  }

  function formatDec(deg) {
    const sign = deg < 0 ? "−" : "+";
    let seconds = Math.round(Math.abs(deg) * 3600);
    const d = Math.floor(seconds / 3600);
    seconds -= d * 3600;
    const m = Math.floor(seconds / 60);
    return `${sign}${pad(d, 2)}°${pad(m, 2)}′${pad(seconds - m * 60, 2)}″`;
  }

  const NICE_ARCSEC = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600];

  // The round length (arcsec) whose bar is closest to `target` screen pixels long.
  function scaleBar(arcsecPerScreenPixel, target = 90) {
    let best = NICE_ARCSEC[0];
    for (const length of NICE_ARCSEC) {
      if (Math.abs(length / arcsecPerScreenPixel - target) < Math.abs(best / arcsecPerScreenPixel - target)) best = length;
    }
    const label = best >= 60 ? `${best / 60}′` : `${best}″`;
    return { arcsec: best, pixels: best / arcsecPerScreenPixel, label };
  }

  return { pixelToSky, formatRA, formatDec, scaleBar };
})();
