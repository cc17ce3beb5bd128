/* 审批流程 editor, progressive enhancement only: hide the fields that do not apply to a step's
   type. Without JavaScript every field is shown and the server ignores the ones that do not apply. */
(function () {
  "use strict";
  function apply(step) {
    var select = step.querySelector("select.wf-type");
    if (!select) { return; }
    var type = select.value;
    step.className = step.className.replace(/\bwf-step-\w+/, "wf-step-" + type);
    step.querySelectorAll(".field[data-types]").forEach(function (field) {
      var on = field.getAttribute("data-types").split(" ").indexOf(type) !== -1;
      field.classList.toggle("wf-off", !on);
    });
  }
  document.querySelectorAll(".wf-step").forEach(function (step) {
    apply(step);
    var select = step.querySelector("select.wf-type");
    if (select) { select.addEventListener("change", function () { apply(step); }); }
  });
})();
