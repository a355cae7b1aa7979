// Instructors print the book. Speaker notes (with each lab's timing) and collapsed demos are
// <details> elements, which a browser does not print while they are closed: open them all
// before printing, and on the print page (print.html, every chapter in one) from the start.
(function () {
  "use strict";
  function openAll() {
    document.querySelectorAll("details").forEach(function (d) {
      d.open = true;
    });
  }
  window.addEventListener("beforeprint", openAll);
  var printPage = /(^|\/)print\.html$/.test(window.location.pathname);
  if (printPage) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", openAll);
    } else {
      openAll();
    }
  }
})();
