// "Similar sources" strips (templates/classifiers/similar_strip.html): the nearest cutouts in learned
// feature space, with their distance; inside a <details> a strip loads when it is opened.
(function () {
  async function fill(strip) {
    if (strip.dataset.loaded) return;
    strip.dataset.loaded = "1";
    try {
      const result = await rgz.request(strip.dataset.url);
      const list = document.createElement("ul");
      list.className = "similar-list";
      result.neighbours.forEach((n) => {
        const item = document.createElement("li");
        const img = document.createElement("img");
        Object.assign(img, { src: n.image_url, alt: `cutout ${n.name}`, width: 72, height: 72, loading: "lazy" });
        const caption = document.createElement("span");
        caption.textContent = `${n.name} (${n.survey}) · ${n.distance.toFixed(2)}`;
        item.append(img, caption);
        item.dataset.cutout = n.id;
        list.append(item);
      });
      strip.replaceChildren(list);
    } catch (error) {
      strip.textContent = error.message;
      strip.className = "similar-strip error";
    }
  }
  document.querySelectorAll(".similar-strip[data-url]").forEach((strip) => {
    const details = strip.closest("details");
    if (details) details.addEventListener("toggle", () => { if (details.open) fill(strip); });
    else fill(strip);
  });
})();
