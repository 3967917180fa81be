// Charts of the indicator page: the trend with the target line, and bars by child division.
// Data comes from the page through json_script (no inline scripts: the CSP forbids them).
(function () {
  "use strict";
  function start() {
    var source = document.getElementById("indicator-chart-data");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var unit = data.unit || "";
    var trendBox = document.getElementById("trend-chart");
    if (trendBox) {
      var series = [{ name: data.series_label, type: "line", data: data.values, connectNulls: false, symbolSize: 8, showAllSymbol: true,
                      label: { show: true, formatter: function (p) { return p.value == null ? "" : p.value + unit; } } }];
      data.targets.forEach(function (t) {
        series.push({ name: data.target_label + " " + t.label + unit, type: "line", symbol: "none",
                      lineStyle: { type: "dashed" },
                      data: data.periods.map(function () { return t.value; }) });
      });
      var trend = window.echarts.init(trendBox);
      trend.setOption({
        title: { text: data.name, left: "center", textStyle: { fontSize: 13 } },
        tooltip: { trigger: "axis" }, legend: { bottom: 0 },
        grid: { left: 48, right: 16, top: 36, bottom: 48 },
        xAxis: { type: "category", data: data.periods },
        yAxis: { type: "value", axisLabel: { formatter: "{value}" + unit } },
        series: series
      });
      window.addEventListener("resize", function () { trend.resize(); });
    }
    var barBox = document.getElementById("children-chart");
    if (barBox && data.children.length) {
      var bars = window.echarts.init(barBox);
      bars.setOption({
        tooltip: { trigger: "axis" },
        grid: { left: 48, right: 16, top: 16, bottom: 64 },
        xAxis: { type: "category", data: data.children.map(function (c) { return c.name; }),
                 axisLabel: { rotate: 30 } },
        yAxis: { type: "value", axisLabel: { formatter: "{value}" + unit } },
        series: [{ name: data.series_label, type: "bar",
                   data: data.children.map(function (c) { return c.value; }),
                   markLine: data.targets.length ? { symbol: "none", lineStyle: { type: "dashed" },
                     data: data.targets.map(function (t) { return { yAxis: t.value, name: t.label }; }) } : undefined }]
      });
      window.addEventListener("resize", function () { bars.resize(); });
    } else if (barBox) {
      barBox.style.display = "none";
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
