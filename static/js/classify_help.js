// Help on the classify page: the first-visit tutorial (shown once, reopened from its button),
// the field guide, and the filter over a long list of tags.
(function () {
  "use strict";
  const root = document.getElementById("classify");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const SEEN_KEY = "rgz.tutorialSeen";

  // ---- field guide ----
  $("open-guide").addEventListener("click", () => $("guide").showModal());

  // ---- tutorial ----
  const tutorial = $("tutorial");
  const steps = [...tutorial.querySelectorAll(".tutorial-step")];
  let step = 0;

  function show(index) {
    step = Math.max(0, Math.min(steps.length - 1, index));
    steps.forEach((section, i) => { section.hidden = i !== step; });
    $("tutorial-back").disabled = step === 0;
    $("tutorial-next").hidden = step === steps.length - 1;
    $("tutorial-done").hidden = step !== steps.length - 1;
    ($("tutorial-next").hidden ? $("tutorial-done") : $("tutorial-next")).focus();
  }

  function open() {
    show(0);
    tutorial.showModal();
    show(0);
  }

  function seen() {
    try { return localStorage.getItem(SEEN_KEY) === "1"; } catch (error) { return false; }
  }

  function remember() {
    try { localStorage.setItem(SEEN_KEY, "1"); } catch (error) { /* private mode: shown again next time */ }
    if (root.dataset.signedIn === "true" && root.dataset.tutorialSeen !== "true") {
      root.dataset.tutorialSeen = "true";
      window.rgz.request(root.dataset.tutorialUrl, { method: "POST" }).catch(() => {
        root.dataset.tutorialSeen = "false";  // asked again on the next visit
      });
    }
  }

  $("tutorial-back").addEventListener("click", () => show(step - 1));
  $("tutorial-next").addEventListener("click", () => show(step + 1));
  $("tutorial-done").addEventListener("click", () => tutorial.close());
  tutorial.addEventListener("close", () => {
    remember();
    $("sky").focus({ preventScroll: true });
  });
  $("open-tutorial").addEventListener("click", open);
  if (!seen() && root.dataset.tutorialSeen !== "true") open();
  else remember();  // seen in this browser or by this account: keep both in step

  // ---- tag filter: words typed match the start of any word of a tag ----
  document.querySelectorAll(".tag-filter").forEach((input) => {
    const labels = [...input.closest(".task").querySelectorAll("label.tag")];
    input.addEventListener("input", () => {
      const words = input.value.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
      labels.forEach((label) => {
        const tagWords = label.textContent.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
        const match = words.every((w) => tagWords.some((t) => t.startsWith(w)));
        label.hidden = !(match || label.querySelector("input").checked);
      });
    });
  });
})();
