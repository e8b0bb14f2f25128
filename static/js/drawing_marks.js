// Geometry and painting of marks for the drawing tasks (static/js/drawing.js): pure functions of
// image-pixel coordinates (x right, y down from the radio frame's top-left corner). An ellipse is
// Zooniverse's {x, y, rx, ry, angle}: angle in degrees from +x, clockwise on the screen. Hit tests,
// handles, moves and resizes return new values and never touch the page, so they are easy to test.
(function () {
  "use strict";
  const round = (v) => Math.round(v * 100) / 100;

  function inside(path, x, y) {
    let hit = false;
    for (let i = 0, j = path.length - 1; i < path.length; j = i++) {
      const [xi, yi] = path[i];
      const [xj, yj] = path[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
    }
    return hit;
  }

  function area(path) {
    let sum = 0;
    for (let i = 0, j = path.length - 1; i < path.length; j = i++) sum += path[j][0] * path[i][1] - path[i][0] * path[j][1];
    return Math.abs(sum / 2);
  }

  function degrees(dx, dy) {
    const angle = (Math.atan2(dy, dx) * 180) / Math.PI;
    return round(((angle % 360) + 360) % 360);
  }

  // ---- shapes as pure functions of image pixels --------------------------------------
  // The shape a drag from (x0, y0) to (x, y) draws, in Zooniverse's fields.
  function shapeFromDrag(shape, tool, { x0, y0, x, y }) {
    const dx = x - x0;
    const dy = y - y0;
    switch (shape) {
      case "circle": return { tool, x: round(x0), y: round(y0), r: round(Math.max(0.5, Math.hypot(dx, dy))) };
      case "ellipse": {
        // Dragged from the centre along rx, as Zooniverse's ellipse tool; ry starts at half of rx.
        const rx = Math.max(0.5, Math.hypot(dx, dy));
        return { tool, x: round(x0), y: round(y0), rx: round(rx), ry: round(Math.max(0.5, rx / 2)), angle: degrees(dx, dy) };
      }
      case "rectangle": return { tool, ...box([x0, y0], [x, y]) };
      case "line": return { tool, x1: round(x0), y1: round(y0), x2: round(x), y2: round(y) };
      default: return { tool, x: round(x), y: round(y) };
    }
  }

  function box([ax, ay], [bx, by]) {
    return {
      x: round(Math.min(ax, bx)), y: round(Math.min(ay, by)),
      width: round(Math.max(0.5, Math.abs(bx - ax))), height: round(Math.max(0.5, Math.abs(by - ay))),
    };
  }

  // The drag handles of a mark, by name; a point has none (it is dragged whole).
  function handles(shape, mark) {
    if (shape === "ellipse") {
      const t = (mark.angle * Math.PI) / 180;
      return {
        rx: [mark.x + mark.rx * Math.cos(t), mark.y + mark.rx * Math.sin(t)],
        ry: [mark.x - mark.ry * Math.sin(t), mark.y + mark.ry * Math.cos(t)],
      };
    }
    if (shape === "circle") return { r: [mark.x + mark.r, mark.y] };
    if (shape === "rectangle") {
      const [right, bottom] = [mark.x + mark.width, mark.y + mark.height];
      return { nw: [mark.x, mark.y], ne: [right, mark.y], se: [right, bottom], sw: [mark.x, bottom] };
    }
    if (shape === "line") return { p1: [mark.x1, mark.y1], p2: [mark.x2, mark.y2] };
    return {};
  }

  function handleAt(shape, mark, x, y, reach) {
    let best = null;
    let nearest = reach;
    for (const [name, [hx, hy]] of Object.entries(handles(shape, mark))) {
      const d = Math.hypot(x - hx, y - hy);
      if (d <= nearest) { best = name; nearest = d; }
    }
    return best;
  }

  function insideEllipse(mark, x, y) {
    const t = (mark.angle * Math.PI) / 180;
    const dx = x - mark.x;
    const dy = y - mark.y;
    const u = dx * Math.cos(t) + dy * Math.sin(t);
    const v = -dx * Math.sin(t) + dy * Math.cos(t);
    return (u / mark.rx) ** 2 + (v / mark.ry) ** 2 <= 1;
  }

  function segmentDistance(x, y, x1, y1, x2, y2) {
    const length2 = (x2 - x1) ** 2 + (y2 - y1) ** 2;
    const t = length2 ? Math.min(1, Math.max(0, ((x - x1) * (x2 - x1) + (y - y1) * (y2 - y1)) / length2)) : 0;
    return Math.hypot(x - (x1 + t * (x2 - x1)), y - (y1 + t * (y2 - y1)));
  }

  // Whether a press at (x, y) takes the mark: inside it, or within reach of a point, a line or an
  // outline (reach is the finger or mouse tolerance in image pixels).
  function hits(shape, mark, x, y, reach) {
    switch (shape) {
      case "point": return Math.hypot(x - mark.x, y - mark.y) <= reach;
      case "circle": return Math.hypot(x - mark.x, y - mark.y) <= mark.r + reach;
      case "ellipse": return insideEllipse({ ...mark, rx: mark.rx + reach, ry: mark.ry + reach }, x, y);
      case "rectangle": return x >= mark.x - reach && x <= mark.x + mark.width + reach && y >= mark.y - reach && y <= mark.y + mark.height + reach;
      case "line": return segmentDistance(x, y, mark.x1, mark.y1, mark.x2, mark.y2) <= reach;
      default: return false;
    }
  }

  const within = (v, low, high) => Math.min(Math.max(v, low), Math.max(low, high));

  // The mark moved by (dx, dy) from where it was, kept inside a width x height image: a point's,
  // circle's or ellipse's centre, a rectangle's corners and a line's ends stay on the image.
  function moved(shape, start, dx, dy, [width, height]) {
    if (shape === "rectangle") {
      return { ...start, x: round(within(start.x + dx, 0, width - start.width)), y: round(within(start.y + dy, 0, height - start.height)) };
    }
    if (shape === "line") {
      const ddx = within(dx, -Math.min(start.x1, start.x2), width - Math.max(start.x1, start.x2));
      const ddy = within(dy, -Math.min(start.y1, start.y2), height - Math.max(start.y1, start.y2));
      return { ...start, x1: round(start.x1 + ddx), y1: round(start.y1 + ddy), x2: round(start.x2 + ddx), y2: round(start.y2 + ddy) };
    }
    return { ...start, x: round(within(start.x + dx, 0, width)), y: round(within(start.y + dy, 0, height)) };
  }

  // The mark with its handle dragged to (x, y), a point already on the image.
  function resized(shape, start, handle, x, y) {
    const mark = { ...start };
    if (shape === "circle") mark.r = round(Math.max(0.5, Math.hypot(x - mark.x, y - mark.y)));
    else if (shape === "line") Object.assign(mark, handle === "p1" ? { x1: round(x), y1: round(y) } : { x2: round(x), y2: round(y) });
    else if (shape === "rectangle") {
      const opposite = { nw: "se", ne: "sw", se: "nw", sw: "ne" }[handle];
      Object.assign(mark, box(handles(shape, start)[opposite], [x, y]));
    } else if (shape === "ellipse" && handle === "rx") {
      mark.rx = round(Math.max(0.5, Math.hypot(x - mark.x, y - mark.y)));
      mark.angle = degrees(x - mark.x, y - mark.y);
    } else if (shape === "ellipse") {
      const t = (mark.angle * Math.PI) / 180;
      mark.ry = round(Math.max(0.5, Math.abs(-(x - mark.x) * Math.sin(t) + (y - mark.y) * Math.cos(t))));
    }
    return mark;
  }

  // ---- painting ----------------------------------------------------------------------
  function tracePath(ctx, path) {
    ctx.moveTo(path[0][0] + 0.5, path[0][1] + 0.5);
    for (let k = 1; k < path.length; k++) ctx.lineTo(path[k][0] + 0.5, path[k][1] + 0.5);
    ctx.closePath();
  }

  function paintHost(ctx, host, colour, scale) {
    const arm = 8 / scale;
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2.5 / scale;
    ctx.beginPath();
    ctx.moveTo(host.x - arm, host.y); ctx.lineTo(host.x + arm, host.y);
    ctx.moveTo(host.x, host.y - arm); ctx.lineTo(host.x, host.y + arm);
    ctx.stroke();
    ctx.beginPath();
    ctx.arc(host.x, host.y, arm * 0.6, 0, 2 * Math.PI);
    ctx.stroke();
  }

  function paintMark(ctx, mark, shape, colour, scale) {
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    ctx.lineWidth = 2 / scale;
    ctx.beginPath();
    if (shape === "point") ctx.arc(mark.x, mark.y, 4 / scale, 0, 2 * Math.PI);
    else if (shape === "circle") ctx.arc(mark.x, mark.y, mark.r, 0, 2 * Math.PI);
    else if (shape === "ellipse") ctx.ellipse(mark.x, mark.y, mark.rx, mark.ry, (mark.angle * Math.PI) / 180, 0, 2 * Math.PI);
    else if (shape === "rectangle") ctx.rect(mark.x, mark.y, mark.width, mark.height);
    else if (shape === "line") { ctx.moveTo(mark.x1, mark.y1); ctx.lineTo(mark.x2, mark.y2); }
    if (shape === "point") ctx.fill(); else ctx.stroke();
  }

  // A selected mark: a white halo under it, and its handles as squares of half-side size (image
  // pixels); an ellipse also shows its axes.
  function paintHalo(ctx, mark, shape, scale) {
    ctx.save();
    ctx.globalAlpha = 0.8;
    if (shape === "point") {
      ctx.strokeStyle = "#ffffff";
      ctx.lineWidth = 2 / scale;
      ctx.beginPath();
      ctx.arc(mark.x, mark.y, 9 / scale, 0, 2 * Math.PI);
      ctx.stroke();
    } else {
      paintMark(ctx, mark, shape, "#ffffff", scale / 3);
    }
    ctx.restore();
  }

  function paintHandles(ctx, mark, shape, colour, scale, size) {
    const h = handles(shape, mark);
    if (shape === "ellipse") {
      ctx.strokeStyle = colour;
      ctx.lineWidth = 2 / scale;
      ctx.setLineDash([4 / scale, 3 / scale]);
      ctx.beginPath();
      ctx.moveTo(mark.x, mark.y); ctx.lineTo(...h.rx);
      ctx.moveTo(mark.x, mark.y); ctx.lineTo(...h.ry);
      ctx.stroke();
      ctx.setLineDash([]);
      h.centre = [mark.x, mark.y];
    }
    ctx.fillStyle = "#ffffff";
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2 / scale;
    for (const [x, y] of Object.values(h)) {
      ctx.fillRect(x - size, y - size, 2 * size, 2 * size);
      ctx.strokeRect(x - size, y - size, 2 * size, 2 * size);
    }
  }

  window.rgzMarks = {
    round, inside, area, degrees, shapeFromDrag, handles, handleAt, hits, moved, resized,
    tracePath, paintHost, paintMark, paintHalo, paintHandles,
  };
})();
