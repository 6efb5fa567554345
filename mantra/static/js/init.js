// Marks JavaScript support and starts GOV.UK Frontend's components.
// Kept in a file so the Content-Security-Policy can forbid inline script.
import {
  Button,
  CharacterCount,
  Checkboxes,
  createAll,
  ErrorSummary,
  ExitThisPage,
  NotificationBanner,
  PasswordInput,
  SkipLink,
} from "/static/govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
for (const component of [
  Button,
  CharacterCount,
  Checkboxes,
  ErrorSummary,
  ExitThisPage,
  NotificationBanner,
  PasswordInput,
  SkipLink,
]) {
  createAll(component);
}

// Radios with details revealed under an answer. GOV.UK Frontend's own Radios
// module sets aria-expanded on the radio, which ARIA does not allow there
// (axe-core: aria-allowed-attr, govuk-frontend issue 979); this shows and
// hides the same way and links the radio to what it reveals with
// aria-controls only. Without JavaScript everything is shown.
for (const radios of document.querySelectorAll('[data-module="govuk-radios"]')) {
  const inputs = [...radios.querySelectorAll('input[type="radio"]')];
  const sync = () => {
    for (const input of inputs) {
      const target = document.getElementById(input.dataset.ariaControls || input.getAttribute("aria-controls"));
      if (target) target.classList.toggle("govuk-radios__conditional--hidden", !input.checked);
    }
  };
  for (const input of inputs) {
    if (input.dataset.ariaControls) {
      input.setAttribute("aria-controls", input.dataset.ariaControls);
      input.removeAttribute("data-aria-controls");
    }
    input.addEventListener("change", sync);
  }
  sync();
}

// 'Print this page' buttons (shown only when JavaScript runs; without it the
// browser's own print command does the same).
for (const button of document.querySelectorAll("[data-mantra-print]")) {
  button.addEventListener("click", () => window.print());
}

// The timeout warning (GOV.UK's pattern): a few minutes before a time limit,
// a dialog offers 'Stay on this page', which restarts the clock on the
// server. Without JavaScript each page says the limit in plain words.
const timeout = document.querySelector("[data-mantra-timeout]");
if (timeout && typeof timeout.showModal === "function") {
  const warning = timeout.querySelector("[data-mantra-warning]");
  const ended = timeout.querySelector("[data-mantra-ended]");
  const stay = timeout.querySelector("[data-mantra-stay]");
  const close = timeout.querySelector("[data-mantra-close]");
  let timers = [];
  const schedule = (seconds, warn) => {
    timers.forEach(clearTimeout);
    timers = [
      setTimeout(() => timeout.showModal(), Math.max(seconds - warn, 0) * 1000),
      setTimeout(() => {
        warning.hidden = true;
        stay.hidden = true;
        ended.hidden = false;
        close.hidden = false;
        if (!timeout.open) timeout.showModal();
        close.focus();
      }, seconds * 1000),
    ];
  };
  stay.addEventListener("click", async () => {
    try {
      const response = await fetch(timeout.dataset.keepAlive, {
        method: "POST",
        headers: { "X-CSRFToken": timeout.dataset.csrf },
        credentials: "same-origin",
      });
      const left = await response.json();
      if (left.warning) warning.textContent = left.warning;
      schedule(left.seconds, Math.min(Number(timeout.dataset.warn), left.seconds));
    } catch {
      // Offline for a moment: the page itself still keeps what was typed.
    }
    timeout.close();
  });
  close.addEventListener("click", () => timeout.close());
  schedule(Number(timeout.dataset.seconds), Number(timeout.dataset.warn));
}
