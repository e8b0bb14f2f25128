// The scans page: start a complexity scan (an uploaded mosaic, or one under the import folders,
// with the aperture and stride), and the list of scans kept up to date without a reload.
(function () {
  const form = document.getElementById("scan-form");
  const table = document.getElementById("scan-list");
  const stamp = document.getElementById("scans-updated");
  if (!form || !table) return;
  const result = document.getElementById("scan-result");
  const body = table.querySelector("tbody");

  function when(text) {
    return new Date(text).toISOString().slice(0, 16).replace("T", " ");
  }
  function row(scan) {
    const tr = document.createElement("tr");
    tr.dataset.scan = scan.id;
    const link = Object.assign(document.createElement("a"), { href: `/scans/${scan.id}/`, textContent: scan.mosaic_name ? `${scan.mosaic_name} (uploaded)` : scan.mosaic_path });
    const cells = [
      link,
      `${scan.aperture_arcsec}″ / ${scan.stride_arcsec}″`,
      scan.status === "running" ? `running: ${scan.tiles_done}/${scan.tile_count} tiles` : scan.status,
      String(scan.frames),
      when(scan.created_at),
    ];
    cells.forEach((content, index) => {
      const td = document.createElement("td");
      if (index === 2) td.className = `status status-${scan.status}`;
      td.append(content);
      tr.append(td);
    });
    return tr;
  }
  async function refresh() {
    try {
      const page = await window.rgz.request(table.dataset.url);
      const scans = Array.isArray(page) ? page : page.results;
      if (scans.length) body.replaceChildren(...scans.map(row));
      stamp.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      stamp.textContent = `Not updated: ${error.message}`;
    }
  }
  (function poll() {
    if (!document.hidden) refresh();
    setTimeout(poll, 3000);
  })();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.className = "";
    const file = form.elements.mosaic_file.files[0];
    const path = form.elements.mosaic.value.trim();
    if (!file && !path) {
      result.textContent = "Choose a mosaic to upload, or name one on the server.";
      result.className = "error";
      return;
    }
    let request;
    if (file) {
      const data = new FormData();
      data.append("mosaic_file", file);
      data.append("aperture_arcsec", form.elements.aperture_arcsec.value);
      data.append("stride_arcsec", form.elements.stride_arcsec.value);
      request = { method: "POST", body: data };
    } else {
      request = {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          mosaic: path,
          aperture_arcsec: Number(form.elements.aperture_arcsec.value),
          stride_arcsec: Number(form.elements.stride_arcsec.value),
        }),
      };
    }
    result.textContent = file ? `Uploading ${file.name}…` : "Starting…";
    form.querySelector("button[type=submit]").disabled = true;
    try {
      const scan = await window.rgz.request(form.dataset.url, request);
      const link = Object.assign(document.createElement("a"), { href: `/scans/${scan.id}/`, textContent: "follow it" });
      result.replaceChildren(`Scan started over ${scan.tile_count} tiles: `, link, ".");
      result.className = "ok";
      form.elements.mosaic_file.value = "";
      refresh();
    } catch (error) {
      result.textContent = `Not started: ${error.message}`;
      result.className = "error";
    } finally {
      form.querySelector("button[type=submit]").disabled = false;
    }
  });
})();
