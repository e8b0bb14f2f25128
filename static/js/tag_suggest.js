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
      let head = cut >= 0 ? before.slice(0, cut + 1) + " " : "";
      // The tag replaces the phrase it completes ("be" -> "bent tail"), else only the word being
      // typed ("a double with ben" -> "a double with bent tail").
      const phrase = before.slice(cut + 1).trim();
      if (!name.toLowerCase().startsWith(phrase.toLowerCase())) {
        head += phrase.slice(0, phrase.length - phrase.split(/\s+/).pop().length);
      }
      textarea.value = (head + name + ", ").replace(/^\s+/, "") + after.replace(/^\s*,?\s*/, "");
      textarea.focus();
      tick(name);
      render([]);
    }
    // The same tag ticked in the workflow's tag task, when it offers it: one vocabulary.
    function tick(name) {
      if (!textarea.form) return;
      const escaped = window.CSS && CSS.escape ? CSS.escape(name) : name.replace(/"/g, '\\"');
      const box = textarea.form.querySelector(`.task[data-type="tags"] input[value="${escaped}"]`);
      if (box) {
        box.checked = true;
        box.closest("label").hidden = false;
      }
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
