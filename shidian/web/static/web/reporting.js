// 挂图作战: the charts of the office dashboard, drawn from the page's |json_script data.
(function () {
  "use strict";

  var STATUS_COLOURS = {
    not_started: "#adb5bd", in_progress: "#0dcaf0", completed: "#198754", suspended: "#ffc107"
  };

  function chart(id) {
    var node = document.getElementById(id);
    if (!node || !window.echarts) { return null; }
    // Sizes come from data attributes: the CSP allows no inline style attributes.
    node.style.height = (node.dataset.height || "240") + "px";
    node.style.width = "100%";
    var instance = window.echarts.init(node, null, { renderer: "svg" });
    window.addEventListener("resize", function () { instance.resize(); });
    return instance;
  }

  function day(text) { return text ? new Date(text + "T00:00:00").getTime() : null; }

  function statusPie(data) {
    var c = chart("chart-status");
    if (!c) { return; }
    c.setOption({
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      series: [{
        type: "pie", radius: ["45%", "75%"], label: { formatter: "{b}\n{c}" },
        data: data.status.filter(function (s) { return s.value > 0; }).map(function (s) {
          return { name: s.name, value: s.value, itemStyle: { color: STATUS_COLOURS[s.key] } };
        })
      }]
    });
  }

  // A Gantt of the plan's phases: one bar per phase from its start to its end, the done part
  // filled in proportion to the average progress of its tasks, and a line at today.
  function gantt(data) {
    var phases = data.gantt.filter(function (p) { return p.start && p.end; });
    var c = chart("chart-gantt");
    if (!c || phases.length === 0) { return; }
    var names = phases.map(function (p) { return p.name; });
    var rows = phases.map(function (p, i) {
      return [i, day(p.start), day(p.end), p.percent, p.tasks, p.completed];
    });
    function renderItem(params, api) {
      var row = api.value(0);
      var start = api.coord([api.value(1), row]);
      var end = api.coord([api.value(2), row]);
      var height = api.size([0, 1])[1] * 0.5;
      var width = Math.max(end[0] - start[0], 2);
      var done = width * Math.min(api.value(3), 100) / 100;
      var y = start[1] - height / 2;
      return {
        type: "group",
        children: [
          { type: "rect", shape: { x: start[0], y: y, width: width, height: height },
            style: { fill: "#dee2e6" } },
          { type: "rect", shape: { x: start[0], y: y, width: done, height: height },
            style: { fill: "#0d6efd" } },
          { type: "text", style: { x: start[0] + 4, y: y + height / 2, text: api.value(3) + "%",
            verticalAlign: "middle", fill: "#212529", fontSize: 11 } }
        ]
      };
    }
    c.setOption({
      tooltip: {
        formatter: function (p) {
          var v = p.value;
          return names[v[0]] + "<br>" + new Date(v[1]).toLocaleDateString("zh-CN") + " – " +
            new Date(v[2]).toLocaleDateString("zh-CN") + "<br>" + v[5] + " / " + v[4] +
            " · " + v[3] + "%";
        }
      },
      grid: { left: 110, right: 20, top: 10, bottom: 30 },
      xAxis: { type: "time" },
      yAxis: { type: "category", data: names, inverse: true },
      series: [{
        type: "custom", renderItem: renderItem, encode: { x: [1, 2], y: 0 }, data: rows,
        markLine: { symbol: "none", silent: true, lineStyle: { color: "#dc3545" },
                    label: { formatter: data.labels.today }, data: [{ xAxis: day(data.today) }] }
      }]
    });
  }

  function unitBars(data) {
    var c = chart("chart-units");
    var units = data.units.filter(function (u) { return u.lead > 0; });
    if (!c || units.length === 0) { return; }
    c.setOption({
      tooltip: { trigger: "axis" },
      grid: { left: 130, right: 30, top: 10, bottom: 30 },
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", inverse: true, data: units.map(function (u) { return u.name; }) },
      series: [{
        type: "bar", data: units.map(function (u) {
          return { value: u.percent, itemStyle: { color: u.overdue ? "#dc3545" : "#198754" } };
        }), label: { show: true, position: "right", formatter: "{c}%" }
      }]
    });
  }

  function completenessBar(data) {
    var c = chart("chart-completeness");
    if (!c) { return; }
    var d = data.completeness;
    c.setOption({
      tooltip: { trigger: "item" },
      series: [{
        type: "pie", radius: ["40%", "70%"],
        data: [
          { name: data.labels.on_time, value: d.on_time, itemStyle: { color: "#198754" } },
          { name: data.labels.late, value: d.late, itemStyle: { color: "#ffc107" } },
          { name: data.labels.missing, value: d.missing, itemStyle: { color: "#dee2e6" } }
        ].filter(function (x) { return x.value > 0; }),
        label: { formatter: "{b} {c}" }
      }]
    });
  }

  function start() {
    // Report texts keep the line breaks the unit typed.
    document.querySelectorAll(".report-text").forEach(function (node) {
      node.style.whiteSpace = "pre-wrap";
    });
    var source = document.getElementById("reporting-data");
    if (source) {
      var data = JSON.parse(source.textContent);
      statusPie(data);
      gantt(data);
      unitBars(data);
      completenessBar(data);
    }
    // Choosing a period shows it at once.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
