// Shared helpers: CSRF token from the cookie, JSON requests with clear errors.
window.rgz = (function () {
  function cookie(name) {
    const match = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
    return match ? decodeURIComponent(match.split("=")[1]) : "";
  }
  async function request(url, options = {}) {
    const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    if (options.method && options.method !== "GET") headers["X-CSRFToken"] = cookie("csrftoken");
    const response = await fetch(url, Object.assign({ credentials: "same-origin" }, options, { headers }));
    let body = null;
    const type = response.headers.get("Content-Type") || "";
    if (type.includes("json")) body = await response.json();
    if (!response.ok) {
      const detail = body && (body.detail || JSON.stringify(body));
      const error = new Error(detail || `HTTP ${response.status}`);
      error.status = response.status;
      error.retryAfter = Number(response.headers.get("Retry-After")) || 0;
      throw error;
    }
    return body;
  }
  return { cookie, request };
})();

// Tables marked .stack-table show one card a row on a phone (site.css): every cell is labelled with
// its column's name (data-label), and the parts get explicit table roles, which a table laid out as
// blocks loses in some screen readers. Rows a page adds later are labelled too.
(function () {
  function label(table) {
    const head = table.tHead && table.tHead.rows[0];
    const names = head ? [...head.cells].map((cell) => cell.textContent.trim()) : [];
    table.setAttribute("role", "table");
    [table.tHead, ...table.tBodies, table.tFoot].forEach((group) => group && group.setAttribute("role", "rowgroup"));
    [...table.rows].forEach((row) => {
      row.setAttribute("role", "row");
      let column = 0;
      [...row.cells].forEach((cell) => {
        if (cell.tagName === "TD") cell.setAttribute("role", "cell");
        else cell.setAttribute("role", row === head ? "columnheader" : "rowheader");
        if (cell.tagName === "TD" && cell.colSpan === 1 && names[column]) cell.dataset.label = names[column];
        column += cell.colSpan;
      });
    });
  }
  document.querySelectorAll("table.stack-table").forEach((table) => {
    label(table);
    new MutationObserver(() => label(table)).observe(table, { childList: true, subtree: true });
  });
})();
