// Data browser: filters -> the browse API -> a grid of thumbnails; selection and bulk actions.
(function () {
  const form = document.getElementById("filters");
  if (!form) return;
  const grid = document.getElementById("grid");
  const status = document.getElementById("browse-status");
  const bulk = document.getElementById("bulk");
  const bulkResult = document.getElementById("bulk-result");
  const selectPage = document.getElementById("select-page");
  const selectedCount = document.getElementById("selected-count");
  const selected = new Set();
  let page = 1;
  let lastPage = 1;

  // The query string is the state: a filtered view can be bookmarked and shared.
  const initial = new URLSearchParams(window.location.search);
  for (const [name, value] of initial) {
    const field = form.elements[name];
    if (field) field.value = value;
  }
  page = Number(initial.get("page")) || 1;

  function classChoices() {
    const option = form.elements.task.selectedOptions[0];
    const classes = option && option.dataset.classes ? option.dataset.classes.split(",") : [];
    form.querySelectorAll(".class-choice").forEach((select) => {
      const keep = select.value || initial.get(select.name) || "";
      const first = select.options[0];
      select.replaceChildren(first);
      classes.forEach((name) => select.add(new Option(name, name, false, name === keep)));
    });
  }
  classChoices();
  form.elements.task.addEventListener("change", classChoices);

  function query() {
    const params = new URLSearchParams();
    for (const field of form.elements) {
      if (field.name && field.value !== "" && !(field instanceof HTMLButtonElement)) params.set(field.name, field.value);
    }
    if (page > 1) params.set("page", page);
    return params;
  }

  function countSelected() {
    selectedCount.textContent = `${selected.size} selected`;
  }

  function card(row) {
    const li = document.createElement("li");
    li.dataset.cutout = row.id;
    const box = document.createElement("input");
    box.type = "checkbox";
    box.className = "pick";
    box.checked = selected.has(row.id);
    box.setAttribute("aria-label", `Select ${row.name}`);
    box.addEventListener("change", () => {
      if (box.checked) selected.add(row.id);
      else selected.delete(row.id);
      countSelected();
    });
    const link = document.createElement("a");
    link.href = row.page_url;
    const img = document.createElement("img");
    img.src = row.image_url;
    img.alt = `Cutout ${row.name}`;
    img.loading = "lazy";
    link.append(img);
    const name = document.createElement("a");
    name.href = row.page_url;
    name.className = "name";
    name.textContent = row.name;
    const facts = document.createElement("span");
    facts.className = "muted";
    const bits = [row.survey];
    if (row.label) bits.push(`label ${row.label}`);
    if (row.complexity_percentile !== null) bits.push(`complexity ${row.complexity_percentile.toFixed(0)}%`);
    Object.entries(row.model_scores).forEach(([task, s]) => {
      if (s.prediction) bits.push(`${task}: ${s.prediction} (H ${Number(s.entropy).toFixed(2)})`);
    });
    bits.push(`${row.classifications} classifications`);
    if (row.retired) bits.push("retired");
    if (row.synthetic) bits.push("synthetic");
    if (row.priority !== null) bits.push(`priority ${row.priority}`);
    facts.textContent = bits.join(" · ");
    li.append(box, link, name, facts);
    if (row.tags.length) {
      const tags = document.createElement("span");
      tags.className = "chips";
      row.tags.forEach((t) => {
        const chip = document.createElement("span");
        chip.className = "chip";
        chip.textContent = t;
        tags.append(chip);
      });
      li.append(tags);
    }
    return li;
  }

  async function load() {
    const params = query();
    window.history.replaceState(null, "", `${form.dataset.pageUrl}?${params}`);
    status.textContent = "Loading…";
    status.className = "";
    try {
      const body = await window.rgz.request(`${form.dataset.url}?${params}`);
      const size = body.results.length;
      lastPage = body.next ? page + 1 : page;
      grid.replaceChildren(...body.results.map(card));
      status.textContent = body.count ? `${body.count} cutouts match` : "No cutout matches these filters.";
      document.getElementById("page-label").textContent = size ? `page ${page}` : "";
      document.getElementById("prev-page").disabled = page <= 1;
      document.getElementById("next-page").disabled = !body.next;
      selectPage.checked = false;
    } catch (error) {
      grid.replaceChildren();
      status.textContent = `Filters not applied: ${error.message}`;
      status.className = "error";
    }
  }

  // Phones: the filters start folded, so the results are on the first screen.
  const toggle = document.getElementById("filter-toggle");
  const phone = window.matchMedia("(max-width: 600px)");
  function fold(collapsed) {
    form.classList.toggle("collapsed", collapsed);
    const set = [...query().keys()].filter((key) => !["page", "sort"].includes(key)).length;
    toggle.textContent = collapsed ? `Show filters${set ? ` (${set} set)` : ""}` : "Hide filters";
    toggle.setAttribute("aria-expanded", String(!collapsed));
  }
  toggle.addEventListener("click", () => fold(!form.classList.contains("collapsed")));
  fold(phone.matches);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    page = 1;
    load();
  });
  form.addEventListener("reset", () => {
    setTimeout(() => {
      classChoices();
      page = 1;
      load();
    });
  });
  document.getElementById("prev-page").addEventListener("click", () => {
    page = Math.max(1, page - 1);
    load();
  });
  document.getElementById("next-page").addEventListener("click", () => {
    if (page < lastPage) page += 1;
    load();
  });
  selectPage.addEventListener("change", () => {
    grid.querySelectorAll("input.pick").forEach((box) => {
      box.checked = selectPage.checked;
      const id = Number(box.closest("li").dataset.cutout);
      if (box.checked) selected.add(id);
      else selected.delete(id);
    });
    countSelected();
  });

  function bulkFields() {
    const action = bulk.elements.action.value;
    bulk.elements.workflow.hidden = action === "set_priority";
    bulk.elements.priority.hidden = action !== "set_priority";
  }
  bulk.elements.action.addEventListener("change", bulkFields);
  bulkFields();

  bulk.addEventListener("submit", async (event) => {
    event.preventDefault();
    const action = bulk.elements.action.value;
    const payload = { action, cutouts: [...selected] };
    if (action === "set_priority") {
      const value = bulk.elements.priority.value;
      payload.priority = value === "" ? null : Number(value);
    } else {
      payload.workflow = Number(bulk.elements.workflow.value);
    }
    bulkResult.className = "";
    bulkResult.textContent = "Working…";
    try {
      const result = await window.rgz.request(bulk.dataset.url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payload),
      });
      const skipped = result.skipped.length ? ` (${result.skipped.join("; ")})` : "";
      bulkResult.textContent = `${result.changed} of ${result.selected} changed${skipped}.`;
      bulkResult.className = "ok";
      load();
    } catch (error) {
      bulkResult.textContent = `Nothing changed: ${error.message}`;
      bulkResult.className = "error";
    }
  });

  load();
})();
