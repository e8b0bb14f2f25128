// Retirement rules editor: edit rules, preview what they would retire now, save, retire by hand.
(function () {
  const page = document.getElementById("retirement-page");
  const questions = JSON.parse(document.getElementById("questions-data").textContent);
  const stored = JSON.parse(document.getElementById("retirement-data").textContent) || {};
  const list = document.getElementById("rules");
  const preview = document.getElementById("preview");
  const criteria = document.getElementById("criteria");
  const count = document.getElementById("count");

  function option(value, text, selected) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    o.selected = selected;
    return o;
  }

  function field(labelText, input) {
    const label = document.createElement("label");
    label.append(labelText + " ", input);
    return label;
  }

  function numberInput(name, value, step, min, max) {
    const input = document.createElement("input");
    Object.assign(input, { type: "number", step, min, value });
    if (max !== undefined) input.max = max;
    input.dataset.name = name;
    input.style.width = "5rem";
    return input;
  }

  function answerSelect(taskKey, chosen) {
    const select = document.createElement("select");
    select.dataset.name = "answer";
    const task = questions.find((q) => q.key === taskKey) || questions[0];
    task.answers.forEach((a) => select.append(option(a, a, a === chosen)));
    return select;
  }

  function addRule(rule) {
    const item = document.createElement("li");
    item.className = "rule";
    item.dataset.kind = rule.kind;
    const task = document.createElement("select");
    task.dataset.name = "task";
    questions.forEach((q) => task.append(option(q.key, `${q.key}: ${q.text}`, q.key === rule.task)));
    const title = document.createElement("strong");
    title.textContent = rule.kind === "consensus" ? "Consensus" : "Nothing here";
    const parts = [title, field("task", task), field("after at least", numberInput("min_votes", rule.min_votes ?? 5, 1, 1)), document.createTextNode(" votes")];
    if (rule.kind === "consensus") {
      parts.push(field(", agreement ≥", numberInput("agreement", rule.agreement ?? 0.8, 0.05, 0.05, 1)));
    } else {
      let answers = answerSelect(task.value, rule.answer);
      task.addEventListener("change", () => {
        const fresh = answerSelect(task.value, null);
        answers.replaceWith(fresh);
        answers = fresh;
        schedulePreview();
      });
      parts.push(field(", answer", answers), field("in a share ≥", numberInput("fraction", rule.fraction ?? 0.5, 0.05, 0.05, 1)));
    }
    const weighted = document.createElement("input");
    weighted.type = "checkbox";
    weighted.dataset.name = "weighted";
    weighted.checked = Boolean(rule.weighted);
    if (rule.kind === "consensus") {
      // posterior: the answer's probability under the crowd's confusion on gold subjects
      const method = document.createElement("select");
      method.dataset.name = "method";
      method.append(
        option("votes", "share of the votes", rule.method !== "posterior"),
        option("posterior", "probability given the gold-standard confusion", rule.method === "posterior"),
      );
      const sync = () => {
        weighted.disabled = method.value === "posterior";
        if (weighted.disabled) weighted.checked = false;
      };
      method.addEventListener("change", sync);
      sync();
      parts.push(field(" as", method));
    }
    parts.push(field("weight votes by volunteer skill", weighted));
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link";
    remove.textContent = "remove";
    remove.addEventListener("click", () => { item.remove(); schedulePreview(); });
    parts.push(remove);
    item.append(...parts);
    list.append(item);
  }

  function collect() {
    const rules = [...list.querySelectorAll("li.rule")].map((item) => {
      const rule = { kind: item.dataset.kind };
      item.querySelectorAll("[data-name]").forEach((input) => {
        const name = input.dataset.name;
        if (input.type === "checkbox") rule[name] = input.checked;
        else if (input.type === "number") rule[name] = Number(input.value);
        else rule[name] = input.value;
      });
      return rule;
    });
    const retirement = { criteria: criteria.value, rules };
    if (criteria.value === "classification_count") retirement.options = { count: Number(count.value) };
    return retirement;
  }

  let timer = null;
  function schedulePreview() {
    clearTimeout(timer);
    timer = setTimeout(runPreview, 400);
  }

  let asked = 0;
  async function runPreview() {
    const mine = ++asked;  // answers may come back out of order: show only the latest question's
    preview.className = "muted";
    preview.textContent = "Counting…";
    try {
      const result = await rgz.request(page.dataset.preview, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ retirement: collect() }),
      });
      if (mine !== asked) return;
      const lines = [`${result.would_retire} of ${result.open_subjects} open subjects would retire now`];
      if (result.retirement.criteria === "classification_count") lines.push(`count: ${result.by_count}`);
      result.rules.forEach((r) => lines.push(`${r.description}: ${r.would_retire}`));
      preview.className = "";
      preview.innerHTML = "";
      const ul = document.createElement("ul");
      lines.forEach((text, i) => {
        const li = document.createElement("li");
        li.textContent = text;
        if (i === 0) li.style.fontWeight = "600";
        ul.append(li);
      });
      preview.append(ul);
    } catch (error) {
      if (mine !== asked) return;
      preview.className = "error";
      preview.textContent = error.message;
    }
  }

  criteria.value = stored.criteria || "classification_count";
  count.value = (stored.options && stored.options.count) || 15;
  (stored.rules || []).forEach(addRule);
  const first = questions[0];
  const addConsensus = document.getElementById("add-consensus");
  const addNothing = document.getElementById("add-nothing");
  if (addConsensus) addConsensus.addEventListener("click", () => { addRule({ kind: "consensus", task: first.key }); schedulePreview(); });
  if (addNothing) addNothing.addEventListener("click", () => { addRule({ kind: "nothing_here", task: first.key }); schedulePreview(); });
  document.getElementById("retirement-form").addEventListener("input", schedulePreview);
  document.getElementById("retirement-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const out = document.getElementById("save-result");
    try {
      const result = await rgz.request(page.dataset.api, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ retirement: collect(), apply_now: document.getElementById("apply-now").checked }),
      });
      out.className = "ok";
      out.textContent = `Saved. ${result.retired_now} subjects retired now.`;
      result.retired_subjects.forEach((id) => {
        const row = document.querySelector(`tr[data-subject='${id}']`);
        if (row) row.remove();
      });
      runPreview();
    } catch (error) {
      out.className = "error";
      out.textContent = error.message;
    }
  });
  document.querySelectorAll("button.retire-one").forEach((button) => {
    button.addEventListener("click", async () => {
      try {
        await rgz.request(page.dataset.retire, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ subject: Number(button.dataset.subject), reason: "human" }),
        });
        button.closest("tr").remove();
        runPreview();
      } catch (error) {
        button.textContent = error.message;
      }
    });
  });
  runPreview();
})();
