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
