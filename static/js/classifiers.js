// Classifier pages: start retraining, follow training live, promote, roll back, load an explanation.
(function () {
  const fmt = (v) => (v === null || v === undefined ? "–" : Number(v).toFixed(3));

  function say(el, text, bad) {
    if (!el) return;
    el.textContent = text;
    el.classList.toggle("error", !!bad);
  }

  // A version's status changes in the versions table and in the Compare menus together, so a
  // menu never names a status the table no longer shows.
  function showStatus(versionId, status) {
    const cell = document.querySelector(`table.versions tr[data-version="${versionId}"] .status`);
    if (cell) {
      cell.textContent = status;
      cell.className = `status status-${status}`;
    }
    document.querySelectorAll(`.compare-form option[value="${versionId}"]`).forEach((option) => {
      option.textContent = option.textContent.replace(/\([^)]*\)$/, `(${status})`);
    });
  }

  document.querySelectorAll(".retrain-form").forEach((form) => {
    // A preset fills the epochs; typing epochs makes it a custom choice.
    const preset = form.elements.preset;
    const match = [...preset.options].find((o) => o.value === form.elements.epochs.value);
    preset.value = match ? match.value : "";
    preset.addEventListener("change", () => {
      if (preset.value) form.elements.epochs.value = preset.value;
    });
    form.elements.epochs.addEventListener("input", () => {
      const same = [...preset.options].find((o) => o.value === form.elements.epochs.value);
      preset.value = same ? same.value : "";
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const message = form.querySelector(".form-message");
      const body = {
        epochs: Number(form.elements.epochs.value),
        labels: form.elements.labels.value,
        method: form.elements.method.value,
        architecture: form.elements.architecture.value,
      };
      if (form.elements.max_steps.value) body.config = { max_steps: Number(form.elements.max_steps.value) };
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

  const dialog = document.getElementById("promote-dialog");
  // A degenerate version (a class never found, macro-F1 far below accuracy) is promoted only
  // after the admin has read why and confirmed.
  function confirmed(button) {
    if (!button.dataset.warning || !dialog) return Promise.resolve(true);
    document.getElementById("promote-dialog-reason").textContent = `v${button.dataset.number}: ${button.dataset.warning}.`;
    dialog.returnValue = "";
    dialog.showModal();
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "promote"), { once: true });
    });
  }

  async function followScoring(block, jobId) {
    const box = block.querySelector(".scoring");
    if (!box || !jobId) return;
    box.hidden = false;
    const bar = box.querySelector(".scoring-progress");
    const text = box.querySelector(".scoring-message");
    for (;;) {
      let job;
      try {
        job = await window.rgz.request(`/api/jobs/${jobId}/`);
      } catch (error) {
        text.textContent = `scoring: ${error.message}`;
        return;
      }
      bar.max = job.total || 1;
      bar.value = job.done;
      text.textContent = `scoring every cutout: ${job.outcome}${job.message ? ` · ${job.message}` : ""}`;
      if (["succeeded", "failed", "cancelled"].includes(job.status)) return;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  function actionButton(selector) {
    document.querySelectorAll(selector).forEach((button) => {
      button.addEventListener("click", async () => {
        const block = button.closest("article, section");
        const message = block.querySelector(".action-message");
        if (!(await confirmed(button))) {
          say(message, "Not promoted.");
          return;
        }
        button.disabled = true;
        try {
          // A warned version was confirmed in the dialog: say so, or the API refuses it.
          const version = await window.rgz.request(button.dataset.url, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify(button.dataset.warning ? { force: true } : {}),
          });
          say(message, `v${version.number} is now active; scoring every cutout`);
          block.querySelectorAll(".versions tr[data-version]").forEach((row) => {
            if (row.querySelector(".status").textContent === "active") showStatus(row.dataset.version, "ready");
          });
          showStatus(version.id, "active");
          button.remove();
          await followScoring(block, version.scoring_job);
        } catch (error) {
          say(message, error.message, true);
          button.disabled = false;
        }
      });
    });
  }
  actionButton(".promote");
  actionButton(".rollback");

  document.querySelectorAll(".cancel-training").forEach((button) => {
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const job = await window.rgz.request(button.dataset.url, { method: "POST" });
        button.textContent = job.status === "cancelled" ? "Cancelled" : "Cancelling at the end of this epoch…";
      } catch (error) {
        button.textContent = `Not cancelled: ${error.message}`;
      }
    });
  });

  // Phases of a training in words, with the time left once two epochs have been seen.
  function phaseOf(message) {
    if (!message) return "waiting for a training worker";
    if (message.startsWith("reading")) return "phase 1 of 2: reading images";
    if (message.startsWith("epoch") || message.startsWith("training")) return "phase 2 of 2: training";
    return "";
  }

  document.querySelectorAll(".live").forEach((box) => {
    const rows = box.querySelector(".live-epochs tbody");
    let first = null;
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
        box.querySelector(".live-phase").textContent = phaseOf(progress.message);
        const epoch = version.history.length;
        const total = (version.config && version.config.epochs) || progress.total;
        if (epoch > 0 && first === null) first = { epoch, at: Date.now() };
        const eta = box.querySelector(".live-eta");
        if (first && epoch > first.epoch) {
          const perEpoch = (Date.now() - first.at) / (epoch - first.epoch) / 1000;
          const left = Math.max(0, total - epoch) * perEpoch;
          eta.textContent = left < 90 ? `about ${Math.round(left)} s left` : left < 5400 ? `about ${Math.round(left / 60)} min left` : `about ${(left / 3600).toFixed(1)} h left`;
        } else if (progress.message && progress.message.startsWith("training")) {
          eta.textContent = "time left known after the first epochs";
        }
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
      if (version.status === "failed") {
        const cancelled = (version.error || "").includes("cancelled");
        box.querySelector(".live-message").textContent = cancelled ? `cancelled: ${version.error}` : `failed: ${version.error}`;
        box.querySelector(".live-status").textContent = cancelled ? "cancelled" : "failed";
        const button = box.querySelector(".cancel-training");
        if (button) button.remove();
        // the versions table below says so too, not "training" until the next reload
        showStatus(box.dataset.version, "failed");
      }
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
