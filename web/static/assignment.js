// The draw may take a few seconds on a large round: say so on the button and block a second click.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("draw-form");
  if (!form) return;
  form.addEventListener("submit", () => {
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    button.textContent = button.dataset.busy;
    form.setAttribute("aria-busy", "true");
  });
});
