// Volunteers' description box: as they type a phrase, approved tags of the published taxonomy
// that match it are offered; a click puts the tag's name in place of the phrase being typed.
(function () {
  const boxes = document.querySelectorAll(".tag-suggestions[data-for]");
  boxes.forEach((box) => {
    const textarea = document.getElementById(box.dataset.for);
    if (!textarea) return;
    let timer = null;
    let asked = "";

    function current() {
      const text = textarea.value.slice(0, textarea.selectionEnd ?? textarea.value.length);
      return text.split(/[,.;\n/]/).pop().trim();
    }
    function render(items) {
      box.replaceChildren();
      items.forEach((item) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "suggestion";
        button.textContent = item.name;
        if (item.matched !== item.name) button.title = `also written “${item.matched}”`;
        button.addEventListener("click", () => choose(item.name));
        box.appendChild(button);
      });
    }
    function choose(name) {
      const end = textarea.selectionEnd ?? textarea.value.length;
      const before = textarea.value.slice(0, end);
      const after = textarea.value.slice(end);
      const cut = Math.max(...[",", ".", ";", "\n", "/"].map((c) => before.lastIndexOf(c)));
      const head = cut >= 0 ? before.slice(0, cut + 1) + " " : "";
      textarea.value = (head + name + ", ").replace(/^\s+/, "") + after.replace(/^\s*,?\s*/, "");
      textarea.focus();
      render([]);
    }
    async function ask() {
      const q = current();
      if (q === asked) return;
      asked = q;
      if (q.length < 2) return render([]);
      try {
        const items = await window.rgz.request(`${box.dataset.url}?q=${encodeURIComponent(q)}`);
        if (q === asked) render(items);
      } catch (error) {
        render([]);  // suggestions are a help; the description box works without them
      }
    }
    if (textarea.form) textarea.form.addEventListener("reset", () => { asked = ""; render([]); });
    textarea.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(ask, 150);
    });
  });
})();
