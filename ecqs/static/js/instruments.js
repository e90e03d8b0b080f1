// Instrument module behaviours without inline script (CSP): expiry row colours, the item →
// kind filter of the ledger form, and "select this page" in the booking chooser.
(function () {
  'use strict';
  function ready(fn) { if (document.readyState !== 'loading') fn(); else document.addEventListener('DOMContentLoaded', fn); }
  ready(function () {
    document.querySelectorAll('[data-row-class]').forEach(function (el) {
      var row = el.closest('tr');
      if (row) row.classList.add(el.getAttribute('data-row-class'));
    });

    var item = document.getElementById('item_id');
    var kind = document.getElementById('kind_id');
    if (item && kind) {
      var filter = function () {
        var label = item.options[item.selectedIndex] ? item.options[item.selectedIndex].text.replace(/（.*$/, '') : '';
        kind.querySelectorAll('optgroup').forEach(function (group) {
          var show = !item.value || item.value === '0' || group.label === label;
          group.hidden = !show;
          group.disabled = !show;
        });
        var chosen = kind.options[kind.selectedIndex];
        if (chosen && chosen.parentNode.tagName === 'OPTGROUP' && chosen.parentNode.disabled) kind.value = '0';
      };
      item.addEventListener('change', filter);
      filter();
    }

    var page = document.getElementById('select-page');
    if (page) {
      page.addEventListener('change', function () {
        document.querySelectorAll('.chooser-row').forEach(function (box) { box.checked = page.checked; });
      });
    }
  });
})();
