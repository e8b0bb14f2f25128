// Drawing and radio-component tasks on the classify page. Marks are kept in image pixels of the
// radio frame (x right, y down from the top-left corner, as Zooniverse's tools), whatever the
// zoom, pan or layer shown. The image viewer (image_viewer.js) exposes window.rgzViewer and calls:
//   rgzDrawing.capturing()   true while a tool takes the pointer (the page then does not pan)
//   rgzDrawing.paint(ctx, scale)   after the image and contours, in image coordinates
//   rgzDrawing.value(taskKey)      the task's answer
//   rgzDrawing.reset()             for a new subject
// Geometry and painting of single marks are in drawing_marks.js (window.rgzMarks), loaded first.
// Editing: with a tool pressed, a press on a mark of that tool's shape selects it (a halo and its
// handles show): drag it to move it, drag a handle to resize it (a circle's radius, a rectangle's
// corners, a line's ends, an ellipse's rx and ry), arrow keys nudge it, Delete (or the button)
// removes it, Escape lets it go. A new mark is selected as soon as it is drawn. Ellipses (Zooniverse's
// x, y, rx, ry, angle: degrees clockwise on screen from the x axis to rx) are drawn from the centre
// along rx; their rx handle turns and stretches them, "[" and "]" turn them by 5 degrees.
(function () {
  "use strict";
  const fieldsets = [...document.querySelectorAll(".drawing-task")];
  if (!fieldsets.length) return;
  const canvas = document.getElementById("sky");
  const SOURCE_COLOURS = ["#ff4060", "#40ff80", "#ffe000", "#00e5ff", "#ff90ff", "#ff9000"];
  const state = { active: null, drag: null, edit: null, selected: null, marks: {}, sources: {}, current: {} };
  // How near (CSS pixels) a press must be to take a handle or a thin mark: for a finger 22, a
  // 44-pixel target. Handles are drawn smaller than that, so they hide less of the image.
  const COARSE = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
  const [HANDLE_PX, HANDLE_DRAWN_PX] = COARSE ? [22, 7] : [12, 5];
  const viewer = () => window.rgzViewer;
  const { round, inside, area, shapeFromDrag, handleAt, hits, moved, resized, tracePath, paintHost, paintMark, paintHalo, paintHandles } = window.rgzMarks;

  function reset() {
    for (const fieldset of fieldsets) {
      const key = fieldset.dataset.task;
      state.marks[key] = [];
      state.sources[key] = [];
      state.current[key] = { components: [], host: null };
      renderSources(fieldset);
      status(fieldset, "");
    }
    select(null);
    deactivate();
  }

  function status(fieldset, text) {
    const line = fieldset.querySelector(".draw-status");
    if (text) line.textContent = text;
    else line.textContent = fieldset.dataset.type === "radio_components"
      ? "Click the radio contours of one source, then mark its host galaxy."
      : "Pick a tool, then click (point) or drag (other shapes) on the image.";
  }

  function deactivate() {
    state.active = null;
    document.querySelectorAll(".draw-tool").forEach((b) => b.setAttribute("aria-pressed", "false"));
    canvas.style.cursor = "";
  }

  function activate(fieldset, button) {
    const again = button.getAttribute("aria-pressed") === "true";
    deactivate();
    if (again) return; // a second press puts the tool down: drag pans again
    button.setAttribute("aria-pressed", "true");
    state.active = {
      fieldset, key: fieldset.dataset.task, mode: button.dataset.mode,
      tool: button.dataset.tool !== undefined ? parseInt(button.dataset.tool, 10) : null,
      shape: button.dataset.shape, color: button.dataset.color || "#ff4060",
    };
    canvas.style.cursor = "crosshair";
  }

  // ---- geometry ---------------------------------------------------------------------
  function lowestPaths() {
    return ((viewer().contours() || [])[0] || { paths: [] }).paths;
  }

  function componentAt(x, y) {
    // Contour paths count pixel centres from 0; marks count from the pixel's corner.
    let best = null;
    let bestArea = Infinity;
    lowestPaths().forEach((path, index) => {
      if (path.length < 3 || !inside(path, x - 0.5, y - 0.5)) return;
      const a = area(path);
      if (a < bestArea) { best = index; bestArea = a; }
    });
    return best;
  }

  const inImage = ([x, y]) => x >= 0 && y >= 0 && x <= viewer().size()[0] && y <= viewer().size()[1];
  const clamp = ([x, y]) => [Math.min(viewer().size()[0], Math.max(0, x)), Math.min(viewer().size()[1], Math.max(0, y))];

  // ---- selecting and editing marks --------------------------------------------------
  const selectedMark = () => (state.selected ? state.marks[state.selected.key][state.selected.index] : null);

  function select(selection) {
    state.selected = selection;
    for (const fieldset of fieldsets) {
      const button = fieldset.querySelector(".delete-mark");
      if (button) button.disabled = !(selection && selection.key === fieldset.dataset.task);
    }
  }

  function imagePerScreen() {
    const [ax, ay] = viewer().toClient(0, 0);
    const [bx, by] = viewer().toClient(1, 0);
    return 1 / Math.max(1e-6, Math.hypot(bx - ax, by - ay));
  }

  const shapeOf = (key, mark) => fieldsets.find((f) => f.dataset.task === key).querySelectorAll(".draw-tool")[mark.tool].dataset.shape;

  // What a press takes: a handle of the selected mark, else the topmost mark of the pressed tool's
  // shape under it (null: the press draws a new mark).
  function editAt(active, x, y) {
    const reach = HANDLE_PX * imagePerScreen();
    const sel = state.selected;
    const begin = (kind, index, shape) => ({ kind, shape, key: active.key, index, from: [x, y], start: { ...state.marks[active.key][index] } });
    if (sel && sel.key === active.key) {
      const shape = shapeOf(sel.key, selectedMark());
      const handle = handleAt(shape, selectedMark(), x, y, reach);
      if (handle) return begin(handle, sel.index, shape);
    }
    const marks = state.marks[active.key];
    for (let index = marks.length - 1; index >= 0; index--) {
      if (shapeOf(active.key, marks[index]) === active.shape && hits(active.shape, marks[index], x, y, reach)) {
        return begin("move", index, active.shape);
      }
    }
    return null;
  }

  function applyEdit(edit, at) {
    const marks = state.marks[edit.key];
    if (edit.kind === "move") {
      marks[edit.index] = moved(edit.shape, edit.start, at[0] - edit.from[0], at[1] - edit.from[1], viewer().size());
    } else {
      marks[edit.index] = resized(edit.shape, edit.start, edit.kind, ...clamp(at));
    }
  }

  function deleteSelected() {
    const sel = state.selected;
    if (!sel) return;
    state.marks[sel.key].splice(sel.index, 1);
    select(null);
    const fieldset = fieldsets.find((f) => f.dataset.task === sel.key);
    status(fieldset, `Mark deleted; ${state.marks[sel.key].length} mark(s).`);
    viewer().redraw();
  }

  function turnSelected(by) {
    const mark = selectedMark();
    if (!mark || shapeOf(state.selected.key, mark) !== "ellipse") return;
    mark.angle = round((((mark.angle + by) % 360) + 360) % 360);
    viewer().redraw();
  }

  const NUDGES = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

  // Arrow keys move the selected mark by a pixel (ten with Shift); true when the key was used.
  function nudgeSelected(e) {
    const mark = selectedMark();
    if (!mark || !NUDGES[e.key] || e.ctrlKey || e.metaKey || e.altKey) return false;
    e.preventDefault();
    const step = e.shiftKey ? 10 : 1;
    const { key, index } = state.selected;
    state.marks[key][index] = moved(shapeOf(key, mark), mark, NUDGES[e.key][0] * step, NUDGES[e.key][1] * step, viewer().size());
    viewer().redraw();
    return true;
  }

  // ---- pointer ---------------------------------------------------------------------
  canvas.addEventListener("pointerdown", (e) => {
    const active = state.active;
    if (!active || !viewer()) return;
    const at = viewer().toImage(e.clientX, e.clientY);
    if (!inImage(at)) return;
    e.preventDefault();
    const [x, y] = at;
    const current = state.current[active.key];
    if (active.mode === "components") {
      const index = componentAt(x, y);
      if (index === null) { status(active.fieldset, "No radio contour there: click inside a contour."); return; }
      if (state.sources[active.key].some((s) => s.components.includes(index))) {
        status(active.fieldset, "That contour already belongs to a source you finished."); return;
      }
      const position = current.components.indexOf(index);
      if (position >= 0) current.components.splice(position, 1); else current.components.push(index);
      status(active.fieldset, `${current.components.length} contour group(s) selected for this source.`);
    } else if (active.mode === "host") {
      current.host = { x: round(x), y: round(y) };
      status(active.fieldset, "Host marked. Press “Done with this source”, or select the next source's contours.");
    } else if ((state.edit = editAt(active, x, y))) {
      select({ key: state.edit.key, index: state.edit.index });
      status(active.fieldset, "Mark selected: drag it to move it, drag a handle to resize it, Delete removes it.");
      canvas.setPointerCapture(e.pointerId);
    } else if (active.shape === "point") {
      addMark(active, shapeFromDrag("point", active.tool, { x0: x, y0: y, x, y }));
    } else {
      select(null);
      state.drag = { x0: x, y0: y, x, y };
      canvas.setPointerCapture(e.pointerId);
    }
    viewer().redraw();
  });

  function addMark(active, mark) {
    state.marks[active.key].push(mark);
    select({ key: active.key, index: state.marks[active.key].length - 1 });
    status(active.fieldset, `${state.marks[active.key].length} mark(s). The new one is selected: drag it or its handles to adjust it.`);
  }

  canvas.addEventListener("pointermove", (e) => {
    if (state.edit) {
      applyEdit(state.edit, viewer().toImage(e.clientX, e.clientY));
      viewer().redraw();
      return;
    }
    if (!state.drag) return;
    [state.drag.x, state.drag.y] = clamp(viewer().toImage(e.clientX, e.clientY));
    viewer().redraw();
  });

  function pointerEnd() {
    if (state.edit) {
      state.edit = null;
      viewer().redraw();
      return;
    }
    const { active, drag } = state;
    if (!drag || !active) return;
    state.drag = null;
    if (Math.hypot(drag.x - drag.x0, drag.y - drag.y0) >= 1) addMark(active, shapeFromDrag(active.shape, active.tool, drag));
    viewer().redraw();
  }
  canvas.addEventListener("pointerup", pointerEnd);
  canvas.addEventListener("pointercancel", pointerEnd);

  // Keys for the selected mark; on the image (focused) the arrows nudge it instead of panning.
  canvas.addEventListener("keydown", (e) => { if (nudgeSelected(e)) e.stopImmediatePropagation(); });
  document.addEventListener("keydown", (e) => {
    if (!state.selected || e.ctrlKey || e.metaKey || e.altKey) return;
    const element = document.activeElement;
    const field = ["TEXTAREA", "INPUT", "SELECT"].includes(element.tagName);
    if (NUDGES[e.key]) { if (!field) nudgeSelected(e); return; } // arrows also pick radio answers
    if (field && !["radio", "checkbox", "range"].includes(element.type)) return;
    if (e.key === "Delete" || e.key === "Backspace") { e.preventDefault(); deleteSelected(); }
    else if (e.key === "Escape") { select(null); viewer().redraw(); }
    else if (e.key === "[") turnSelected(-5);
    else if (e.key === "]") turnSelected(5);
  });

  // ---- buttons -----------------------------------------------------------------------
  function finishSource(fieldset) {
    const key = fieldset.dataset.task;
    const current = state.current[key];
    if (!current.components.length) { status(fieldset, "Select at least one radio contour first."); return; }
    state.sources[key].push({ components: [...current.components].sort((a, b) => a - b), host: current.host });
    state.current[key] = { components: [], host: null };
    renderSources(fieldset);
    status(fieldset, "Source saved. Select the contours of another source, or go on.");
    viewer().redraw();
  }

  function undo(fieldset) {
    const key = fieldset.dataset.task;
    if (fieldset.dataset.type === "radio_components") {
      const current = state.current[key];
      if (current.host) current.host = null;
      else if (current.components.length) current.components.pop();
      else if (state.sources[key].length) state.current[key] = state.sources[key].pop();
      renderSources(fieldset);
    } else {
      state.marks[key].pop();
      if (state.selected && state.selected.key === key && state.selected.index >= state.marks[key].length) select(null);
    }
    viewer().redraw();
  }

  function renderSources(fieldset) {
    const list = fieldset.querySelector(".source-list");
    if (!list) return;
    list.replaceChildren(...state.sources[fieldset.dataset.task].map((source, i) => {
      const item = document.createElement("li");
      item.style.color = SOURCE_COLOURS[i % SOURCE_COLOURS.length];
      const host = source.host ? `host at (${source.host.x.toFixed(1)}, ${source.host.y.toFixed(1)})` : "no host marked";
      item.textContent = `Source ${i + 1}: ${source.components.length} contour group(s), ${host}`;
      return item;
    }));
  }

  for (const fieldset of fieldsets) {
    fieldset.querySelectorAll(".draw-tool").forEach((button) => button.addEventListener("click", () => activate(fieldset, button)));
    const finish = fieldset.querySelector(".finish-source");
    if (finish) finish.addEventListener("click", () => finishSource(fieldset));
    fieldset.querySelector(".undo-mark").addEventListener("click", () => undo(fieldset));
    const remove = fieldset.querySelector(".delete-mark");
    if (remove) remove.addEventListener("click", deleteSelected);
  }

  // ---- painting ----------------------------------------------------------------------
  function paintSource(ctx, source, colour, scale) {
    const paths = lowestPaths();
    ctx.fillStyle = colour + "55";
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2 / scale;
    for (const index of source.components) {
      if (!paths[index]) continue;
      ctx.beginPath();
      tracePath(ctx, paths[index]);
      ctx.fill();
      ctx.stroke();
    }
    if (source.host) paintHost(ctx, source.host, colour, scale);
  }

  function paint(ctx, scale) {
    for (const fieldset of fieldsets) {
      const key = fieldset.dataset.task;
      if (fieldset.dataset.type === "radio_components") {
        state.sources[key].forEach((source, i) => paintSource(ctx, source, SOURCE_COLOURS[i % SOURCE_COLOURS.length], scale));
        paintSource(ctx, state.current[key], "#ffffff", scale);
      } else {
        const buttons = [...fieldset.querySelectorAll(".draw-tool")];
        const size = HANDLE_DRAWN_PX * imagePerScreen();
        state.marks[key].forEach((mark, index) => {
          const button = buttons[mark.tool];
          const colour = button.dataset.color || "#ff4060";
          const sel = state.selected;
          const selected = sel && sel.key === key && sel.index === index;
          if (selected) paintHalo(ctx, mark, button.dataset.shape, scale);
          paintMark(ctx, mark, button.dataset.shape, colour, scale);
          if (selected) paintHandles(ctx, mark, button.dataset.shape, colour, scale, size);
        });
      }
    }
    const { active, drag } = state;
    if (active && drag) paintMark(ctx, shapeFromDrag(active.shape, active.tool, drag), active.shape, active.color, scale);
  }

  function value(key) {
    const fieldset = fieldsets.find((f) => f.dataset.task === key);
    if (fieldset.dataset.type !== "radio_components") return state.marks[key].map((mark) => ({ ...mark }));
    const current = state.current[key];
    const sources = state.sources[key].map((s) => ({ components: [...s.components], host: s.host }));
    // A source selected but not yet finished is part of the answer too.
    if (current.components.length) sources.push({ components: [...current.components].sort((a, b) => a - b), host: current.host });
    return sources;
  }

  reset();
  window.rgzDrawing = { capturing: () => state.active !== null, paint, value, reset };
})();
