// Start a complexity scan from the scans page: a mosaic under the import folders, aperture and stride.
(function () {
  const form = document.getElementById("scan-form");
  if (!form) return;
  const result = document.getElementById("scan-result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.className = "";
    result.textContent = "Starting…";
    try {
      const scan = await window.rgz.request(form.dataset.url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          mosaic: form.elements.mosaic.value.trim(),
          aperture_arcsec: Number(form.elements.aperture_arcsec.value),
          stride_arcsec: Number(form.elements.stride_arcsec.value),
        }),
      });
      const link = Object.assign(document.createElement("a"), { href: `/scans/${scan.id}/`, textContent: "follow it" });
      result.replaceChildren(`Scan started over ${scan.tile_count} tiles: `, link, ".");
      result.className = "ok";
    } catch (error) {
      result.textContent = `Not started: ${error.message}`;
      result.className = "error";
    }
  });
})();
