// The volunteer's classify page: the workflow's tasks beside the radio image tools
// (static/js/image_viewer.js), and a submit that is stored exactly once (an idempotency key per
// subject shown).
(function () {
  "use strict";
  const root = document.getElementById("classify");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const canvas = $("sky");
  const form = $("classification-form");
  const submit = $("submit");
  const caption = $("subject-caption");
  const formError = $("form-error");
  const image = window.rgzImage;
  const state = { subject: null, key: null, startedAt: null, busy: false, retryTimer: null, lastInput: "pointer" };

  // ---- loading subjects ----------------------------------------------------------------
  // A local queue as Zooniverse's front end keeps: GET queue/next?n=BATCH leases a batch (the
  // subjects this volunteer already holds first), the next QUEUE_PRELOAD subjects' pixels and
  // contours are fetched ahead, and Done shows the next one at once while its answer is sent.
  const BATCH = 5;
  const REFILL_BELOW = 2;
  const QUEUE_PRELOAD = 2;
  const LEASE_MARGIN_MS = 2000;  // drop a queued subject whose lease has (all but) run out
  const local = { items: [], done: new Set(), refilling: null, empty: null };

  function queuedIds() {
    return new Set(local.items.map((item) => item.subject.id));
  }

  function refill() {
    if (local.refilling) return local.refilling;
    local.refilling = (async () => {
      try {
        const body = await window.rgz.request(`${root.dataset.queueUrl}&n=${BATCH}`);
        const known = queuedIds();
        if (state.subject) known.add(state.subject.id);
        for (const item of body.subjects || []) {
          const id = item.subject.id;
          if (local.done.has(id) || known.has(id)) continue;
          local.items.push({
          subject: item.subject,
          realism_question: item.realism_question,
          expires: Date.parse(item.lease_expires_at) || Infinity,
        });
          known.add(id);
        }
        local.empty = local.items.length ? null : body;
      } finally {
        local.refilling = null;
      }
      preload();
    })();
    return local.refilling;
  }

  function preload() {
    local.items.slice(0, QUEUE_PRELOAD).forEach((item) => { if (!item.data) item.data = image.fetchImage(item.subject); });
  }

  function takeQueued() {
    const now = Date.now();
    local.items = local.items.filter((item) => item.expires - LEASE_MARGIN_MS > now);
    return local.items.shift() || null;
  }

  async function loadNext() {
    state.busy = true;
    submit.disabled = true;
    form.reset();
    $("realism").hidden = true;
    if (window.rgzDrawing) window.rgzDrawing.reset();
    clearTimeout(state.retryTimer);
    try {
      let item = takeQueued();
      if (!item) {
        caption.textContent = "Loading the next radio source…";
        await refill();
        item = takeQueued();
      }
      if (!item) {
        const next = local.empty || {};
        state.subject = null;
        await image.show(null);
        delete root.dataset.subjectId;
        caption.textContent = next.detail || "Nothing left to classify. Thank you!";
        // Subjects are left but leased to others: ask again when the server says.
        if (next.retry_after) retryLater(next.retry_after);
        return;
      }
      state.subject = item.subject;
      state.key = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
      state.startedAt = new Date().toISOString();
      await image.show(item.subject, item.data);
      // Where generated subjects are served, no subject shows its position before the answer.
      const where = item.subject.ra_deg != null
        ? ` at RA ${item.subject.ra_deg.toFixed(4)}°, Dec ${item.subject.dec_deg.toFixed(4)}°`
        : item.subject.position_withheld ? " (its sky position is shown after you answer)" : "";
      // Generated subjects are not marked before the answer (the realism question is blind);
      // the response to the answer says when one was generated.
      caption.textContent = `${item.subject.name}${where}`;
      $("realism").hidden = !item.realism_question;
      canvas.setAttribute("aria-label", `Radio cutout of ${item.subject.name}. Drag or use the arrow keys to pan, + and - to zoom.`);
      root.dataset.subjectId = String(item.subject.id);  // drawn: the browser tests wait on it
      submit.disabled = false;
      preload();
      if (local.items.length < REFILL_BELOW) refill().catch(() => {});  // the next batch, in the background
    } catch (error) {
      caption.textContent = `Could not load a source: ${error.message}`;
      if (error.status === 429 && error.retryAfter) retryLater(error.retryAfter);
    } finally {
      state.busy = false;
    }
  }

  function retryLater(seconds) {
    state.retryTimer = setTimeout(loadNext, Math.min(seconds, 60) * 1000);
  }

  // The answer to the blinded "real or generated?" question, when it was asked and answered.
  function realismPicked() {
    if ($("realism").hidden) return null;
    const picked = form.querySelector("input[name=realism]:checked");
    return picked ? picked.value : null;
  }

  // After Done the next subject is shown from the top; keyboard users land on its first answer.
  function showNextSubject() {
    const top = root.getBoundingClientRect().top + window.scrollY - 8;
    if (window.scrollY > top) window.scrollTo({ top: Math.max(0, top), behavior: "instant" });
    if (state.lastInput === "keyboard") {
      const first = form.querySelector(".task input");
      if (first) first.focus({ preventScroll: true });
    }
  }

  // ---- the classification ----------------------------------------------------------------
  function collectAnnotations() {
    const annotations = [];
    for (const task of form.querySelectorAll(".task")) {
      const key = task.dataset.task;
      const type = task.dataset.type;
      if (type === "single") {
        const picked = task.querySelector("input:checked");
        if (picked) annotations.push({ task: key, value: parseInt(picked.value, 10) });
        else if (task.dataset.required) throw new Error(`Please answer: ${task.querySelector("legend").textContent.trim()}`);
      } else if (type === "multiple") {
        const values = [...task.querySelectorAll("input:checked")].map((i) => parseInt(i.value, 10));
        if (values.length || !task.dataset.required) annotations.push({ task: key, value: values });
        else throw new Error(`Please answer: ${task.querySelector("legend").textContent.trim()}`);
      } else if (type === "text") {
        const text = task.querySelector("textarea").value.trim();
        if (text) annotations.push({ task: key, value: text });
      } else if (type === "tags") {
        const tags = [...task.querySelectorAll("input:checked")].map((i) => i.value);
        if (tags.length) annotations.push({ task: key, value: tags });
      } else if ((type === "drawing" || type === "radio_components") && window.rgzDrawing) {
        const value = window.rgzDrawing.value(key);
        if (value.length) annotations.push({ task: key, value });
        else if (task.dataset.required) throw new Error(`Please answer: ${task.querySelector("legend").textContent.trim()}`);
      }
    }
    return annotations;
  }

  async function send(body, attempt, key) {
    try {
      return await window.rgz.request(root.dataset.submitUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Idempotency-Key": key },
        body: JSON.stringify(body),
      });
    } catch (error) {
      // Network failures and 5xx are retried with the same key: the server stores it once.
      if ((error.status === undefined || error.status >= 500) && attempt < 3) {
        await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
        return send(body, attempt + 1, key);
      }
      throw error;
    }
  }

  // After a gold-standard subject: what the experts answered, beside the volunteer's answer.
  // After a generated subject: say so (volunteers are told in the field guide that some are).
  // After a subject whose position was withheld: where it lies (none for a generated one).
  function showSyntheticNotice(notice, answered, stored) {
    const box = $("synthetic-notice");
    if (!box) return;
    const position = answered && answered.position_withheld && stored && stored.subject_position;
    const sky = window.rgzSky;
    const where = position
      ? `${answered.name} lies at RA ${sky.formatRA(position.ra_deg)} Dec ${sky.formatDec(position.dec_deg)}.`
      : "";
    const text = notice || where;
    box.hidden = !text;
    box.textContent = text;
  }

  function showGoldFeedback(feedback) {
    const box = $("gold-feedback");
    if (!box) return;
    box.hidden = !feedback;
    if (!feedback) return;
    const title = document.createElement("strong");
    title.textContent = feedback.agree ? "You agreed with the experts on that one." : "The experts saw that one differently.";
    const list = document.createElement("ul");
    feedback.questions.forEach((q) => {
      const item = document.createElement("li");
      item.textContent = `${q.question} Experts: ${q.expert}. You: ${q.yours.join(", ") || "no answer"}.`;
      item.className = q.agree ? "ok" : "";
      list.append(item);
    });
    box.className = `gold-feedback ${feedback.agree ? "agree" : "differ"}`;
    box.replaceChildren(title, list);
  }

  // Done: the answer is sent while the next subject (already here) is shown. A failure is
  // reported with the subject it was for; network failures and 5xx are retried with the same key.
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!state.subject || state.busy) return;
    formError.hidden = true;
    let annotations;
    try {
      annotations = collectAnnotations();
    } catch (error) {
      formError.textContent = error.message;
      formError.hidden = false;
      return;
    }
    const answered = state.subject;
    const body = {
      workflow: parseInt(root.dataset.workflow, 10),
      workflow_version: root.dataset.version,
      subject: answered.id,
      annotations,
      started_at: state.startedAt,
      finished_at: new Date().toISOString(),
      metadata: { viewport: { width: window.innerWidth, height: window.innerHeight },
                  stretch: image.stretch(), zoom: image.zoom() },
      realism: realismPicked(),
    };
    local.done.add(answered.id);
    showGoldFeedback(null);
    showSyntheticNotice(null);
    const sending = send(body, 0, state.key);
    await loadNext();
    showNextSubject();
    try {
      const stored = await sending;
      const count = $("count");
      count.textContent = String(parseInt(count.textContent, 10) + 1);
      showGoldFeedback(stored && stored.gold_feedback);
      showSyntheticNotice(stored && stored.synthetic_notice, answered, stored);
    } catch (error) {
      // Retired or already classified (409): nothing to redo. Otherwise the answer is lost: say so.
      formError.textContent = error.status === 409
        ? `${answered.name} was not saved: ${error.message}`
        : `Your answer for ${answered.name} was not saved: ${error.message}`;
      formError.hidden = false;
    }
  });

  // A picked answer clears the "Please answer" message.
  form.addEventListener("change", (e) => {
    if (e.target.closest('.task[data-required="true"]') && formError.textContent.startsWith("Please answer")) {
      formError.hidden = true;
      formError.textContent = "";
    }
  });

  document.addEventListener("keydown", (e) => {
    state.lastInput = "keyboard";
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); return; }
    const typing = ["TEXTAREA", "INPUT", "SELECT"].includes(document.activeElement.tagName) &&
      !["radio", "checkbox", "range"].includes(document.activeElement.type);
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const firstQuestion = form.querySelector('.task[data-type="single"], .task[data-type="multiple"]');
    if (/^[1-9]$/.test(e.key) && firstQuestion) {
      const input = firstQuestion.querySelectorAll("input")[parseInt(e.key, 10) - 1];
      if (input) {
        input.checked = input.type === "radio" ? true : !input.checked;
        input.focus();
        input.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }
  });
  document.addEventListener("pointerdown", () => { state.lastInput = "pointer"; }, true);

  loadNext();
})();
