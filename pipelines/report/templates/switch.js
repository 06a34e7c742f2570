(function () {
  // Both languages are in the page; switching only changes <html lang>, which the stylesheet follows.
  var root = document.documentElement;
  var button = document.getElementById("lang-switch");
  if (!button) { return; }
  button.addEventListener("click", function () {
    var next = root.lang === "vi" ? "en" : "vi";
    root.lang = next;
    document.title = root.getAttribute("data-title-" + next) || document.title;
  });
})();
