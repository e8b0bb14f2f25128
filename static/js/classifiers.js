// Classifier pages: start retraining, follow training live, promote, roll back, load an explanation.
(function () {
  const fmt = (v) => (v === null || v === undefined ? "–" : Number(v).toFixed(3));

  function say(el, text, bad) {
    if (!el) return;
    el.textContent = text;
    el.classList.toggle("error", !!bad);
  }

  document.querySelectorAll(".retrain-form").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const message = form.querySelector(".form-message");
      const body = {
        epochs: Number(form.elements.epochs.value),
        labels: form.elements.labels.value,
        method: form.elements.method.value,
      };
      form.querySelector("button").disabled = true;
      try {
        const version = await window.rgz.request(form.dataset.url, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
        say(message, `v${version.number} queued for training`);
        window.location.reload();
      } catch (error) {
        say(message, error.message, true);
        form.querySelector("button").disabled = false;
      }
    });
  });

  function actionButton(selector) {
    document.querySelectorAll(selector).forEach((button) => {
      button.addEventListener("click", async () => {
        const message = button.closest("article, section").querySelector(".action-message");
        button.disabled = true;
        try {
          const version = await window.rgz.request(button.dataset.url, { method: "POST" });
          say(message, `v${version.number} is now active; scoring every cutout`);
          setTimeout(() => window.location.reload(), 600);
        } catch (error) {
          say(message, error.message, true);
          button.disabled = false;
        }
      });
    });
  }
  actionButton(".promote");
  actionButton(".rollback");

  document.querySelectorAll(".live").forEach((box) => {
    const rows = box.querySelector(".live-epochs tbody");
    async function poll() {
      let version;
      try {
        version = await window.rgz.request(box.dataset.url);
      } catch (error) {
        return setTimeout(poll, 2000);
      }
      box.querySelector(".live-status").textContent = version.status;
      const progress = version.progress;
      if (progress) {
        const bar = box.querySelector(".live-progress");
        bar.max = progress.total || 1;
        bar.value = progress.done;
        box.querySelector(".live-message").textContent = progress.message || "waiting for a training worker";
      }
      rows.replaceChildren(
        ...version.history.slice(-10).map((h) => {
          const tr = document.createElement("tr");
          [h.epoch, fmt(h.loss_x), fmt(h.loss_u), fmt(h.mask_rate), fmt(h.train_accuracy), fmt(h.val_accuracy)].forEach((v) => {
            tr.appendChild(Object.assign(document.createElement("td"), { textContent: v }));
          });
          return tr;
        })
      );
      if (version.status === "training") return setTimeout(poll, 1000);
      if (version.status === "failed") box.querySelector(".live-message").textContent = `failed: ${version.error}`;
      else window.location.reload();
    }
    poll();
  });

  const explain = document.getElementById("explain");
  if (explain) {
    const caption = document.getElementById("explanation-caption");
    const bar = document.getElementById("explanation-progress");
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    // The explanation is made on a worker: a 202 names the job, which is followed to its end.
    async function follow(jobUrl) {
      const deadline = Date.now() + 10 * 60 * 1000;
      while (Date.now() < deadline) {
        const job = await window.rgz.request(jobUrl);
        bar.max = job.total || 1;
        bar.value = job.done;
        caption.textContent = job.message || `explanation ${job.status}…`;
        if (job.status === "failed") throw new Error(`the explanation failed: ${job.message}`);
        if (job.status === "succeeded") return;
        await sleep(500);
      }
      throw new Error("the explanation is taking longer than 10 minutes: is a worker running? Reload later.");
    }
    function show(result) {
      const image = document.getElementById("explanation-image");
      image.src = result.explanation_url;
      image.hidden = false;
      bar.hidden = true;
      caption.textContent = `LIME over ${result.segments} superpixels (${result.task} v${result.version})`;
      const probs = Object.entries(result.probabilities).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(", ");
      document.getElementById("explanation-prediction").textContent = `Prediction: ${result.label} (${probs})`;
    }
    (async () => {
      try {
        const ask = () => window.rgz.request(explain.dataset.url, { method: "POST" });
        let result = await ask();
        for (let tries = 0; result && result.job && tries < 3; tries += 1) {
          await follow(result.job_url);
          result = await ask();
        }
        if (!result || result.job) throw new Error("the explanation is still not ready: reload the page later");
        show(result);
      } catch (error) {
        bar.hidden = true;
        caption.textContent = error.message;
        caption.classList.add("error");
      }
    })();
  }
})();
