// The workflow's cap on generated subjects (acquisition page): save it through the API.
(function () {
  const form = document.getElementById("synthetic-form");
  if (!form) return;
  const out = document.getElementById("synthetic-result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const result = await rgz.request(form.dataset.url, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ synthetic_share: Number(document.getElementById("synthetic-share").value) }),
      });
      document.getElementById("synthetic-count").textContent = result.synthetic_subjects;
      out.className = "ok";
      out.textContent = `Saved: at most ${Math.round(result.synthetic_share * 100)} % generated.`;
    } catch (error) {
      out.className = "error";
      out.textContent = error.message;
    }
  });
})();
