// Progress bars of background jobs (我的导出): poll each running job's progress.json every
// second and update the bar, the counts and the time left; reveal the download link when done.
(function () {
  "use strict";
  function update(box, state) {
    var bar = box.querySelector(".progress-bar");
    bar.style.width = state.percent + "%";
    bar.textContent = state.percent + "%";
    bar.setAttribute("aria-valuenow", state.percent);
    box.querySelector(".job-status").textContent = state.status_label;
    box.querySelector(".job-done").textContent = state.done;
    box.querySelector(".job-total").textContent = state.total === null ? "?" : state.total;
    var eta = box.querySelector(".job-eta");
    if (state.eta_seconds === null || state.status !== "running") {
      eta.hidden = true;
    } else {
      eta.hidden = false;
      box.querySelector(".job-eta-seconds").textContent = Math.round(state.eta_seconds);
    }
    box.dataset.status = state.status;
    if (state.status === "done" || state.status === "failed") {
      bar.classList.remove("progress-bar-striped", "progress-bar-animated");
      bar.classList.add(state.status === "done" ? "bg-success" : "bg-danger");
      window.location.reload();  // the page shows the outcome: download link, message, report
    }
  }
  function poll(box) {
    if (box.dataset.status === "done" || box.dataset.status === "failed" || box.dataset.status === "expired") {
      return;
    }
    fetch(box.dataset.jobProgress, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (state) {
        update(box, state);
        window.setTimeout(function () { poll(box); }, 1000);
      })
      .catch(function () { window.setTimeout(function () { poll(box); }, 3000); });
  }
  document.querySelectorAll("[data-job-progress]").forEach(poll);
})();
