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
        result = await post(`${api}${id}/${action}/`, { revision });
        done(`${action === "approve" ? "Approved" : "Retired"} “${result.name}”.`);
      } else if (action === "rename") {
        const name = row.querySelector(".rename-name").value;
        const description = row.querySelector(".rename-description").value;
        result = await post(`${api}${id}/rename/`, { revision, name, description });
        done(`Renamed to “${result.name}”.`);
      } else if (action === "merge" || action === "synonym-of") {
        const other = tagByName(row.querySelector(".merge-into").value);
        if (!other) throw new Error("Choose the other tag by its name from the list.");
        result = await post(`${api}${id}/${action}/`, { revision, into: parseInt(other.id, 10), into_revision: other.revision });
        done(`“${row.dataset.name}” ${action === "merge" ? "merged into" : "is now a synonym of"} “${result.name}”.`);
      } else if (action === "split") {
        const keys = [...row.querySelectorAll(".split-key:checked")].map((c) => c.value);
        const name = row.querySelector(".split-name").value;
        result = await post(`${api}${id}/split/`, { revision, name, keys });
        done(`Split “${result.name}” out of “${row.dataset.name}”.`);
      }
    } catch (error) {
      errorBox.textContent = error.message;
      button.disabled = false;
    }
  });

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
