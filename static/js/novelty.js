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
