// Marks JavaScript support and starts GOV.UK Frontend's components.
// Kept in a file so the Content-Security-Policy can forbid inline script.
import { initAll } from "/static/govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();

// 'Print this page' buttons (shown only when JavaScript runs; without it the
// browser's own print command does the same).
for (const button of document.querySelectorAll("[data-mantra-print]")) {
  button.addEventListener("click", () => window.print());
}
