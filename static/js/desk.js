// The astronomers' upload form: a survey from the list (or an explicitly new one), one file to
// the API, and a link to each stored cutout's page.
(function () {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const result = document.getElementById("upload-result");
  const uploaded = document.getElementById("uploaded");
  const pick = document.getElementById("up-survey-pick");
  const fresh = document.getElementById("up-survey");
  const freshRow = document.getElementById("up-survey-new");
  function showNew() {
    const isNew = pick.value === "__new__";
    freshRow.hidden = !isNew;
    fresh.required = isNew;
  }
  pick.addEventListener("change", showNew);
  showNew();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const isNew = pick.value === "__new__";
    data.set("survey", isNew ? fresh.value.trim() : pick.value);
    data.delete("survey_pick");
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
      if (!response.ok) return;
      const link = Object.assign(document.createElement("a"), { href: `/cutouts/${body.id}/`, textContent: `${body.survey} / ${body.name}` });
      const item = document.createElement("li");
      item.append(link);
      uploaded.prepend(item);
      if (isNew && ![...pick.options].some((o) => o.value === body.survey)) {
        pick.add(new Option(body.survey, body.survey), pick.options[pick.options.length - 1]);
        pick.value = body.survey;
        fresh.value = "";
        showNew();
      }
    } catch (error) {
      result.textContent = `Not stored: ${error.message}`;
      result.className = "error";
    }
  });
})();

// Recent jobs, kept up to date without a reload; a job with failures says so.
(function () {
  const list = document.getElementById("recent-jobs");
  if (!list) return;
  const stamp = document.getElementById("jobs-updated");
  function row(job) {
    const item = document.createElement("li");
    item.dataset.job = job.id;
    item.className = `job-${job.status}${job.failures ? " job-partial" : ""}`;
    const link = Object.assign(document.createElement("a"), { href: `/jobs/${job.id}/`, textContent: job.kind });
    const outcome = Object.assign(document.createElement("span"), { className: "outcome", textContent: job.outcome });
    const when = new Date(job.created_at).toISOString().slice(0, 16).replace("T", " ");
    item.append(link, " · ", outcome, ` · ${job.done}/${job.total} · ${when}`);
    if (job.created_by) item.append(` · ${job.created_by}`);
    if (job.can_cancel && !job.cancel_requested_at) {
      const button = Object.assign(document.createElement("button"), { type: "button", className: "job-cancel small", textContent: "Cancel" });
      button.addEventListener("click", () => cancel(job, button));
      item.append(" ", button);
    }
    return item;
  }
  async function cancel(job, button) {
    button.disabled = true;
    button.textContent = "Cancelling…";
    try {
      const done = await window.rgz.request(`/api/jobs/${job.id}/cancel/`, { method: "POST" });
      const item = list.querySelector(`[data-job="${job.id}"]`);
      if (item) item.replaceWith(row(done));
    } catch (error) {
      button.disabled = false;
      button.textContent = "Cancel";
      stamp.textContent = `Not cancelled: ${error.message}`;
    }
  }
  async function poll() {
    if (!document.hidden) {
      try {
        const jobs = await window.rgz.request(list.dataset.url);
        if (jobs.length) list.replaceChildren(...jobs.map(row));
        stamp.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      } catch (error) {
        stamp.textContent = `Not updated: ${error.message}`;
      }
    }
    setTimeout(poll, 3000);
  }
  poll();
})();

// Classifier tasks offered per survey for the uncertainty order (a list, not free text).
(function () {
  const pickers = document.querySelectorAll(".task-picker");
  if (!pickers.length) return;
  window.rgz.request("/api/classifiers/tasks/?page_size=200").then((body) => {
    const tasks = Array.isArray(body) ? body : body.results;
    pickers.forEach((select) => {
      const current = select.dataset.current;
      tasks.filter((t) => t.survey === select.dataset.survey && t.name !== current).forEach((t) => {
        select.add(new Option(t.name, t.name));
      });
    });
  }).catch(() => {});
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
