(function () {
  var data = JSON.parse(document.getElementById("search-data").textContent);
  var box = document.getElementById("q"), list = document.getElementById("results");
  var count = document.getElementById("count");
  function norm(s) { return s.toLowerCase().replace(/\u0451/g, "\u0435"); }
  function snippet(text, word) {
    var i = word ? norm(text).indexOf(word) : -1;
    var a = Math.max(0, i < 0 ? 0 : i - 50);
    return (a > 0 ? "\u2026" : "") + text.substr(a, 160) + (text.length > a + 160 ? "\u2026" : "");
  }
  function search() {
    var q = norm(box.value.trim()), hits = [];
    while (list.firstChild) { list.removeChild(list.firstChild); }
    if (!q) { count.textContent = ""; return []; }
    var words = q.split(/\s+/);
    data.forEach(function (e, i) {
      var id = norm(e.id), s = 0;
      if (id === q) { s = 100; }
      else if (e.c && norm(e.c) === q) { s = 60; }
      else if (id.indexOf(q) === 0) { s = 50; }
      else if (id.indexOf(q) >= 0) { s = 30; }
      else {
        var t = norm(e.id + " " + e.x);
        if (words.every(function (w) { return t.indexOf(w) >= 0; })) { s = 10; }
      }
      if (s) { hits.push([s, i, e]); }
    });
    hits.sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; });
    hits.slice(0, 30).forEach(function (h) {
      var e = h[2], li = document.createElement("li"), a = document.createElement("a");
      li.setAttribute("data-kind", e.k);
      li.setAttribute("data-id", e.id);
      a.href = e.u;
      a.textContent = e.t;
      li.appendChild(a);
      var what = document.createElement("span");
      what.className = "what";
      what.textContent = e.k === "clause" ? "paragraph" : "rule";
      li.appendChild(what);
      var snip = document.createElement("span");
      snip.className = "snip";
      snip.textContent = snippet(e.x, words[0]);
      li.appendChild(snip);
      list.appendChild(li);
    });
    count.textContent = hits.length === 0 ? "Nothing found." :
      hits.length + (hits.length === 1 ? " result" : " results") + (hits.length > 30 ? ", the first 30 shown" : "");
    return hits;
  }
  box.addEventListener("input", search);
  document.getElementById("search").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var first = list.querySelector("a");
    if (first) { window.location.href = first.href; }
  });
  if (box.value) { search(); }
})();
