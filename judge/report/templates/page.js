"use strict";
// The prompt filters of report.html: they only show and hide what the page already holds and
// write counts with textContent, so no model text ever passes through an HTML parser here.
(function () {
  var form = document.getElementById("filters");
  if (!form) {
    return;
  }
  var items = Array.prototype.slice.call(document.querySelectorAll("article.prompt"));
  var texts = items.map(function (el) { return el.textContent.toLowerCase(); });
  var count = document.getElementById("count");
  var field = function (name) { return form.elements.namedItem(name); };

  function keeps(el, i) {
    var d = el.dataset;
    var category = field("category") ? field("category").value : "";  // none without categories
    var outcome = field("outcome").value;
    var query = field("search").value.trim().toLowerCase();
    return (!category || d.category === category) &&
      (!outcome || d.outcome === outcome) &&
      (!field("split").checked || d.split === "1") &&
      (!field("invalid").checked || d.invalid === "1") &&
      (!field("skipped").checked || d.skipped === "1") &&
      (!query || texts[i].indexOf(query) !== -1);
  }

  function update() {
    var shown = 0;
    var tally = { tuned: 0, tie: 0, base: 0, invalid: 0 };
    items.forEach(function (el, i) {
      var keep = keeps(el, i);
      el.hidden = !keep;
      if (keep) {
        shown += 1;
        tally[el.dataset.outcome] += 1;
      }
    });
    count.dataset.shown = String(shown);
    count.textContent = shown + " of " + items.length + " prompts shown: tuned wins " +
      tally.tuned + ", ties " + tally.tie + ", base wins " + tally.base + ", invalid " +
      tally.invalid;
  }

  // A link to a prompt that the filters hide clears the filters first.
  function reveal() {
    var target = location.hash ? document.getElementById(location.hash.slice(1)) : null;
    if (target && target.hidden) {
      form.reset();
      update();
      target.scrollIntoView();
    }
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  form.addEventListener("reset", function () { window.setTimeout(update, 0); });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  window.addEventListener("hashchange", reveal);
  update();
  reveal();
})();
