// lrnotes: mark boxes whose content runs past an edge (wide maths, wide tables), so that
// lrnotes.css can fade that edge: the reader sees there is more, on any screen.
(function () {
  "use strict";
  var SEL = 'mjx-container[display="true"], .pst-scrollable-table-container, div.cell_output div.output';
  function update(el) {
    var room = el.scrollWidth - el.clientWidth;
    el.classList.toggle("lrnotes-more-left", room > 1 && el.scrollLeft > 1);
    el.classList.toggle("lrnotes-more-right", room > 1 && el.scrollLeft < room - 1);
  }
  function all() {
    document.querySelectorAll(SEL).forEach(function (el) {
      if (!el.dataset.lrnotesScroll) {
        el.dataset.lrnotesScroll = "1";
        el.addEventListener("scroll", function () { update(el); }, { passive: true });
      }
      update(el);
    });
  }
  function afterMaths() {
    all();
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(all);
    }
  }
  window.addEventListener("load", afterMaths);
  window.addEventListener("resize", all);
  [500, 2000, 5000].forEach(function (ms) { setTimeout(afterMaths, ms); });
})();
