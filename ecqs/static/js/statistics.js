// 统计分析: draws each [data-chart] element with Apache ECharts. The figures arrive as JSON in
// the data attribute (no inline script under the CSP); the table beside each chart has them too.
(function () {
  'use strict';
  function ready(fn) { if (document.readyState !== 'loading') fn(); else document.addEventListener('DOMContentLoaded', fn); }
  function option(data) {
    if (data.type === 'pie') {
      return {
        tooltip: { trigger: 'item' },
        legend: { bottom: 0, type: 'scroll' },
        series: [{
          type: 'pie', radius: ['35%', '65%'], name: data.series[0].name,
          data: data.categories.map(function (name, i) { return { name: name, value: data.series[0].data[i] }; })
        }]
      };
    }
    return {
      tooltip: { trigger: 'axis' },
      legend: { top: 0, type: 'scroll' },
      grid: { left: 48, right: 16, bottom: 72, top: 36 },
      xAxis: { type: 'category', data: data.categories, axisLabel: { interval: 0, rotate: data.categories.length > 6 ? 30 : 0 } },
      yAxis: { type: 'value' },
      series: data.series.map(function (s) {
        var one = { type: 'bar', name: s.name, data: s.data };
        if (data.type === 'stack') one.stack = 'total';
        return one;
      })
    };
  }
  ready(function () {
    if (!window.echarts) return;
    var charts = [];
    document.querySelectorAll('[data-chart]').forEach(function (el) {
      var chart = window.echarts.init(el, null, { renderer: 'svg' });
      chart.setOption(option(JSON.parse(el.getAttribute('data-chart'))));
      el.setAttribute('data-drawn', '1');
      charts.push(chart);
    });
    window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
  });
})();
