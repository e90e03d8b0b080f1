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
    var groups = form.querySelectorAll('#licence-items [data-group]');
    var search = document.getElementById('licence-items-search');
    var nameBox = document.getElementById('authority-name');
    // Items are grouped by 设备类别; the search box narrows them (every word must match the
    // category or the item, case-insensitive). Another licence type unchecks the items it
    // hides; the search only hides, so a checked item stays checked.
    function words() {
      return (search ? search.value : '').toLowerCase().split(/\s+/).filter(function (w) { return w; });
    }
    function refresh() {
      var type = typeSelect.value;
      var wanted = words();
      var national = false;
      var matched = 0;
      rows.forEach(function (row) {
        var box = row.querySelector('input');
        var ofType = type && row.getAttribute('data-type') === type;
        if (!ofType) box.checked = false;
        var text = (row.getAttribute('data-search') || '').toLowerCase();
        var matches = wanted.every(function (w) { return text.indexOf(w) !== -1; });
        var show = ofType && (matches || box.checked);
        row.style.display = show ? '' : 'none';
        if (ofType && matches) matched += 1;
        if (box.checked && row.getAttribute('data-approval') === 'national') national = true;
      });
      groups.forEach(function (group) {
        var any = Array.prototype.some.call(group.querySelectorAll('[data-type]'), function (row) {
          return row.style.display !== 'none';
        });
        group.style.display = any ? '' : 'none';
      });
      var hint = document.getElementById('licence-items-hint');
      if (hint) hint.style.display = type ? 'none' : '';
      var none = document.getElementById('licence-items-none');
      if (none) none.hidden = !(type && matched === 0);
      var name = form.getAttribute(national ? 'data-national' : 'data-provincial');
      nameBox.textContent = name || form.getAttribute('data-missing');
    }
    typeSelect.addEventListener('change', refresh);
    if (search) {
      search.addEventListener('input', refresh);
      // Enter in the search box filters; it never submits the form.
      search.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') ev.preventDefault(); });
    }
    rows.forEach(function (row) { row.querySelector('input').addEventListener('change', refresh); });
    refresh();
  });
})();
