// servegate HTML report: filters by severity, rule family and text; the state lives in the URL hash
// (#severity=critical,high&family=network&q=triton) so a filtered view can be linked and reloaded.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) { return; }
  var findings = Array.prototype.slice.call(document.querySelectorAll("article.finding"));
  var files = Array.prototype.slice.call(document.querySelectorAll("section.file"));
  var figures = Array.prototype.slice.call(document.querySelectorAll("figure.exposure"));
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=severity]"));
  var family = form.elements.family;
  var query = form.elements.q;
  var shown = document.getElementById("shown");
  var noPaths = document.getElementById("no-paths");

  function readHash() {
    var params = new URLSearchParams(window.location.hash.slice(1));
    var severities = params.get("severity");
    var wanted = severities ? severities.split(",") : null;
    boxes.forEach(function (box) { box.checked = !wanted || wanted.indexOf(box.value) >= 0; });
    var fam = params.get("family") || "";
    family.value = Array.prototype.some.call(family.options, function (o) { return o.value === fam; }) ? fam : "";
    query.value = params.get("q") || "";
  }

  function writeHash() {
    var params = new URLSearchParams();
    var checked = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    if (checked.length !== boxes.length) { params.set("severity", checked.join(",")); }
    if (family.value) { params.set("family", family.value); }
    if (query.value.trim()) { params.set("q", query.value.trim()); }
    var hash = params.toString();
    history.replaceState(null, "", hash ? "#" + hash : window.location.pathname + window.location.search);
  }

  function apply() {
    var wanted = {};
    boxes.forEach(function (b) { if (b.checked) { wanted[b.value] = true; } });
    var fam = family.value;
    var words = query.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    var count = 0;
    findings.forEach(function (f) {
      var text = f.getAttribute("data-text");
      var visible = wanted[f.getAttribute("data-severity")] === true &&
        (!fam || f.getAttribute("data-family") === fam) &&
        words.every(function (w) { return text.indexOf(w) >= 0; });
      f.hidden = !visible;
      if (visible) { count += 1; }
    });
    files.forEach(function (s) { s.hidden = !s.querySelector("article.finding:not([hidden])"); });
    var pictures = 0;
    figures.forEach(function (fig) {
      var text = fig.getAttribute("data-text");
      fig.hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
      if (!fig.hidden) { pictures += 1; }
    });
    if (noPaths) { noPaths.hidden = pictures > 0; }
    shown.textContent = count + " of " + findings.length + " findings shown";
    document.body.setAttribute("data-shown", String(count));
  }

  function update() { writeHash(); apply(); }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.addEventListener("reset", function () { setTimeout(update, 0); });
  window.addEventListener("hashchange", function () { readHash(); apply(); });

  function only(setter) {
    return function (event) {
      setter(event.currentTarget);
      update();
      document.getElementById("findings").scrollIntoView();
    };
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-only-severity]"), function (button) {
    button.addEventListener("click", only(function (b) {
      boxes.forEach(function (box) { box.checked = box.value === b.getAttribute("data-only-severity"); });
    }));
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-only-family]"), function (button) {
    button.addEventListener("click", only(function (b) { family.value = b.getAttribute("data-only-family"); }));
  });
  Array.prototype.forEach.call(document.querySelectorAll(".node[data-search]"), function (node) {
    var pick = only(function (n) {
      boxes.forEach(function (box) { box.checked = true; });
      family.value = "";
      query.value = n.getAttribute("data-search");
    });
    node.addEventListener("click", pick);
    node.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); pick(event); }
    });
  });

  readHash();
  apply();
  document.body.setAttribute("data-ready", "true");
}());
