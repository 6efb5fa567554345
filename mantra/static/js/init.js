// Marks JavaScript support and starts GOV.UK Frontend's components.
// Kept in a file so the Content-Security-Policy can forbid inline script.
import { initAll } from "/static/govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
