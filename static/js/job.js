// Follows a background job until it ends; its starter (or an admin) may cancel it.
(function () {
  const root = document.getElementById("job");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const cancel = $("job-cancel");
  const cancelResult = $("job-cancel-result");
  let cancelling = false;
  function show(job) {
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
    cancel.hidden = !job.can_cancel;
    cancel.disabled = cancelling || Boolean(job.cancel_requested_at);
    if (job.cancel_requested_at && !job.finished_at) cancel.textContent = "Cancelling at its next progress report…";
  }
  async function poll() {
    const response = await fetch(root.dataset.url, { headers: { Accept: "application/json" } });
    if (!response.ok) return setTimeout(poll, 2000);
    const job = await response.json();
    show(job);
    if (!["succeeded", "failed", "cancelled"].includes(job.status)) setTimeout(poll, 1000);
  }
  cancel.addEventListener("click", async () => {
    cancelling = true;
    cancel.disabled = true;
    try {
      const job = await window.rgz.request(root.dataset.cancelUrl, { method: "POST" });
      cancelResult.textContent = job.status === "cancelled" ? "Cancelled." : "Cancel asked for: it stops at its next progress report.";
      cancelResult.className = "ok";
      show(job);
    } catch (error) {
      cancelResult.textContent = `Not cancelled: ${error.message}`;
      cancelResult.className = "error";
      cancelling = false;
      cancel.disabled = false;
    }
  });
  poll();
})();
