// myNexK portal: the little script the pages use (CSP script-src 'self': no inline script). Every form works
// without it; it only makes failures visible and keeps the address bar honest.
(function () {
  "use strict";

  // A form re-rendered after a failed POST names the page it belongs to (<meta name="nexk-page-url">): put
  // that address in the address bar so a reload or a bookmark never lands on a POST-only URL. The form and
  // what the person typed stay as they are.
  function showPageUrl() {
    var meta = document.querySelector('meta[name="nexk-page-url"]');
    if (meta && window.history && window.history.replaceState) {
      window.history.replaceState(null, "", meta.getAttribute("content") + window.location.hash);
    }
  }

  // Errors are announced and in view: focus moves to the error summary (role="alert"), scrolled into view.
  function focusErrors(root) {
    var summary = (root || document).querySelector("[data-error-summary]");
    if (summary) {
      summary.scrollIntoView({ block: "center" });
      summary.focus({ preventScroll: true });
    }
  }

  // A failed htmx request (4xx/5xx or no answer) is shown to the person, never only in the console.
  function showRequestError(event) {
    var box = document.getElementById("request-error");
    if (!box) { return; }
    var xhr = event.detail && event.detail.xhr;
    var text = box.getAttribute("data-message");
    if (xhr && xhr.status) { text += " (" + xhr.status + ")"; }
    box.querySelector("p").textContent = text;
    box.hidden = false;
    box.focus({ preventScroll: false });
  }

  function hideRequestError() {
    var box = document.getElementById("request-error");
    if (box) { box.hidden = true; }
  }

  // A hurried double click sends a form once: later submits of a form already on its way are ignored (htmx
  // filter forms excepted: each change is a new query). A page restored by the back button is usable again.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("hx-get")) { return; }
    if (form.getAttribute("data-submitting")) { event.preventDefault(); return; }
    form.setAttribute("data-submitting", "true");
    // A form answered by a download (an export) leaves the page in place: usable again a moment later.
    window.setTimeout(function () { form.removeAttribute("data-submitting"); }, 4000);
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      form.removeAttribute("data-submitting");
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    showPageUrl();
    focusErrors(document);
  });
  document.addEventListener("htmx:responseError", showRequestError);
  document.addEventListener("htmx:sendError", showRequestError);
  document.addEventListener("htmx:beforeRequest", hideRequestError);
})();
