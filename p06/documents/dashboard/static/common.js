/* Helpers shared by the dashboards (inlined into each page). No network, no globals but P06. */
"use strict";
window.P06 = (function () {
  function data() { return JSON.parse(document.getElementById("p06-data").textContent); }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (v === null || v === undefined || v === false) return;
      if (k === "text") node.textContent = v; else if (k === "cls") node.className = v; else node.setAttribute(k, v);
    });
    (children || []).forEach((c) => node.append(c));
    return node;
  }

  /* Vietnamese text folded for searching: no tone marks, đ as d, lower case. */
  function fold(s) {
    return (s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase();
  }

  /* A sparkline drawn into an <svg viewBox="0 0 100 24">: a gap where a month has no figure, a dashed line at a
     break (indexes), each point titled with its month and text (hover). */
  function spark(svg, values, titles, breaks) {
    const nums = values.filter((v) => v !== null);
    if (!nums.length) return;
    const lo = Math.min(...nums), hi = Math.max(...nums), span = hi - lo || 1;
    const x = (i) => (values.length === 1 ? 50 : (i * 96) / (values.length - 1) + 2);
    const y = (v) => 21 - ((v - lo) / span) * 18;
    let path = "", pen = false;
    values.forEach((v, i) => {
      if (v === null) { pen = false; return; }
      path += (pen ? " L" : " M") + x(i).toFixed(1) + " " + y(v).toFixed(1);
      pen = true;
    });
    const ns = "http://www.w3.org/2000/svg";
    (breaks || []).forEach((b) => {
      const mark = document.createElementNS(ns, "line");
      const bx = (x(b - 1) + x(b)) / 2;
      [["x1", bx], ["x2", bx], ["y1", 0], ["y2", 24], ["stroke", "#6a1b9a"], ["stroke-dasharray", "2 2"],
       ["vector-effect", "non-scaling-stroke"]].forEach(([k, v]) => mark.setAttribute(k, v));
      svg.append(mark);
    });
    const line = document.createElementNS(ns, "path");
    line.setAttribute("d", path.trim()); line.setAttribute("fill", "none"); line.setAttribute("stroke", "#0b5cad");
    line.setAttribute("stroke-width", "1.5"); line.setAttribute("vector-effect", "non-scaling-stroke");
    svg.append(line);
    values.forEach((v, i) => {
      if (v === null) return;
      const dot = document.createElementNS(ns, "circle");
      dot.setAttribute("cx", x(i)); dot.setAttribute("cy", y(v)); dot.setAttribute("r", i === values.length - 1 ? 2.2 : 1.2);
      dot.setAttribute("fill", "#0b5cad");
      if (titles && titles[i]) { const t = document.createElementNS(ns, "title"); t.textContent = titles[i]; dot.append(t); }
      svg.append(dot);
    });
  }

  const charts = [];
  function chart(node) {
    const c = echarts.init(node, null, { renderer: "canvas" });
    charts.push(c);
    return c;
  }
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));

  /* Vertical lines at the months where the units change (the 2025 reform). */
  function breakLines(breaks, months, mark) {
    return breaks.length ? {
      silent: true, symbol: "none", lineStyle: { type: "dashed", color: "#6a1b9a" },
      label: mark ? { formatter: mark, color: "#6a1b9a", fontSize: 10, position: "insideEndTop" } : { show: false },
      data: breaks.map((b) => ({ xAxis: months[b.index] })),
    } : undefined;
  }

  return { data, el, fold, spark, chart, breakLines };
})();
