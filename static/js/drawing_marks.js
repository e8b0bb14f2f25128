// Geometry and painting of marks for the drawing tasks (static/js/drawing.js): pure functions of
// image-pixel coordinates (x right, y down from the radio frame's top-left corner). An ellipse is
// Zooniverse's {x, y, rx, ry, angle}: angle in degrees from +x, clockwise on the screen.
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

  function handles(mark) {
    const t = (mark.angle * Math.PI) / 180;
    return {
      rx: [mark.x + mark.rx * Math.cos(t), mark.y + mark.rx * Math.sin(t)],
      ry: [mark.x - mark.ry * Math.sin(t), mark.y + mark.ry * Math.cos(t)],
    };
  }

  function insideEllipse(mark, x, y) {
    const t = (mark.angle * Math.PI) / 180;
    const dx = x - mark.x;
    const dy = y - mark.y;
    const u = dx * Math.cos(t) + dy * Math.sin(t);
    const v = -dx * Math.sin(t) + dy * Math.cos(t);
    return (u / mark.rx) ** 2 + (v / mark.ry) ** 2 <= 1;
  }

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

  function paintHandles(ctx, mark, colour, scale) {
    const size = 6 / scale;
    const h = handles(mark);
    ctx.setLineDash([4 / scale, 3 / scale]);
    ctx.beginPath();
    ctx.moveTo(mark.x, mark.y); ctx.lineTo(...h.rx);
    ctx.moveTo(mark.x, mark.y); ctx.lineTo(...h.ry);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = "#ffffff";
    for (const [x, y] of [h.rx, h.ry, [mark.x, mark.y]]) {
      ctx.fillRect(x - size, y - size, 2 * size, 2 * size);
      ctx.strokeStyle = colour;
      ctx.strokeRect(x - size, y - size, 2 * size, 2 * size);
    }
  }

  window.rgzMarks = { round, inside, area, degrees, handles, insideEllipse, tracePath, paintHost, paintMark, paintHandles };
})();
