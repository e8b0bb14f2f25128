// The volunteer's classify page: radio image tools on a canvas, the workflow's tasks, and
// a submit that is stored exactly once (an idempotency key per subject shown).
(function () {
  "use strict";
  const root = document.getElementById("classify");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const canvas = $("sky");
  const ctx = canvas.getContext("2d");
  const form = $("classification-form");
  const submit = $("submit");
  const caption = $("subject-caption");
  const formError = $("form-error");
  const STRETCHES = ["linear", "sqrt", "log", "asinh"];
  const LEVEL_COLOURS = ["#00e5ff", "#40ff80", "#ffe000", "#ff9000", "#ff3060", "#ff60ff"];

  const state = {
    subject: null, key: null, view: { scale: 1, ox: 0, oy: 0 }, startedAt: null, pixels: null, width: 0, height: 0,
    contours: [], zoom: 1, panX: 0, panY: 0, raster: null, busy: false, retryTimer: null,
    opening: { zoom: 1, panX: 0, panY: 0 }, lastInput: "pointer",
  };
  const sky = window.rgzSky;

  // ---- rendering -----------------------------------------------------------------
  function stretchFn(name) {
    switch (name) {
      case "sqrt": return Math.sqrt;
      case "log": return (x) => Math.log(1000 * x + 1) / Math.log(1001);
      case "asinh": return (x) => Math.asinh(x / 0.1) / Math.asinh(1 / 0.1);
      default: return (x) => x;
    }
  }

  function lookupTable() {
    // 65,536 data levels -> grey, applying stretch, contrast, brightness and invert once.
    const fn = stretchFn($("stretch").value);
    const contrast = parseFloat($("contrast").value);
    const brightness = parseFloat($("brightness").value);
    const invert = $("invert").checked;
    const lut = new Uint8ClampedArray(65536);
    for (let v = 0; v < 65536; v++) {
      let y = (fn(v / 65535) - 0.5) * contrast + 0.5 + brightness;
      if (invert) y = 1 - y;
      lut[v] = Math.round(y * 255);
    }
    return lut;
  }

  function buildRaster() {
    if (!state.pixels) return;
    const lut = lookupTable();
    const image = new ImageData(state.width, state.height);
    const out = image.data;
    const px = state.pixels;
    for (let i = 0; i < px.length; i++) {
      const g = lut[px[i]];
      const j = i * 4;
      out[j] = g; out[j + 1] = g; out[j + 2] = g; out[j + 3] = 255;
    }
    const off = document.createElement("canvas");
    off.width = state.width; off.height = state.height;
    off.getContext("2d").putImageData(image, 0, 0);
    state.raster = off;
    if (window.rgzLayers) window.rgzLayers.build(lut);
    draw();
  }

  function draw() {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (!state.raster) { $("scale-bar").hidden = true; return; }
    const { scale, ox, oy } = transform();
    state.view = { scale, ox, oy };
    ctx.setTransform(scale, 0, 0, scale, ox, oy);
    ctx.imageSmoothingEnabled = state.zoom < 2;
    if (window.rgzLayers) window.rgzLayers.paint(ctx, state.raster);
    else ctx.drawImage(state.raster, 0, 0);
    if ($("contours").checked) drawContours(scale);
    if (window.rgzDrawing) window.rgzDrawing.paint(ctx, scale);
    updateScaleBar(scale);
  }

  // Screen (CSS) pixels per raster pixel at the present zoom.
  function screenPixelsPerRasterPixel(scale) {
    return (scale * canvas.getBoundingClientRect().width) / canvas.width;
  }

  function updateScaleBar(scale) {
    const bar = $("scale-bar");
    const info = state.subject && state.subject.sky;
    if (!info || !info.pixel_scale_arcsec || !state.raster) { bar.hidden = true; return; }
    const perScreenPixel = info.pixel_scale_arcsec / screenPixelsPerRasterPixel(scale);
    const choice = sky.scaleBar(perScreenPixel);
    $("scale-line").style.width = `${Math.round(choice.pixels)}px`;
    $("scale-label").textContent = choice.label + (info.approximate ? " (approx.)" : "");
    bar.dataset.arcsec = String(choice.arcsec);
    bar.hidden = false;
  }

  // The canvas's backing store follows its size on screen, so a large screen gets a sharp image.
  function fitCanvasToScreen() {
    const rect = canvas.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    const size = Math.max(64, Math.round(Math.min(rect.width, rect.height || rect.width) * ratio));
    if (rect.width && size !== canvas.width) {
      canvas.width = size;
      canvas.height = size;
      draw();
    }
  }

  // Where the image lies on the canvas, for the drawing tools (static/js/drawing.js): image
  // pixels count from the top-left corner of the radio frame, client pixels are the page's.
  window.rgzViewer = {
    toImage(clientX, clientY) {
      const rect = canvas.getBoundingClientRect();
      const { scale, ox, oy } = state.view;
      const cx = ((clientX - rect.left) * canvas.width) / rect.width;
      const cy = ((clientY - rect.top) * canvas.height) / rect.height;
      return [(cx - ox) / scale, (cy - oy) / scale];
    },
    toClient(x, y) {
      const rect = canvas.getBoundingClientRect();
      const { scale, ox, oy } = state.view;
      return [rect.left + ((x * scale + ox) * rect.width) / canvas.width, rect.top + ((y * scale + oy) * rect.height) / canvas.height];
    },
    contours: () => state.contours,
    size: () => [state.width, state.height],
    redraw: () => draw(),
  };

  function drawContours(scale) {
    ctx.lineWidth = 1.2 / scale;
    state.contours.forEach((level, index) => {
      ctx.strokeStyle = LEVEL_COLOURS[index % LEVEL_COLOURS.length];
      ctx.beginPath();
      for (const path of level.paths) {
        ctx.moveTo(path[0][0] + 0.5, path[0][1] + 0.5);
        for (let k = 1; k < path.length; k++) ctx.lineTo(path[k][0] + 0.5, path[k][1] + 0.5);
      }
      ctx.stroke();
    });
  }

  function transform() {
    const fit = Math.min(canvas.width / state.width, canvas.height / state.height);
    const scale = fit * state.zoom;
    return {
      scale,
      ox: canvas.width / 2 - (state.width / 2 + state.panX) * scale,
      oy: canvas.height / 2 - (state.height / 2 + state.panY) * scale,
    };
  }

  // Client (CSS) coordinates -> canvas backing-store pixels.
  function canvasPoint(clientX, clientY) {
    const rect = canvas.getBoundingClientRect();
    return [((clientX - rect.left) * canvas.width) / rect.width, ((clientY - rect.top) * canvas.height) / rect.height];
  }

  function rasterPoint(clientX, clientY) {
    const [cx, cy] = canvasPoint(clientX, clientY);
    const t = transform();
    return [(cx - t.ox) / t.scale, (cy - t.oy) / t.scale];
  }

  // Zoom keeping the raster point under (cx, cy) in place; the canvas centre when none is given.
  function zoomBy(factor, cx = canvas.width / 2, cy = canvas.height / 2) {
    const before = transform();
    const ix = (cx - before.ox) / before.scale;
    const iy = (cy - before.oy) / before.scale;
    state.zoom = Math.min(16, Math.max(1, state.zoom * factor));
    const scale = transform().scale;
    state.panX = (canvas.width / 2 - cx) / scale + ix - state.width / 2;
    state.panY = (canvas.height / 2 - cy) / scale + iy - state.height / 2;
    clampPan();
    draw();
  }

  function panBy(dx, dy) {
    state.panX += dx / state.zoom;
    state.panY += dy / state.zoom;
    clampPan();
    draw();
  }

  function clampPan() {
    const limitX = (state.width / 2) * (1 - 1 / state.zoom);
    const limitY = (state.height / 2) * (1 - 1 / state.zoom);
    state.panX = Math.max(-limitX, Math.min(limitX, state.panX));
    state.panY = Math.max(-limitY, Math.min(limitY, state.panY));
  }

  function frameSource() {
    // Start zoomed on the catalogued source: cutouts are centred on it, so frame the
    // lowest-level contours that reach the central third. Reset (0) comes back to this view.
    const [w, h] = [state.width, state.height];
    const central = (p) => p[0] > w / 3 && p[0] < (2 * w) / 3 && p[1] > h / 3 && p[1] < (2 * h) / 3;
    const paths = (state.contours[0] || { paths: [] }).paths.filter((path) => path.some(central));
    const points = paths.flat();
    state.opening = { zoom: 1, panX: 0, panY: 0 };
    if (!points.length) return;
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const span = Math.max(x1 - x0, y1 - y0, Math.min(w, h) / 16) * 2.5;
    state.zoom = Math.min(4, Math.max(1, Math.min(w, h) / span));
    state.panX = (x0 + x1) / 2 - w / 2;
    state.panY = (y0 + y1) / 2 - h / 2;
    clampPan();
    state.opening = { zoom: state.zoom, panX: state.panX, panY: state.panY };
  }

  function resetView() {
    $("stretch").value = "asinh";
    $("brightness").value = "0";
    $("contrast").value = "1";
    $("invert").checked = false;
    $("contours").checked = true;
    // Back to the view the subject opened with (framed on the source), not the whole cutout.
    Object.assign(state, state.opening);
    buildRaster();
  }

  // ---- loading subjects ----------------------------------------------------------------
  // A local queue as Zooniverse's front end keeps: GET queue/next?n=BATCH leases a batch (the
  // subjects this volunteer already holds first), the next QUEUE_PRELOAD subjects' pixels and
  // contours are fetched ahead, and Done shows the next one at once while its answer is sent.
  const BATCH = 5;
  const REFILL_BELOW = 2;
  const QUEUE_PRELOAD = 2;
  const LEASE_MARGIN_MS = 2000;  // drop a queued subject whose lease has (all but) run out
  const local = { items: [], done: new Set(), refilling: null, empty: null };

  function queuedIds() {
    return new Set(local.items.map((item) => item.subject.id));
  }

  function refill() {
    if (local.refilling) return local.refilling;
    local.refilling = (async () => {
      try {
        const body = await window.rgz.request(`${root.dataset.queueUrl}&n=${BATCH}`);
        const known = queuedIds();
        if (state.subject) known.add(state.subject.id);
        for (const item of body.subjects || []) {
          const id = item.subject.id;
          if (local.done.has(id) || known.has(id)) continue;
          local.items.push({ subject: item.subject, expires: Date.parse(item.lease_expires_at) || Infinity });
          known.add(id);
        }
        local.empty = local.items.length ? null : body;
      } finally {
        local.refilling = null;
      }
      preload();
    })();
    return local.refilling;
  }

  function preload() {
    local.items.slice(0, QUEUE_PRELOAD).forEach((item) => { if (!item.data) item.data = fetchImage(item.subject); });
  }

  function takeQueued() {
    const now = Date.now();
    local.items = local.items.filter((item) => item.expires - LEASE_MARGIN_MS > now);
    return local.items.shift() || null;
  }

  async function loadNext() {
    state.busy = true;
    submit.disabled = true;
    form.reset();
    if (window.rgzDrawing) window.rgzDrawing.reset();
    clearTimeout(state.retryTimer);
    try {
      let item = takeQueued();
      if (!item) {
        caption.textContent = "Loading the next radio source…";
        await refill();
        item = takeQueued();
      }
      if (!item) {
        const next = local.empty || {};
        state.subject = null;
        state.raster = null;
        delete root.dataset.subjectId;
        draw();
        caption.textContent = next.detail || "Nothing left to classify. Thank you!";
        // Subjects are left but leased to others: ask again when the server says.
        if (next.retry_after) retryLater(next.retry_after);
        return;
      }
      state.subject = item.subject;
      state.key = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
      state.startedAt = new Date().toISOString();
      await showImage(item.subject, await (item.data || fetchImage(item.subject)));
      const where = item.subject.ra_deg != null ? ` at RA ${item.subject.ra_deg.toFixed(4)}°, Dec ${item.subject.dec_deg.toFixed(4)}°` : "";
      caption.textContent = item.subject.synthetic
        ? `${item.subject.name}: a generated example, not an observed source`
        : `${item.subject.name}${where}`;
      canvas.setAttribute("aria-label", `Radio cutout of ${item.subject.name}. Drag or use the arrow keys to pan, + and - to zoom.`);
      showLegend();
      showSkyAt(null);
      root.dataset.subjectId = String(item.subject.id);  // drawn: the browser tests wait on it
      submit.disabled = false;
      preload();
      if (local.items.length < REFILL_BELOW) refill().catch(() => {});  // the next batch, in the background
    } catch (error) {
      caption.textContent = `Could not load a source: ${error.message}`;
      if (error.status === 429 && error.retryAfter) retryLater(error.retryAfter);
    } finally {
      state.busy = false;
    }
  }

  function retryLater(seconds) {
    state.retryTimer = setTimeout(loadNext, Math.min(seconds, 60) * 1000);
  }

  // The subject's pixels and contours; null pixels when they cannot be had (the PNG is shown).
  async function fetchImage(subject) {
    try {
      const [pixels, contours] = await Promise.all([
        fetch(subject.pixels_url).then((r) => { if (!r.ok) throw new Error(r.status); return r.arrayBuffer(); }),
        window.rgz.request(subject.contours_url),
      ]);
      return { pixels: new Uint16Array(pixels), contours: contours.levels || [] };
    } catch (error) {
      return { pixels: null, contours: [] };
    }
  }

  async function showImage(subject, data) {
    state.zoom = 1; state.panX = 0; state.panY = 0;
    state.contours = data.contours;
    if (data.pixels) {
      state.pixels = data.pixels;
      state.width = subject.width;
      state.height = subject.height;
      if (window.rgzLayers) await window.rgzLayers.load(subject, draw);
      canvas.hidden = false;
      $("fallback").hidden = true;
      frameSource();
      buildRaster();
      return;
    }
    // Without the raw pixels the rendered PNG still lets the volunteer classify.
    state.raster = null;
    const img = $("fallback");
    img.src = subject.image_url;
    img.alt = `Radio cutout of ${subject.name}`;
    img.hidden = false;
    canvas.hidden = true;
  }

  function showLegend() {
    const list = $("contour-levels");
    list.replaceChildren();
    state.contours.forEach((level, index) => {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = `swatch level-${index % LEVEL_COLOURS.length}`;
      item.append(swatch, document.createTextNode(Number(level.level).toPrecision(2)));
      list.appendChild(item);
    });
    $("contour-legend").hidden = state.contours.length === 0;
  }

  // The sky position under the pointer; the cutout's centre when the pointer is elsewhere.
  function showSkyAt(event) {
    const readout = $("sky-readout");
    const info = state.subject && state.subject.sky;
    if (!info) { readout.textContent = "No sky position is known for this image."; return; }
    let [x, y] = [state.width / 2, state.height / 2];
    let where = "Centre";
    if (event) {
      [x, y] = rasterPoint(event.clientX, event.clientY);
      where = "Pointer";
      if (x < 0 || y < 0 || x > state.width || y > state.height) return;
    }
    const [ra, dec] = sky.pixelToSky(info, x - 0.5, y - 0.5);
    readout.textContent = `${where}: RA ${sky.formatRA(ra)} Dec ${sky.formatDec(dec)} (${ra.toFixed(4)}°, ${dec.toFixed(4)}°)`;
    readout.dataset.ra = ra.toFixed(6);
    readout.dataset.dec = dec.toFixed(6);
  }

  // After Done the next subject is shown from the top; keyboard users land on its first answer.
  function showNextSubject() {
    const top = root.getBoundingClientRect().top + window.scrollY - 8;
    if (window.scrollY > top) window.scrollTo({ top: Math.max(0, top), behavior: "instant" });
    if (state.lastInput === "keyboard") {
      const first = form.querySelector(".task input");
      if (first) first.focus({ preventScroll: true });
    }
  }

  // ---- the classification ----------------------------------------------------------------
  function collectAnnotations() {
    const annotations = [];
    for (const task of form.querySelectorAll(".task")) {
      const key = task.dataset.task;
      const type = task.dataset.type;
      if (type === "single") {
        const picked = task.querySelector("input:checked");
        if (picked) annotations.push({ task: key, value: parseInt(picked.value, 10) });
        else if (task.dataset.required) throw new Error(`Please answer: ${task.querySelector("legend").textContent.trim()}`);
      } else if (type === "multiple") {
        const values = [...task.querySelectorAll("input:checked")].map((i) => parseInt(i.value, 10));
        if (values.length || !task.dataset.required) annotations.push({ task: key, value: values });
        else throw new Error(`Please answer: ${task.querySelector("legend").textContent.trim()}`);
      } else if (type === "text") {
        const text = task.querySelector("textarea").value.trim();
        if (text) annotations.push({ task: key, value: text });
      } else if (type === "tags") {
        const tags = [...task.querySelectorAll("input:checked")].map((i) => i.value);
        if (tags.length) annotations.push({ task: key, value: tags });
      } else if ((type === "drawing" || type === "radio_components") && window.rgzDrawing) {
        const value = window.rgzDrawing.value(key);
        if (value.length) annotations.push({ task: key, value });
        else if (task.dataset.required) throw new Error(`Please answer: ${task.querySelector("legend").textContent.trim()}`);
      }
    }
    return annotations;
  }

  async function send(body, attempt, key) {
    try {
      return await window.rgz.request(root.dataset.submitUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Idempotency-Key": key },
        body: JSON.stringify(body),
      });
    } catch (error) {
      // Network failures and 5xx are retried with the same key: the server stores it once.
      if ((error.status === undefined || error.status >= 500) && attempt < 3) {
        await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
        return send(body, attempt + 1, key);
      }
      throw error;
    }
  }

  // After a gold-standard subject: what the experts answered, beside the volunteer's answer.
  function showGoldFeedback(feedback) {
    const box = $("gold-feedback");
    if (!box) return;
    box.hidden = !feedback;
    if (!feedback) return;
    const title = document.createElement("strong");
    title.textContent = feedback.agree ? "You agreed with the experts on that one." : "The experts saw that one differently.";
    const list = document.createElement("ul");
    feedback.questions.forEach((q) => {
      const item = document.createElement("li");
      item.textContent = `${q.question} Experts: ${q.expert}. You: ${q.yours.join(", ") || "no answer"}.`;
      item.className = q.agree ? "ok" : "";
      list.append(item);
    });
    box.className = `gold-feedback ${feedback.agree ? "agree" : "differ"}`;
    box.replaceChildren(title, list);
  }

  // Done: the answer is sent while the next subject (already here) is shown. A failure is
  // reported with the subject it was for; network failures and 5xx are retried with the same key.
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!state.subject || state.busy) return;
    formError.hidden = true;
    let annotations;
    try {
      annotations = collectAnnotations();
    } catch (error) {
      formError.textContent = error.message;
      formError.hidden = false;
      return;
    }
    const answered = state.subject;
    const body = {
      workflow: parseInt(root.dataset.workflow, 10),
      workflow_version: root.dataset.version,
      subject: answered.id,
      annotations,
      started_at: state.startedAt,
      finished_at: new Date().toISOString(),
      metadata: { viewport: { width: window.innerWidth, height: window.innerHeight },
                  stretch: $("stretch").value, zoom: state.zoom },
    };
    local.done.add(answered.id);
    showGoldFeedback(null);
    const sending = send(body, 0, state.key);
    await loadNext();
    showNextSubject();
    try {
      const stored = await sending;
      const count = $("count");
      count.textContent = String(parseInt(count.textContent, 10) + 1);
      showGoldFeedback(stored && stored.gold_feedback);
    } catch (error) {
      // Retired or already classified (409): nothing to redo. Otherwise the answer is lost: say so.
      formError.textContent = error.status === 409
        ? `${answered.name} was not saved: ${error.message}`
        : `Your answer for ${answered.name} was not saved: ${error.message}`;
      formError.hidden = false;
    }
  });

  // ---- controls, pointer, touch and keyboard -------------------------------------------------
  ["stretch", "brightness", "contrast", "invert"].forEach((id) => $(id).addEventListener("input", buildRaster));
  $("contours").addEventListener("change", draw);
  $("zoom-in").addEventListener("click", () => zoomBy(1.5));
  $("zoom-out").addEventListener("click", () => zoomBy(1 / 1.5));
  $("reset").addEventListener("click", resetView);

  // Pointer events for mouse, pen and touch alike: one pointer pans, two pinch-zoom about their
  // midpoint, a double tap zooms in about the tap (or back to the opening view when zoomed in).
  const pointers = new Map();
  let pinch = null;
  let lastTap = { time: 0, x: 0, y: 0 };

  function pinchState() {
    const [a, b] = [...pointers.values()];
    return { distance: Math.hypot(a.x - b.x, a.y - b.y), x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
  }

  canvas.addEventListener("pointerdown", (e) => {
    if (window.rgzDrawing && window.rgzDrawing.capturing()) return; // a drawing tool takes the pointer
    state.lastInput = "pointer";
    canvas.setPointerCapture(e.pointerId);
    pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    pinch = pointers.size === 2 ? pinchState() : null;
  });
  function pointerEnd(e) {
    if (!pointers.has(e.pointerId)) return;
    pointers.delete(e.pointerId);
    pinch = pointers.size === 2 ? pinchState() : null;
  }
  canvas.addEventListener("pointerup", (e) => {
    const wasSingle = pointers.size === 1;
    pointerEnd(e);
    if (!wasSingle || e.pointerType === "mouse" || !state.raster) return;
    const now = performance.now();
    const near = Math.hypot(e.clientX - lastTap.x, e.clientY - lastTap.y) < 30;
    if (now - lastTap.time < 350 && near) {
      if (state.zoom >= 8) resetView();
      else zoomBy(2, ...canvasPoint(e.clientX, e.clientY));
      lastTap = { time: 0, x: 0, y: 0 };
    } else {
      lastTap = { time: now, x: e.clientX, y: e.clientY };
    }
  });
  canvas.addEventListener("pointercancel", pointerEnd);
  canvas.addEventListener("pointerleave", (e) => { if (e.pointerType === "mouse") showSkyAt(null); });
  canvas.addEventListener("dblclick", (e) => { if (state.raster) zoomBy(2, ...canvasPoint(e.clientX, e.clientY)); });
  canvas.addEventListener("pointermove", (e) => {
    if (state.raster && state.subject) showSkyAt(e);
    const previous = pointers.get(e.pointerId);
    if (!previous || !state.raster) return;
    pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (pointers.size === 2 && pinch) {
      const now = pinchState();
      if (pinch.distance > 0) zoomBy(now.distance / pinch.distance, ...canvasPoint(now.x, now.y));
      const perPixel = state.width / canvas.getBoundingClientRect().width;
      panBy(-(now.x - pinch.x) * perPixel, -(now.y - pinch.y) * perPixel);
      pinch = now;
    } else if (pointers.size === 1) {
      const perPixel = state.width / canvas.getBoundingClientRect().width;
      panBy(-(e.clientX - previous.x) * perPixel, -(e.clientY - previous.y) * perPixel);
    }
  });
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    zoomBy(e.deltaY < 0 ? 1.2 : 1 / 1.2, ...canvasPoint(e.clientX, e.clientY));
  }, { passive: false });
  canvas.addEventListener("keydown", (e) => {
    const step = state.width / 20;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[e.key]) { e.preventDefault(); panBy(...moves[e.key]); }
  });

  // A picked answer clears the "Please answer" message.
  form.addEventListener("change", (e) => {
    if (e.target.closest('.task[data-required="true"]') && formError.textContent.startsWith("Please answer")) {
      formError.hidden = true;
      formError.textContent = "";
    }
  });

  document.addEventListener("keydown", (e) => {
    state.lastInput = "keyboard";
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); return; }
    const typing = ["TEXTAREA", "INPUT", "SELECT"].includes(document.activeElement.tagName) &&
      !["radio", "checkbox", "range"].includes(document.activeElement.type);
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const firstQuestion = form.querySelector('.task[data-type="single"], .task[data-type="multiple"]');
    if (/^[1-9]$/.test(e.key) && firstQuestion) {
      const input = firstQuestion.querySelectorAll("input")[parseInt(e.key, 10) - 1];
      if (input) {
        input.checked = input.type === "radio" ? true : !input.checked;
        input.focus();
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    } else if (e.key === "s" || e.key === "S") {
      const select = $("stretch");
      select.value = STRETCHES[(STRETCHES.indexOf(select.value) + 1) % STRETCHES.length];
      buildRaster();
    } else if (e.key === "i" || e.key === "I") { $("invert").checked = !$("invert").checked; buildRaster(); }
    else if (e.key === "c" || e.key === "C") { $("contours").checked = !$("contours").checked; draw(); }
    else if (e.key === "+" || e.key === "=") zoomBy(1.5);
    else if (e.key === "-") zoomBy(1 / 1.5);
    else if (e.key === "0") resetView();
  });
  document.addEventListener("pointerdown", () => { state.lastInput = "pointer"; }, true);

  if (window.ResizeObserver) new ResizeObserver(fitCanvasToScreen).observe(canvas);
  fitCanvasToScreen();
  loadNext();
})();
