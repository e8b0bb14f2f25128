// Zooniverse sync page: start a push or a pull and follow its job; link a workflow.
(function () {
  const page = document.getElementById("sync-page");
  if (!page) return;

  function follow(row, url) {
    const cell = row.querySelector(".progress-cell");
    async function poll() {
      let job;
      try {
        job = await rgz.request(url);
      } catch (error) {
        return setTimeout(poll, 2000);
      }
      cell.innerHTML = "";
      const bar = Object.assign(document.createElement("progress"), { max: job.total || 1, value: job.done });
      const state = Object.assign(document.createElement("span"), {
        className: "job-state " + (job.status === "failed" ? "error" : ""),
        textContent: `${job.kind.replace("zooniverse_", "")}: ${job.status} · ${job.message}`,
      });
      const link = Object.assign(document.createElement("a"), { href: `/jobs/${job.id}/`, textContent: "details" });
      cell.append(bar, " ", state, " ", link);
      if (job.status === "succeeded" || job.status === "failed") {
        row.querySelectorAll("button.sync").forEach((b) => (b.disabled = false));
        if (job.status === "succeeded") {
          const when = new Date(job.finished_at || Date.now()).toISOString().slice(0, 16).replace("T", " ");
          row.querySelector(job.kind === "zooniverse_push" ? ".last-push" : ".last-pull").textContent = when;
        }
        if (job.result && job.kind === "zooniverse_push") {
          const pushed = row.querySelector(".pushed");
          pushed.textContent = String(Number(pushed.textContent) + (job.result.created || 0));
        }
        return;
      }
      setTimeout(poll, 1000);
    }
    poll();
  }

  document.querySelectorAll("button.sync").forEach((button) => {
    button.addEventListener("click", async () => {
      const row = button.closest("tr");
      row.querySelectorAll("button.sync").forEach((b) => (b.disabled = true));
      try {
        const job = await rgz.request(button.dataset.url, { method: "POST" });
        follow(row, `/api/jobs/${job.id}/`);
      } catch (error) {
        row.querySelector(".progress-cell").textContent = error.message;
        row.querySelectorAll("button.sync").forEach((b) => (b.disabled = false));
      }
    });
  });

  document.querySelectorAll(".job-state[data-job-url]").forEach((span) => {
    if (!/: (succeeded|failed)/.test(span.textContent)) follow(span.closest("tr"), span.dataset.jobUrl);
  });

  document.getElementById("link-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const out = document.getElementById("link-result");
    try {
      await rgz.request(page.dataset.links, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          workflow: Number(document.getElementById("link-workflow").value),
          project_id: Number(document.getElementById("link-project").value),
          zooniverse_workflow_id: Number(document.getElementById("link-zworkflow").value),
          pull_every_minutes: Number(document.getElementById("link-every").value),
        }),
      });
      window.location.reload();
    } catch (error) {
      out.className = "error";
      out.textContent = error.message;
    }
  });
})();
