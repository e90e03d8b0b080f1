// Small behaviours without inline script (CSP): division cascade, SMS button, captcha refresh,
// confirmation before workflow buttons.
(function () {
  'use strict';
  function ready(fn) { if (document.readyState !== 'loading') fn(); else document.addEventListener('DOMContentLoaded', fn); }
  function csrf() { var el = document.querySelector('input[name=csrf_token]'); return el ? el.value : ''; }

  ready(function () {
    document.querySelectorAll('[data-division-cascade]').forEach(function (box) {
      var url = box.getAttribute('data-url');
      var selects = box.querySelectorAll('select');
      selects.forEach(function (sel, i) {
        sel.addEventListener('change', function () {
          for (var j = i + 1; j < selects.length; j++) { selects[j].length = 1; }
          if (!sel.value || i + 1 >= selects.length) return;
          fetch(url + '/' + sel.value).then(function (r) { return r.json(); }).then(function (rows) {
            var next = selects[i + 1];
            rows.forEach(function (row) { next.add(new Option(row.name, row.code)); });
          });
        });
      });
    });

    document.querySelectorAll('[data-sms-send]').forEach(function (btn) {
      btn.addEventListener('click', function () {
        var mobile = document.getElementById(btn.getAttribute('data-mobile-field')).value;
        var status = btn.parentNode.querySelector('[data-sms-status]');
        var body = new URLSearchParams({mobile: mobile, purpose: btn.getAttribute('data-purpose'), csrf_token: csrf()});
        btn.disabled = true;
        fetch(btn.getAttribute('data-url'), {method: 'POST', body: body, headers: {'X-CSRFToken': csrf()}})
          .then(function (r) { return r.json(); })
          .then(function (data) {
            status.textContent = data.message;
            status.className = 'ml-2 small ' + (data.ok ? 'text-success' : 'text-danger');
            if (!data.ok) { btn.disabled = false; return; }
            var left = 60;
            var timer = setInterval(function () {
              left -= 1; btn.textContent = left + 's';
              if (left <= 0) { clearInterval(timer); btn.disabled = false; btn.textContent = btn.getAttribute('data-label') || '获取验证码'; }
            }, 1000);
          })
          .catch(function () { btn.disabled = false; });
      });
      btn.setAttribute('data-label', btn.textContent);
    });

    document.querySelectorAll('img[data-captcha]').forEach(function (img) {
      img.style.cursor = 'pointer';
      img.addEventListener('click', function () { img.src = img.src.split('?')[0] + '?t=' + Date.now(); });
    });

    document.querySelectorAll('form[data-confirm]').forEach(function (form) {
      form.addEventListener('submit', function (ev) {
        if (form.getAttribute('data-confirmed')) return;
        if (!window.confirm(form.getAttribute('data-confirm'))) { ev.preventDefault(); return; }
        form.setAttribute('data-confirmed', '1');
        form.querySelectorAll('button[type=submit]').forEach(function (b) { b.disabled = true; });
      });
    });

    // Flask-Admin's bulk actions, bound here because CSP forbids its inline onclick handlers.
    document.querySelectorAll('[data-model-action]').forEach(function (link) {
      link.addEventListener('click', function (ev) {
        ev.preventDefault();
        if (window.modelActions) window.modelActions.execute(link.getAttribute('data-model-action'));
      });
    });

    // Flask-Admin's row checkboxes carry only a title: give them an accessible name too.
    document.querySelectorAll('.action-rowtoggle, .action-checkbox').forEach(function (box) {
      if (!box.getAttribute('aria-label') && box.title) box.setAttribute('aria-label', box.title);
    });

    // 批量录入检定结果: a new 检定日期 moves every 有效期至 still at its proposal (检定日期 + the
    // kind's 检定周期, the day before), as the server computes it; changed dates stay.
    var verifiedOn = document.getElementById('batch-verified-on');
    if (verifiedOn) {
      var propose = function (day, months) {
        var p = day.split('-').map(Number);
        var m = p[1] - 1 + months, y = p[0] + Math.floor(m / 12);
        m = m % 12;
        var last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
        var d = new Date(Date.UTC(y, m, Math.min(p[2], last)) - 86400000);
        return d.toISOString().slice(0, 10);
      };
      verifiedOn.addEventListener('change', function () {
        if (!/^\d{4}-\d{2}-\d{2}$/.test(verifiedOn.value)) return;
        document.querySelectorAll('.batch-until[data-period]').forEach(function (input) {
          if (input.value !== input.getAttribute('data-proposed')) return;
          var next = propose(verifiedOn.value, Number(input.getAttribute('data-period')));
          input.value = next;
          input.setAttribute('data-proposed', next);
        });
      });
    }

    document.querySelectorAll('[data-print]').forEach(function (btn) {
      btn.addEventListener('click', function () { window.print(); });
    });

    // Unsaved edits: a form marked data-unsaved-guard="<question>" asks before the user leaves
    // it with edits not yet saved, through a link (the menu, a breadcrumb) or the browser
    // (reload, back, closing: beforeunload). Saving the form itself never asks.
    document.querySelectorAll('form[data-unsaved-guard]').forEach(function (form) {
      var question = form.getAttribute('data-unsaved-guard');
      var dirty = false;
      var leaving = false;
      // Only fields that are posted count (a search box that filters a list is no edit).
      function edited(ev) { if (ev.target && ev.target.name) dirty = true; }
      form.addEventListener('input', edited);
      form.addEventListener('change', edited);
      form.addEventListener('submit', function (ev) { if (!ev.defaultPrevented) leaving = true; });
      document.addEventListener('click', function (ev) {
        if (!dirty || leaving || ev.defaultPrevented || ev.button !== 0) return;
        if (ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey) return;  // a new tab or window
        var link = ev.target.closest ? ev.target.closest('a[href]') : null;
        if (!link || link.target === '_blank' || link.hasAttribute('download')) return;
        var href = link.getAttribute('href');
        if (!href || href.charAt(0) === '#' || href.indexOf('javascript:') === 0) return;
        if (window.confirm(question)) leaving = true;
        else ev.preventDefault();
      });
      window.addEventListener('beforeunload', function (ev) {
        if (!dirty || leaving) return undefined;
        ev.preventDefault();
        ev.returnValue = question;
        return question;
      });
    });
  });
})();
