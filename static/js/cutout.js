// A cutout's page: the radio image with the classify page's tools (static/js/image_viewer.js).
(function () {
  const box = document.getElementById("cutout-viewer");
  if (!box || !window.rgzImage) return;
  window.rgz.request(box.dataset.url)
    .then((cutout) => window.rgzImage.show(cutout))
    .then(() => { box.dataset.ready = "1"; })
    .catch((error) => {
      const status = document.getElementById("cutout-viewer-status");
      status.prepend(`The image could not be loaded: ${error.message}. `);
    });
})();

// A cutout's page: warn before explaining with a model trained elsewhere; similar sources when offered.
(function () {
  const select = document.getElementById("explain-task");
  const warning = document.getElementById("explain-warning");
  const similar = document.getElementById("similar");
  const label = similar ? similar.dataset.label : "";

  function warn() {
    if (!select) return;
    const option = select.selectedOptions[0];
    const reasons = [];
    if (option && option.dataset.otherSurvey) {
      reasons.push(`${option.value} was trained on ${option.dataset.otherSurvey}, not on this cutout's survey`);
    }
    const classes = option && option.dataset.classes ? option.dataset.classes.split(",") : [];
    if (label && classes.length && !classes.includes(label)) {
      reasons.push(`this cutout's label ${label} is not one of its classes (${classes.join(", ")})`);
    }
    warning.hidden = reasons.length === 0;
    warning.textContent = reasons.length ? `Careful: ${reasons.join("; ")}. The explanation may mean little.` : "";
  }
  if (select) {
    const first = [...select.options].find((o) => !o.disabled);
    if (first) select.value = first.value;
    else {
      select.closest("form").querySelector("button").disabled = true;
      warning.hidden = false;
      warning.textContent = "No classifier has an active version yet: promote one on the Classifiers page.";
    }
    select.addEventListener("change", warn);
    if (first) warn();
  }

  if (!similar) return;
  const status = document.getElementById("similar-status");
  const list = document.getElementById("similar-list");
  (async function () {
    let body;
    try {
      body = await window.rgz.request(similar.dataset.url);
    } catch (error) {
      const pending = [404, 409, 501].includes(error.status);
      status.textContent = pending ? "Similar sources: not available yet." : `Similar sources could not be read: ${error.message}`;
      status.className = pending ? "muted" : "error";
      return;
    }
    const rows = Array.isArray(body) ? body : body.results || body.neighbours || body.similar || [];
    status.textContent = rows.length ? `${rows.length} most similar sources` : "No similar sources found.";
    rows.forEach((row) => {
      const cutout = row.cutout || row;
      const id = cutout.id;
      const li = document.createElement("li");
      const link = document.createElement("a");
      link.href = `/cutouts/${id}/`;
      if (cutout.image_url) {
        const img = document.createElement("img");
        img.src = cutout.image_url;
        img.alt = `Cutout ${cutout.name || id}`;
        link.append(img);
      }
      const caption = document.createElement("span");
      const distance = row.distance ?? row.similarity ?? row.score;
      caption.textContent = `${cutout.name || id}${distance !== undefined ? ` (${Number(distance).toFixed(3)})` : ""}`;
      link.append(caption);
      li.append(link);
      list.append(li);
    });
  })();
})();
