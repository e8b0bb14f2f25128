// Follows a background job until it ends.
(function () {
  const root = document.getElementById("job");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  async function poll() {
    const response = await fetch(root.dataset.url, { headers: { Accept: "application/json" } });
    if (!response.ok) return setTimeout(poll, 2000);
    const job = await response.json();
    $("job-status").textContent = job.outcome || job.status;
    $("job-done").textContent = job.done;
    $("job-total").textContent = job.total;
    $("job-message").textContent = job.message;
    const bar = $("job-progress");
    bar.max = job.total || 1;
    bar.value = job.done;
    const list = $("job-errors");
    if (job.errors.length) {
      list.replaceChildren(...job.errors.map((e) => Object.assign(document.createElement("li"), { textContent: e })));
    }
    if (job.status !== "succeeded" && job.status !== "failed") setTimeout(poll, 1000);
  }
  poll();
})();
