/* rcfd backtest report: draws the charts of report.c's data with dygraphs (inlined beside this).
 * Per file and key, the charts share one x range: each field's series (the band is each bucket's
 * min to max, the line its mean), anomaly_score with the adaptive threshold, and the alert input
 * with the alert threshold. Labelled windows are shaded, the probationary period is grey, detections are
 * green (inside a window) or red (false positives), alerts without labels orange. Drag to zoom,
 * shift-drag to pan, double-click to reset; the range selector under the first chart moves them
 * all. Charts are drawn when their file scrolls into view; #all in the URL draws every one at
 * once (what the tests and screenshots use). */
(function () {
  "use strict";
  var errors = [];
  window.addEventListener("error", function (e) {
    errors.push(String(e.message || e));
    document.body.setAttribute("data-errors", String(errors.length));
    var box = document.getElementById("rcfd-errors");
    if (box) {
      box.hidden = false;
      box.textContent = "Errors while drawing: " + errors.join("; ");
    }
  });

  var data = JSON.parse(document.getElementById("rcfd-data").textContent);
  var drawn = 0;

  function xval(file, x) {
    return file.time ? new Date(x) : x;
  }

  /* Shades windows and the probation, marks detections: drawn under each chart's lines. */
  function underlay(file, key) {
    return function (ctx, area, g) {
      function span(x0, x1, color) {
        var a = g.toDomXCoord(xval(file, x0)), b = g.toDomXCoord(xval(file, x1));
        if (b < area.x || a > area.x + area.w) return;
        ctx.fillStyle = color;
        ctx.fillRect(a, area.y, Math.max(b - a, 2), area.h); /* never thinner than 2 px */
      }
      if (file.probation !== null && file.probation !== undefined) {
        span(file.x0, file.probation, "rgba(128,128,128,0.15)");
      }
      (file.windows || []).forEach(function (w) { span(w[0], w[1], "rgba(244,160,60,0.30)"); });
      var colors = ["rgba(200,30,30,0.75)", "rgba(20,140,40,0.85)", "rgba(230,120,0,0.8)"];
      ctx.lineWidth = 1;
      (key.det || []).forEach(function (d) {
        var x = g.toDomXCoord(xval(file, d[0]));
        if (x < area.x || x > area.x + area.w) return;
        ctx.strokeStyle = colors[d[1]];
        ctx.beginPath();
        ctx.moveTo(x + 0.5, area.y);
        ctx.lineTo(x + 0.5, area.y + area.h);
        ctx.stroke();
      });
    };
  }

  function band(lo, mid, hi, i) {
    return lo[i] === null ? null : [lo[i], mid[i], hi[i]];
  }

  function rows(file, key, columns) {
    var out = new Array(key.x.length);
    for (var i = 0; i < key.x.length; i++) {
      var r = [xval(file, key.x[i])];
      for (var c = 0; c < columns.length; c++) r.push(columns[c](i));
      out[i] = r;
    }
    return out;
  }

  function charts(section, file, key) {
    var host = section.querySelector(".charts");
    (host._graphs || []).forEach(function (g) { g.destroy(); });
    host.innerHTML = "";
    var common = {
      customBars: true, labelsUTC: true, legend: "always", height: 200,
      interactionModel: Dygraph.defaultInteractionModel,
      axes: { x: { axisLabelWidth: 80 }, y: { axisLabelWidth: 64 } }
    };
    function make(title, labels, columns, opts) {
      var div = document.createElement("div");
      div.className = "chart";
      div.setAttribute("data-chart", title);
      host.appendChild(div);
      var o = { title: title, labels: labels, underlayCallback: underlay(file, key) };
      for (var k in common) o[k] = common[k];
      for (var k2 in opts) o[k2] = opts[k2];
      return new Dygraph(div, rows(file, key, columns), o);
    }
    var xl = file.time ? "time (UTC)" : "record";
    var graphs = [];
    var who = key.name ? " (" + key.name + ")" : "";
    function field(j) {
      return function (i) { return band(key.fl[j], key.fm[j], key.fh[j], i); };
    }
    if (file.fields.length <= 6) {
      /* small multiples: one chart per field, each on its own scale */
      file.fields.forEach(function (f, j) {
        graphs.push(make(f + who, [xl, f], [field(j)],
                         j === 0 ? { showRangeSelector: true, rangeSelectorHeight: 32, height: 190 }
                                 : { height: 150 }));
      });
    } else {
      graphs.push(make("series" + who, [xl].concat(file.fields), file.fields.map(function (f, j) {
        return field(j);
      }), { showRangeSelector: true, rangeSelectorHeight: 32, height: 260 }));
    }
    var g2 = make("anomaly_score and its adaptive threshold", [xl, "anomaly_score", "threshold"],
                  [function (i) { return band(key.sl, key.sh, key.sh, i); },
                   function (i) { return key.t[i] === null ? null : [key.t[i], key.t[i], key.t[i]]; }],
                  { colors: ["#7030a0", "#c00000"],
                    series: { threshold: { strokePattern: Dygraph.DASHED_LINE } } });
    var thr = data.threshold;
    var name = data.input;
    var g3 = make(name + (thr !== null ? " and the alert threshold " + fmt(thr) : ""),
                  thr !== null ? [xl, name, "alert threshold"] : [xl, name],
                  thr !== null
                    ? [function (i) { return band(key.il, key.ih, key.ih, i); },
                       function () { return [thr, thr, thr]; }]
                    : [function (i) { return band(key.il, key.ih, key.ih, i); }],
                  { colors: ["#1f6f3f", "#e06000"],
                    series: { "alert threshold": { strokePattern: Dygraph.DASHED_LINE } } });
    graphs.push(g2, g3);
    host._graphs = graphs;
    var syncing = false;
    graphs.forEach(function (g) {
      g.updateOptions({
        drawCallback: function (me, initial) {
          if (syncing || initial) return;
          syncing = true;
          var r = me.xAxisRange();
          graphs.forEach(function (o) {
            if (o !== me) o.updateOptions({ dateWindow: r });
          });
          syncing = false;
        }
      }, true);
    });
    drawn += graphs.length;
    document.body.setAttribute("data-charts", String(drawn));
  }

  function fmt(v) {
    return Math.abs(v) >= 100 ? v.toFixed(1) : Number(v.toPrecision(4)).toString();
  }

  function render(section) {
    if (section._done) return;
    section._done = true;
    var file = data.files[+section.getAttribute("data-file")];
    if (!file.keys.length) return;
    var select = section.querySelector("select.key");
    if (select) {
      select.addEventListener("change", function () {
        drawn -= (section.querySelector(".charts")._graphs || []).length;
        charts(section, file, file.keys[+select.value]);
      });
    }
    charts(section, file, file.keys[0]);
  }

  function sortable(table) {
    var ths = table.querySelectorAll("th");
    ths.forEach(function (th, col) {
      th.addEventListener("click", function () {
        var body = table.tBodies[0];
        var list = Array.prototype.slice.call(body.rows);
        var dir = th.getAttribute("data-dir") === "asc" ? -1 : 1;
        ths.forEach(function (t) { t.removeAttribute("data-dir"); });
        th.setAttribute("data-dir", dir > 0 ? "asc" : "desc");
        list.sort(function (a, b) {
          var x = a.cells[col].getAttribute("data-v"), y = b.cells[col].getAttribute("data-v");
          if (x !== null && y !== null) return dir * (parseFloat(x) - parseFloat(y));
          return dir * a.cells[col].textContent.localeCompare(b.cells[col].textContent);
        });
        list.forEach(function (r) { body.appendChild(r); });
      });
    });
  }

  document.querySelectorAll("table.sortable").forEach(sortable);
  var sections = document.querySelectorAll("section.file");
  var all = location.hash === "#all" || !("IntersectionObserver" in window);
  if (all) {
    sections.forEach(render);
  } else {
    var io = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (e.isIntersecting) {
          render(e.target);
          io.unobserve(e.target);
        }
      });
    }, { rootMargin: "400px" });
    sections.forEach(function (s) { io.observe(s); });
  }
  document.body.setAttribute("data-ready", "1");
})();
