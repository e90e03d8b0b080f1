// 生产企业许可申请 — item page: show only the items of the chosen licence type and preview the
// approving authority (any national-level item -> SAMR, else the provincial bureau). The server
// decides again on save; this only helps the user see it before submitting.
(function () {
  'use strict';
  function ready(fn) { if (document.readyState !== 'loading') fn(); else document.addEventListener('DOMContentLoaded', fn); }
  ready(function () {
    var form = document.querySelector('form[data-licence-items]');
    if (!form) return;
    var typeSelect = form.querySelector('select[name=licence_type]');
    var rows = form.querySelectorAll('#licence-items [data-type]');
    var nameBox = document.getElementById('authority-name');
    function refresh() {
      var type = typeSelect.value;
      var national = false;
      rows.forEach(function (row) {
        var box = row.querySelector('input');
        var show = type && row.getAttribute('data-type') === type;
        row.style.display = show ? '' : 'none';
        if (!show) box.checked = false;
        if (box.checked && row.getAttribute('data-approval') === 'national') national = true;
      });
      var hint = document.getElementById('licence-items-hint');
      if (hint) hint.style.display = type ? 'none' : '';
      var name = form.getAttribute(national ? 'data-national' : 'data-provincial');
      nameBox.textContent = name || form.getAttribute('data-missing');
    }
    typeSelect.addEventListener('change', refresh);
    rows.forEach(function (row) { row.querySelector('input').addEventListener('change', refresh); });
    refresh();
  });
})();
