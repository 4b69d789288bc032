// The round's draw runs in the background: block a second click, then follow the job's progress
// (stage, categories done / total, elapsed time) by polling its status until it is done or failed.
// When it is done the report and the assignments below are fetched again and replaced before the
// outcome is shown, so the page never says "新分配 N 条" above a report of the round before the draw.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("draw-form");
  if (form) {
    form.addEventListener("submit", () => {
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      button.textContent = button.dataset.busy;
      form.setAttribute("aria-busy", "true");
    });
  }
  const panel = document.getElementById("draw-job");
  if (!panel || !["queued", "running"].includes(panel.dataset.state)) return;
  const $ = (id) => document.getElementById(id);
  const message = $("job-message");
  let failures = 0;

  function show(job) {
    panel.dataset.state = job.state;
    $("job-stage").textContent = job.stage_label;
    $("job-categories").textContent = `${job.categories_done} / ${job.categories_total}`;
    $("job-elapsed").textContent = Number(job.elapsed_seconds).toFixed(1);
    const bar = $("job-progress");
    bar.max = job.categories_total || 1;
    bar.value = job.state === "done" ? bar.max : job.categories_done;
    if (job.message) {
      message.textContent = job.message;
      message.hidden = false;
    } else {
      message.hidden = true;
    }
    if (job.report) {
      $("job-summary").textContent = panel.dataset.summary
        .replace("{seed}", job.seed).replace("{new}", job.report.new).replace("{kept}", job.report.kept);
      const list = $("job-lines");
      list.replaceChildren(...job.report.lines.map((line) => {
        const item = document.createElement("li");
        item.textContent = line;
        return item;
      }));
      $("job-report").hidden = false;
    }
  }

  async function refreshReport() {
    const response = await fetch(window.location.href, {credentials: "same-origin", headers: {Accept: "text/html"}});
    if (!response.ok) throw new Error(String(response.status));
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const id of ["assignment-report", "assignment-manual"]) {
      const section = fresh.getElementById(id), old = document.getElementById(id);
      if (!section || !old) throw new Error(`no #${id}`);
      old.replaceWith(document.importNode(section, true));
    }
  }

  async function poll() {
    let job;
    try {
      const response = await fetch(panel.dataset.statusUrl, {headers: {Accept: "application/json"},
                                                             credentials: "same-origin"});
      if (response.status === 401) {
        message.textContent = panel.dataset.loggedOut;
        message.hidden = false;
        return;
      }
      if (!response.ok) throw new Error(String(response.status));
      job = await response.json();
      failures = 0;
    } catch (_error) {
      failures += 1;
      message.textContent = panel.dataset.lost;
      message.hidden = false;
      setTimeout(poll, Math.min(10000, 700 * 2 ** failures));
      return;
    }
    if (job.finished && job.state === "done") {
      try {
        await refreshReport();
      } catch (_error) {
        window.location.reload();   // the whole page then shows the outcome and its report together
        return;
      }
    }
    show(job);
    if (!job.finished) {
      setTimeout(poll, 700);
    } else if (form) {
      const button = form.querySelector("button[type=submit]");
      button.disabled = false;
    }
  }
  poll();
});
