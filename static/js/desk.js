// The astronomers' upload form: sends one file to the API and says what happened.
(function () {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const result = document.getElementById("upload-result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    if (!data.get("workflow")) data.delete("workflow");
    result.textContent = "Uploading…";
    try {
      const response = await fetch(form.dataset.url, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRFToken": window.rgz.cookie("csrftoken") },
      });
      const body = await response.json();
      result.textContent = response.ok ? `Stored cutout ${body.id} (${body.name}).` : `Not stored: ${body.detail || JSON.stringify(body)}`;
      result.className = response.ok ? "ok" : "error";
    } catch (error) {
      result.textContent = `Not stored: ${error.message}`;
      result.className = "error";
    }
  });
})();

// Queue order per survey: PUT the chosen ranking, say how many cutouts it ranked.
(function () {
  document.querySelectorAll(".ranking-form").forEach((form) => {
    const result = form.querySelector(".ranking-result");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      result.textContent = "Ranking…";
      result.className = "ranking-result";
      try {
        const body = await window.rgz.request(form.dataset.url, {
          method: "PUT",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ by: data.get("by"), task: data.get("task") }),
        });
        result.textContent = `Ranked ${body.ranked} cutouts (${body.unranked} without scores).`;
        result.classList.add("ok");
      } catch (error) {
        result.textContent = `Not changed: ${error.message}`;
        result.classList.add("error");
      }
    });
  });
})();
