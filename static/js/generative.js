// Generator registry (train, follow the loss, promote, roll back, generate) and sample gallery.
(function () {
  const say = (el, text, bad) => { if (el) { el.textContent = text; el.classList.toggle("error", !!bad); } };

  function postForm(selector, body, done) {
    document.querySelectorAll(selector).forEach((form) => {
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const message = form.querySelector(".form-message");
        const button = form.querySelector("button");
        button.disabled = true;
        try {
          const result = await window.rgz.request(form.dataset.url, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify(body(form)),
          });
          done(form, message, result);
        } catch (error) {
          say(message, error.message, true);
          button.disabled = false;
        }
      });
    });
  }

  const numberOrNull = (form, name) => (form.elements[name].value === "" ? null : Number(form.elements[name].value));
  postForm(".train-form", (form) => ({ survey: form.dataset.survey, preset: form.elements.preset.value, epochs: numberOrNull(form, "epochs") }),
    (form, message, version) => { say(message, `v${version.number} queued for training`); window.location.reload(); });
  postForm(".generate-form", (form) => ({ survey: form.dataset.survey, per_class: Number(form.elements.per_class.value), guidance: numberOrNull(form, "guidance") }),
    (form, message, started) => {
      say(message, "rendering: ");
      const link = Object.assign(document.createElement("a"), { href: started.url, textContent: "follow the job" });
      message.appendChild(link);
      form.querySelector("button").disabled = false;
    });

  document.querySelectorAll("button.promote, button.rollback").forEach((button) => {
    button.addEventListener("click", async () => {
      const message = button.closest("article").querySelector(".action-message");
      button.disabled = true;
      try {
        const version = await window.rgz.request(button.dataset.url, { method: "POST" });
        say(message, `v${version.number} is now active`);
        setTimeout(() => window.location.reload(), 600);
      } catch (error) {
        say(message, error.message, true);
        button.disabled = false;
      }
    });
  });

  document.querySelectorAll("button.evaluate").forEach((button) => {
    button.addEventListener("click", async () => {
      const message = button.closest("article").querySelector(".action-message");
      button.disabled = true;
      try {
        const started = await window.rgz.request(button.dataset.url, { method: "POST" });
        say(message, "evaluating: ");
        message.appendChild(Object.assign(document.createElement("a"), { href: started.url, textContent: "follow the job" }));
      } catch (error) {
        say(message, error.message, true);
        button.disabled = false;
      }
    });
  });

  // Live training: status, the job's message (epoch, loss, time left) and the loss curve.
  document.querySelectorAll(".live").forEach((box) => {
    async function poll() {
      let version;
      try {
        version = await window.rgz.request(box.dataset.url);
      } catch (error) {
        return setTimeout(poll, 3000);
      }
      box.querySelector(".live-status").textContent = version.status;
      const losses = version.history.map((h) => h.loss);
      if (losses.length) {
        const last = version.history[version.history.length - 1];
        box.querySelector(".live-message").textContent = `epoch ${last.epoch}: loss ${last.loss.toFixed(4)}`;
        const lo = Math.min(...losses), hi = Math.max(...losses), span = hi - lo || 1;
        const points = losses.map((v, i) => `${(300 * i) / Math.max(losses.length - 1, 1)},${75 - (70 * (v - lo)) / span}`);
        box.querySelector(".loss-curve polyline").setAttribute("points", points.join(" "));
      }
      const grid = box.querySelector(".live-grid");
      if (version.sample_grid_url && grid.getAttribute("src") !== version.sample_grid_url) {
        grid.src = version.sample_grid_url;
        grid.hidden = false;
      }
      if (version.status === "training") return setTimeout(poll, 2000);
      if (version.status === "failed") box.querySelector(".live-message").textContent = `failed: ${version.error}`;
      else window.location.reload();
    }
    poll();
  });

  // Gallery: select a class at once, approve or reject the selection.
  document.querySelectorAll(".select-class").forEach((box) => {
    box.addEventListener("change", () => {
      box.closest("fieldset").querySelectorAll("input[name=ids]").forEach((input) => { input.checked = box.checked; });
    });
  });
  const review = document.getElementById("review-form");
  if (review) {
    review.addEventListener("submit", async (event) => {
      event.preventDefault();
      const result = document.getElementById("review-result");
      const ids = [...review.querySelectorAll("input[name=ids]:checked")].map((input) => Number(input.value));
      if (!ids.length) return say(result, "Select at least one sample.", true);
      try {
        const done = await window.rgz.request(review.dataset.url, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ survey: review.dataset.survey, ids, review: event.submitter.value }),
        });
        say(result, `${done.reviewed} sample(s) ${done.review}.`);
        ids.forEach((id) => review.querySelector(`input[value="${id}"]`).closest(".sample").remove());
      } catch (error) {
        say(result, error.message, true);
      }
    });
  }
})();
