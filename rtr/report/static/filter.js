/* Row filter for report tables and the all-pages patient/lot search. Local file, no network. */
(function () {
  "use strict";
  function filterTable(input) {
    var table = document.getElementById(input.getAttribute("data-target"));
    if (!table) { return; }
    var needle = input.value.trim().toLowerCase();
    var rows = table.tBodies[0].rows;
    for (var i = 0; i < rows.length; i++) {
      var text = rows[i].textContent.toLowerCase();
      rows[i].style.display = needle === "" || text.indexOf(needle) !== -1 ? "" : "none";
    }
  }
  var inputs = document.querySelectorAll("input.filter");
  for (var i = 0; i < inputs.length; i++) {
    inputs[i].addEventListener("input", function (event) { filterTable(event.target); });
  }
  /* Search across every index page: the id list is a script file, which file:// can load. */
  var search = document.getElementById("id-search");
  var results = document.getElementById("id-search-results");
  if (search && results && window.RTR_SEARCH) {
    search.addEventListener("input", function () {
      var needle = search.value.trim().toLowerCase();
      results.innerHTML = "";
      if (needle.length < 1) { return; }
      var shown = 0;
      for (var j = 0; j < window.RTR_SEARCH.length && shown < 50; j++) {
        var entry = window.RTR_SEARCH[j];
        if (entry[0].toLowerCase().indexOf(needle) !== -1) {
          var li = document.createElement("li");
          var a = document.createElement("a");
          a.href = entry[1];
          a.textContent = entry[0] + (entry[2] ? " (" + entry[2] + ")" : "");
          li.appendChild(a);
          results.appendChild(li);
          shown++;
        }
      }
    });
  }
})();
