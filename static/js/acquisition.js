// Acquisition policy page: edit weights, exploration and the gold schedule, preview what the policy
// would serve (debounced), save a new policy, roll back to an earlier one, mark gold subjects.
(function () {
  const page = document.getElementById("acquisition-page");
  const form = document.getElementById("policy-form");
  const byId = (id) => document.getElementById(id);
  const sliders = [...form.querySelectorAll("[data-weight]")];
  const numbers = Object.fromEntries([...form.querySelectorAll("[data-weight-number]")].map((i) => [i.dataset.weightNumber, i]));

  function show(policy) {
    sliders.forEach((slider) => {
      const value = (policy.weights || {})[slider.dataset.weight] || 0;
      slider.value = value;
      numbers[slider.dataset.weight].value = value;
    });
    byId("exploration").value = policy.exploration;
    byId("exploration-value").textContent = Number(policy.exploration).toFixed(2);
    byId("diversity").checked = Boolean(policy.diversity);
    byId("candidate-factor").value = policy.candidate_factor;
    byId("gold-start").value = policy.gold_start;
    byId("gold-end").value = policy.gold_end;
    byId("gold-halflife").value = policy.gold_halflife;
    byId("feedback").checked = Boolean(policy.feedback);
  }

  function collect() {
    const weights = {};
    sliders.forEach((slider) => { weights[slider.dataset.weight] = Number(numbers[slider.dataset.weight].value); });
    return {
      weights,
      exploration: Number(byId("exploration").value),
      diversity: byId("diversity").checked,
      candidate_factor: Number(byId("candidate-factor").value),
      gold_start: Number(byId("gold-start").value),
      gold_end: Number(byId("gold-end").value),
      gold_halflife: Number(byId("gold-halflife").value),
      feedback: byId("feedback").checked,
    };
  }

  function text(tag, content, className) {
    const node = document.createElement(tag);
    node.textContent = content;
    if (className) node.className = className;
    return node;
  }

  const fmt = (value) => (value === null || value === undefined ? "–" : Number(value).toFixed(2));

  function breakdownTable(breakdown) {
    const table = document.createElement("table");
    table.className = "breakdown";
    const head = document.createElement("tr");
    ["score", "value", "pct", "share"].forEach((h) => head.append(text("th", h)));
    table.append(head);
    Object.entries(breakdown.scores).forEach(([name, s]) => {
      const row = document.createElement("tr");
      [name, fmt(s.value), fmt(s.percentile), fmt(s.share)].forEach((v) => row.append(text("td", v)));
      table.append(row);
    });
    return table;
  }

  function item(entry) {
    const li = document.createElement("li");
    li.className = `preview-item reason-${entry.reason}`;
    li.dataset.subject = entry.subject.id;
    li.dataset.reason = entry.reason;
    const img = document.createElement("img");
    Object.assign(img, { src: entry.subject.image_url, alt: `cutout ${entry.subject.name}`, width: 96, height: 96, loading: "lazy" });
    li.append(img);
    const body = document.createElement("div");
    body.append(text("strong", `${entry.position + 1}. ${entry.subject.name}`));
    body.append(text("span", entry.reason, "badge"));
    if (entry.breakdown) body.append(text("div", `priority ${fmt(entry.breakdown.priority)} · rank ${entry.breakdown.rank}`, "muted"));
    body.append(text("p", entry.explanation, "why"));
    if (entry.breakdown) body.append(breakdownTable(entry.breakdown));
    li.append(body);
    return li;
  }

  let timer = null;
  let asked = 0;
  function schedulePreview() {
    clearTimeout(timer);
    timer = setTimeout(runPreview, 350);
  }

  async function runPreview() {
    const mine = ++asked;  // answers may come back out of order: show only the latest
    const notes = byId("preview-notes");
    notes.className = "muted";
    notes.textContent = "Drawing…";
    try {
      const result = await rgz.request(page.dataset.preview, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ policy: collect(), task: byId("policy-task").value, n: 20 }),
      });
      if (mine !== asked) return;
      const model = result.model
        ? `Classifier ${result.model.task} v${result.model.version ?? "– (none active)"} on ${result.model.survey}`
        : "No classifier";
      const lines = [`${model}; features: ${result.feature_version || "none"}; ${result.open_subjects} open subjects, ` +
        `${result.gold_subjects} gold (rate for a new volunteer ${fmt(result.gold_rate)}).`, ...result.notes];
      notes.className = "";
      notes.replaceChildren(...lines.map((line) => text("p", line)));
      byId("preview").replaceChildren(...result.items.map(item));
    } catch (error) {
      if (mine !== asked) return;
      notes.className = "error";
      notes.textContent = error.message;
      byId("preview").replaceChildren();
    }
  }

  function weightsText(weights) {
    return Object.entries(weights).filter(([, w]) => w > 0).map(([n, w]) => `${n} ${w}`).join(", ");
  }

  function history(state) {
    const body = byId("history").querySelector("tbody");
    body.replaceChildren(...state.history.map((policy) => {
      const row = document.createElement("tr");
      row.dataset.policy = policy.id;
      row.append(text("td", `${policy.number}${policy.active ? " (active)" : ""}${policy.note ? ` – ${policy.note}` : ""}`));
      row.append(text("td", `${new Date(policy.created_at).toLocaleString()}${policy.created_by ? ` by ${policy.created_by}` : ""}`));
      row.append(text("td", weightsText(policy.policy.weights)));
      row.append(text("td", fmt(policy.policy.exploration)));
      row.append(text("td", `${fmt(policy.policy.gold_start)} → ${fmt(policy.policy.gold_end)}`));
      const cell = document.createElement("td");
      if (!policy.active) {
        const button = text("button", "Roll back to this", "rollback");
        button.type = "button";
        button.addEventListener("click", () => rollback(policy.id));
        cell.append(button);
      }
      row.append(cell);
      return row;
    }));
    const active = state.active;
    byId("active-line").textContent = active
      ? `Active: policy ${active.number}${active.note ? ` (${active.note})` : ""}.`
      : "No policy saved yet: the queue follows the survey's ranking.";
  }

  // A save or roll-back answers at once; a job ranks the queue. Follow it, then say what it did.
  async function followRanking(jobId, out, said) {
    if (!jobId) return;
    out.textContent = `${said} Ranking the queue...`;
    for (let tries = 0; tries < 600; tries += 1) {
      const job = await rgz.request(`/api/jobs/${jobId}/`);
      if (["succeeded", "failed", "cancelled"].includes(job.status)) {
        const rank = (job.result || {}).rank;
        if (job.status !== "succeeded") {
          out.className = "error";
          out.textContent = `${said} The ranking job ${job.status}: ${job.message}`;
        } else {
          out.textContent = rank
            ? `${said} Queue ranked: ${rank.ranked} by the policy, ${rank.exploration} at random.`
            : `${said} ${(job.result.notes || []).join(" ")}`;
        }
        runPreview();
        return;
      }
      await new Promise((resolve) => { setTimeout(resolve, 1000); });
    }
  }

  async function rollback(policyId) {
    const out = byId("save-result");
    try {
      const state = await rgz.request(page.dataset.rollback, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ policy: policyId }),
      });
      show(state.active.policy);
      byId("policy-task").value = state.active.task;
      history(state);
      out.className = "ok";
      out.textContent = `Rolled back to policy ${state.active.number}.`;
      runPreview();
      await followRanking(state.job, out, out.textContent);
    } catch (error) {
      out.className = "error";
      out.textContent = error.message;
    }
  }

  sliders.forEach((slider) => slider.addEventListener("input", () => { numbers[slider.dataset.weight].value = slider.value; }));
  Object.entries(numbers).forEach(([name, input]) => input.addEventListener("input", () => {
    form.querySelector(`[data-weight='${name}']`).value = input.value;
  }));
  byId("exploration").addEventListener("input", () => { byId("exploration-value").textContent = fmt(byId("exploration").value); });
  form.addEventListener("input", schedulePreview);
  form.addEventListener("change", schedulePreview);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const out = byId("save-result");
    try {
      const state = await rgz.request(page.dataset.api, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ policy: collect(), task: byId("policy-task").value, note: byId("policy-note").value }),
      });
      history(state);
      out.className = "ok";
      out.textContent = `Saved as policy ${state.active.number}.`;
      await followRanking(state.job, out, out.textContent);
    } catch (error) {
      out.className = "error";
      out.textContent = error.message;
    }
  });
  byId("gold-mark").addEventListener("click", async () => {
    const out = byId("gold-result");
    try {
      const result = await rgz.request(page.dataset.gold, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: "{}",
      });
      byId("gold-count").textContent = result.gold_subjects;
      out.className = "ok";
      out.textContent = `${result.marked} subjects added.`;
      runPreview();
    } catch (error) {
      out.className = "error";
      out.textContent = error.message;
    }
  });

  show(JSON.parse(byId("policy-data").textContent));
  rgz.request(page.dataset.api).then(history).catch((error) => { byId("save-result").textContent = error.message; });
  runPreview();
})();
