// Image layers on the classify page: another band (infrared, optical...) under the radio image,
// as Radio Galaxy Zoo showed it. Every layer lies on the radio image's pixel grid, so one
// transform (zoom, pan) and one lookup table (stretch, contrast, invert) serve them all; the
// page's radio contours are drawn over whatever is shown. The page calls:
//   rgzLayers.load(subject)  when a subject arrives (resolves once its layers' pixels are here)
//   rgzLayers.build(lut)     when the lookup table changes
//   rgzLayers.paint(ctx, radioRaster)  in place of drawing the radio raster alone
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const panel = $("layer-tools");
  const state = { layers: [], current: 0, blend: 1, lut: null, redraw: () => {} };

  function rasterFor(layer, lut) {
    const image = new ImageData(layer.width, layer.height);
    const out = image.data;
    const px = layer.pixels;
    for (let i = 0; i < px.length; i++) {
      const g = lut[px[i]];
      const j = i * 4;
      out[j] = g; out[j + 1] = g; out[j + 2] = g; out[j + 3] = 255;
    }
    const off = document.createElement("canvas");
    off.width = layer.width; off.height = layer.height;
    off.getContext("2d").putImageData(image, 0, 0);
    return off;
  }

  function shown() {
    return state.layers[state.current] || null;
  }

  function describe() {
    const layer = shown();
    if (!layer || !panel) return;
    const share = Math.round(state.blend * 100);
    $("layer-blend").value = String(state.blend);
    $("layer-blend-value").textContent = `${layer.band} ${share}% · radio ${100 - share}%`;
    $("layer-flip").setAttribute("aria-pressed", state.blend >= 0.5 ? "true" : "false");
    $("layer-flip").textContent = state.blend >= 0.5 ? "Show radio" : `Show ${layer.band}`;
  }

  async function load(subject, redraw) {
    state.redraw = redraw || state.redraw;
    state.layers = [];
    state.current = 0;
    state.blend = 1;
    const listed = (subject && subject.layers) || [];
    if (panel) panel.hidden = listed.length === 0;
    if (!listed.length) return;
    let loaded;
    try {
      loaded = await Promise.all(listed.map(async (layer) => {
        const response = await fetch(layer.pixels_url);
        if (!response.ok) throw new Error(`layer ${layer.band}: HTTP ${response.status}`);
        const pixels = new Uint16Array(await response.arrayBuffer());
        return { band: layer.band, width: subject.width, height: subject.height, pixels, raster: null };
      }));
    } catch (error) {
      // The radio image alone still lets the volunteer classify.
      console.warn(`layers not shown: ${error.message}`);
      if (panel) panel.hidden = true;
      return;
    }
    state.layers = loaded;
    const select = $("layer-band");
    select.replaceChildren(...loaded.map((layer, i) => new Option(layer.band, String(i))));
    select.closest("label").hidden = loaded.length < 2;
    describe();
  }

  function build(lut) {
    state.lut = lut;
    for (const layer of state.layers) layer.raster = rasterFor(layer, lut);
  }

  function paint(ctx, radioRaster) {
    const layer = shown();
    ctx.drawImage(radioRaster, 0, 0);
    if (!layer || !layer.raster || state.blend <= 0) return;
    // The other band fades in over the radio image: 1 shows it alone, under the contours.
    ctx.globalAlpha = state.blend;
    ctx.drawImage(layer.raster, 0, 0);
    ctx.globalAlpha = 1;
  }

  function setBlend(value) {
    state.blend = Math.max(0, Math.min(1, value));
    describe();
    state.redraw();
  }

  function flip() {
    if (!shown()) return;
    setBlend(state.blend >= 0.5 ? 0 : 1);
  }

  function nextBand() {
    if (state.layers.length < 2) return;
    state.current = (state.current + 1) % state.layers.length;
    $("layer-band").value = String(state.current);
    describe();
    state.redraw();
  }

  if (panel) {
    $("layer-blend").addEventListener("input", (e) => setBlend(parseFloat(e.target.value)));
    $("layer-flip").addEventListener("click", flip);
    $("layer-band").addEventListener("change", (e) => {
      state.current = parseInt(e.target.value, 10);
      describe();
      state.redraw();
    });
    document.addEventListener("keydown", (e) => {
      const typing = ["TEXTAREA", "INPUT", "SELECT"].includes(document.activeElement.tagName) &&
        !["radio", "checkbox", "range"].includes(document.activeElement.type);
      if (typing || e.ctrlKey || e.metaKey || e.altKey || panel.hidden) return;
      if (e.key === "l" || e.key === "L") { e.preventDefault(); flip(); }
      else if (e.key === "b" || e.key === "B") { e.preventDefault(); nextBand(); }
    });
  }

  window.rgzLayers = {
    load, build, paint, flip,
    get blend() { return state.blend; },
    get band() { const layer = shown(); return layer ? layer.band : null; },
  };
})();
