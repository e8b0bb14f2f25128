// Novelty gallery: send a cutout to the front of the chosen workflow's queue.
(function () {
  const select = document.getElementById("send-workflow");
  if (!select) return;
  document.querySelectorAll("button.send-to-queue").forEach((button) => {
    button.addEventListener("click", async () => {
      const out = button.parentElement.querySelector(".send-result");
      const option = select.options[select.selectedIndex];
      try {
        await rgz.request(option.dataset.url, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ subject: Number(button.dataset.cutout) }),
        });
        out.className = "send-result ok";
        out.textContent = `next in ${option.textContent}`;
      } catch (error) {
        out.className = "send-result error";
        out.textContent = error.message;
      }
    });
  });
})();

// The survey's encoder (admins): start a training and link to its job's live progress.
(function () {
  const form = document.getElementById("encoder-form");
  if (!form) return;
  const result = document.getElementById("encoder-result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    const steps = form.elements.steps.value.trim();
    button.disabled = true;
    try {
      const encoder = await rgz.request(form.dataset.url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(steps ? { steps: Number(steps) } : {}),
      });
      const link = Object.assign(document.createElement("a"), { href: form.dataset.jobUrl.replace("00000000-0000-0000-0000-000000000000", encoder.job), textContent: "follow its progress" });
      result.className = "ok";
      result.replaceChildren(`Training v${encoder.number} started: `, link, ".");
    } catch (error) {
      result.className = "error";
      result.textContent = `Not started: ${error.message}`;
    } finally {
      button.disabled = false;
    }
  });
})();
