// A scan's page: follows the tiles while it runs; sends gallery entries to the labelling queue.
(function () {
  const root = document.getElementById("scan");
  if (!root) return;
  if (root.dataset.status === "running") {
    const poll = async () => {
      try {
        const scan = await window.rgz.request(root.dataset.url);
        document.getElementById("scan-done").textContent = scan.tiles_done;
        document.getElementById("scan-progress").value = scan.tiles_done;
        document.getElementById("scan-status").textContent = scan.status;
        if (scan.status !== "running") return window.location.reload();
      } catch (error) { /* keep polling */ }
      setTimeout(poll, 1000);
    };
    poll();
  }
  const result = document.getElementById("queue-result");
  root.querySelectorAll("button.to-queue").forEach((button) => {
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const cutout = await window.rgz.request(button.dataset.url, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ workflow: parseInt(document.getElementById("workflow").value, 10) }),
        });
        const link = Object.assign(document.createElement("a"), { className: "ok", textContent: "in the queue: its page" });
        link.href = `/cutouts/${cutout.id}/`;
        button.replaceWith(link);
        result.textContent = `Added as subject ${cutout.id} (${cutout.name}).`;
      } catch (error) {
        button.disabled = false;
        result.textContent = `Not added: ${error.message}`;
      }
    });
  });
})();
