// Curation page: each action posts to the taxonomy API with the revision the page showed,
// so a change made meanwhile by another astronomer gives a clear conflict instead of a lost update.
(function () {
  const root = document.getElementById("curation");
  if (!root) return;
  const api = root.dataset.api;
  const message = document.getElementById("curation-message");
  const errorBox = document.getElementById("curation-error");

  function done(text) {
    sessionStorage.setItem("curation-message", text);
    window.location.reload();
  }
  const flash = sessionStorage.getItem("curation-message");
  if (flash) { message.textContent = flash; sessionStorage.removeItem("curation-message"); }

  function post(url, body) {
    return window.rgz.request(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    });
  }
  function tagByName(name) {
    const wanted = name.trim().toLowerCase();
    const option = [...document.querySelectorAll("#tag-names option")].find((o) => o.value === wanted);
    return option ? { id: option.dataset.id, revision: parseInt(option.dataset.revision, 10) } : null;
  }

  const status = root.dataset.status;
  const selectedCount = document.getElementById("tags-selected");

  // The audit table is read again after each change instead of reloading the page.
  async function refreshAudit() {
    const body = await window.rgz.request(`${root.dataset.events}?page=1`);
    const events = (Array.isArray(body) ? body : body.results).slice(0, 50);
    const tbody = document.querySelector("#audit-table tbody");
    tbody.replaceChildren(...events.map((e) => {
      const tr = document.createElement("tr");
      tr.dataset.eventId = e.id;
      const when = new Date(e.created_at).toISOString().slice(0, 19).replace("T", " ");
      const what = e.summary + (e.undone_at ? ` (undone by ${e.undone_by || "someone"})` : "");
      [when, e.user || "system", what].forEach((t) => tr.append(Object.assign(document.createElement("td"), { textContent: t })));
      const cell = document.createElement("td");
      if (!e.undone_at && e.action !== "publish" && e.action !== "undo") {
        const undo = Object.assign(document.createElement("button"), { type: "button", className: "undo", textContent: "Undo" });
        undo.dataset.url = `${root.dataset.events}${e.id}/undo/`;
        cell.append(undo);
      }
      tr.append(cell);
      return tr;
    }));
  }

  function countSelected() {
    selectedCount.textContent = `${root.querySelectorAll(".pick-tag:checked").length} selected`;
  }

  // A tag's row after a change: its revision, name and status; a row that no longer belongs to
  // the filtered list (an approved tag in the candidates, a merged tag) leaves it.
  function applyTag(row, tag) {
    row.dataset.revision = tag.revision;
    row.dataset.name = tag.name;
    row.querySelector(".tag-name").textContent = tag.name;
    const badge = row.querySelector(".badge");
    badge.textContent = tag.status;
    badge.className = `badge status-${tag.status}`;
    const option = [...document.querySelectorAll("#tag-names option")].find((o) => o.dataset.id === String(tag.id));
    if (option) {
      option.value = tag.name;
      option.dataset.revision = tag.revision;
      if (tag.status === "retired") option.remove();
    }
    if (status && status !== "all" && tag.status !== status) {
      row.remove();
      countSelected();
      return;
    }
    row.querySelectorAll("button[data-action=approve], button[data-action=retire]").forEach((b) => {
      b.hidden = b.dataset.action === (tag.status === "approved" ? "approve" : tag.status === "retired" ? "retire" : "");
      b.disabled = false;
    });
    row.classList.add("changed");
  }

  const dialog = document.getElementById("merge-dialog");
  function confirmMerge(from, into, action) {
    document.getElementById("merge-dialog-text").textContent = action === "merge"
      ? `“${from}” will be merged into “${into}”: its wordings and links move there and “${from}” is retired. You can undo it from the changes below.`
      : `“${from}” will become a synonym of “${into}” and is retired as a tag of its own. You can undo it from the changes below.`;
    document.getElementById("merge-confirm").textContent = action === "merge" ? `Merge into “${into}”` : `Make it a synonym`;
    dialog.returnValue = "";
    dialog.showModal();
    return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true }));
  }

  async function statusChange(row, action) {
    const tag = await post(`${api}${row.dataset.tagId}/${action}/`, { revision: parseInt(row.dataset.revision, 10) });
    applyTag(row, tag);
    return tag;
  }

  root.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const row = button.closest("tr[data-tag-id]");
    const id = row.dataset.tagId;
    const revision = parseInt(row.dataset.revision, 10);
    const action = button.dataset.action;
    errorBox.textContent = "";
    button.disabled = true;
    try {
      let result;
      if (action === "approve" || action === "retire") {
        result = await statusChange(row, action);
        message.textContent = `${action === "approve" ? "Approved" : "Retired"} “${result.name}”.`;
      } else if (action === "rename") {
        const name = row.querySelector(".rename-name").value;
        const description = row.querySelector(".rename-description").value;
        result = await post(`${api}${id}/rename/`, { revision, name, description });
        applyTag(row, result);
        message.textContent = `Renamed to “${result.name}”.`;
      } else if (action === "merge" || action === "synonym-of") {
        const name = row.querySelector(".merge-into").value;
        const other = tagByName(name);
        if (!other) throw new Error("Choose the other tag by its name from the list.");
        if (!(await confirmMerge(row.dataset.name, name.trim(), action))) {
          message.textContent = "Nothing merged.";
          button.disabled = false;
          return;
        }
        result = await post(`${api}${id}/${action}/`, { revision, into: parseInt(other.id, 10), into_revision: other.revision });
        message.textContent = `“${row.dataset.name}” ${action === "merge" ? "merged into" : "is now a synonym of"} “${result.name}”.`;
        const target = root.querySelector(`tr[data-tag-id="${result.id}"]`);
        if (target) applyTag(target, result);
        const option = [...document.querySelectorAll("#tag-names option")].find((o) => o.dataset.id === String(result.id));
        if (option) option.dataset.revision = result.revision;
        row.remove();
        countSelected();
      } else if (action === "split") {
        const keys = [...row.querySelectorAll(".split-key:checked")].map((c) => c.value);
        const name = row.querySelector(".split-name").value;
        result = await post(`${api}${id}/split/`, { revision, name, keys });
        done(`Split “${result.name}” out of “${row.dataset.name}”.`);
        return;
      }
      await refreshAudit();
    } catch (error) {
      errorBox.textContent = error.message;
      button.disabled = false;
    }
  });

  root.addEventListener("change", (event) => {
    if (event.target.id === "select-all-tags") {
      root.querySelectorAll(".pick-tag").forEach((box) => { box.checked = event.target.checked; });
    }
    if (event.target.matches(".pick-tag, #select-all-tags")) countSelected();
  });

  // Bulk approve and retire: one request per tag, each with the revision the page showed.
  async function bulk(action) {
    const rows = [...root.querySelectorAll(".pick-tag:checked")].map((box) => box.closest("tr[data-tag-id]"));
    if (!rows.length) {
      errorBox.textContent = "Select tags first.";
      return;
    }
    errorBox.textContent = "";
    let changed = 0;
    const failures = [];
    for (const row of rows) {
      try {
        await statusChange(row, action);
        changed += 1;
      } catch (error) {
        failures.push(`${row.dataset.name}: ${error.message}`);
      }
      message.textContent = `${action === "approve" ? "Approving" : "Retiring"}… ${changed}/${rows.length}`;
    }
    message.textContent = `${action === "approve" ? "Approved" : "Retired"} ${changed} of ${rows.length} tags.`;
    if (failures.length) errorBox.textContent = failures.join("; ");
    document.getElementById("select-all-tags").checked = false;
    countSelected();
    await refreshAudit();
  }
  document.getElementById("bulk-approve").addEventListener("click", () => bulk("approve"));
  document.getElementById("bulk-retire").addEventListener("click", () => bulk("retire"));

  document.getElementById("publish").addEventListener("click", async (event) => {
    errorBox.textContent = "";
    try {
      const note = document.getElementById("publish-note").value;
      const version = await post(event.target.dataset.url, { note });
      done(`Published taxonomy v${version.number} with ${version.tags.length} tags; descriptions are being tagged.`);
    } catch (error) {
      errorBox.textContent = error.message;
    }
  });

  document.getElementById("derive").addEventListener("click", async (event) => {
    errorBox.textContent = "";
    try {
      const job = await post(event.target.dataset.url, {});
      window.location.href = `/jobs/${job.id}/`;
    } catch (error) {
      errorBox.textContent = error.message;
    }
  });

  document.getElementById("audit").addEventListener("click", async (event) => {
    const button = event.target.closest("button.undo");
    if (!button) return;
    errorBox.textContent = "";
    try {
      const undone = await post(button.dataset.url, {});
      done(`Undone: ${undone.summary}`);
    } catch (error) {
      errorBox.textContent = error.message;
    }
  });
})();
